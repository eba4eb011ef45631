/**
 * The `hello` agent: greetings, one of them stamped with the time from
 * whichever agent provides `time_service`. Run it with
 * `deno run -A examples/hello/main.ts`.
 *
 * @module
 */

import { type McpMeshTool, mesh } from "@mesh/sdk";
import { z } from "zod";

/** Greets people, with the mesh's time when a time service is wired. */
@mesh.agent({ name: "hello", description: "Greetings, optionally with the time" })
export class HelloAgent {
  /** A plain greeting. */
  @mesh.tool({
    capability: "greeting",
    description: "Greets someone by name",
    input: { name: z.string().min(1).describe("Who to greet") },
  })
  say_hello({ name }: { name: string }): string {
    return `Hello, ${name}!`;
  }

  /** A greeting stamped with the time service's answer, or "time unavailable". */
  @mesh.tool({
    capability: "time_greeting",
    description: "Greets someone with the current time from the mesh's time service",
    input: { name: z.string().min(1).describe("Who to greet") },
    dependencies: ["time_service"],
  })
  async greet_with_time(
    { name }: { name: string },
    [time]: (McpMeshTool | undefined)[],
  ): Promise<string> {
    if (!time) return `Hello, ${name}! (time unavailable)`;
    try {
      return `Hello, ${name}! The time is ${await time.call()}.`;
    } catch (error) {
      return `Hello, ${name}! (time unavailable: ${(error as Error).message})`;
    }
  }
}
