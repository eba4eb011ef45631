/**
 * A test agent for meshctl: a streaming tool that reports progress and
 * returns structured content, a tool that always reports an error, one
 * that needs the bearer token `s3cret`, and a slow one declaring a timeout.
 *
 * @module
 */

import { mesh, type ToolContext } from "@mesh/sdk";
import { z } from "zod";

/** Counts with progress, and fails on demand. */
@mesh.agent({
  name: "counter",
  description: "meshctl test agent",
  authVerifier: (token) => token === "s3cret",
})
export class CounterAgent {
  /** Counts to `to`, sending one progress notification per step. */
  @mesh.tool({
    capability: "counting",
    description: "Counts to a number, reporting progress",
    streaming: true,
    input: { to: z.number().int().min(1).max(20) },
  })
  async count({ to }: { to: number }, _deps: unknown, context: ToolContext): Promise<object> {
    const token = context._meta?.progressToken;
    for (let step = 1; step <= to; step++) {
      if (token !== undefined) {
        await context.sendNotification({
          method: "notifications/progress",
          params: { progressToken: token, progress: step, total: to, message: `step ${step}` },
        });
      }
    }
    return { counted: to };
  }

  /** Always fails with the given reason. */
  @mesh.tool({
    capability: "failing",
    description: "Fails with the given reason",
    input: { reason: z.string() },
  })
  fail({ reason }: { reason: string }): string {
    throw new Error(reason);
  }

  /** Tells a secret to callers with the token. */
  @mesh.tool({ capability: "secrets", description: "Needs a bearer token", authRequired: true })
  secret(): string {
    return "the secret";
  }

  /** Answers after `seconds`; declares a 2 s timeout, so callers should give up on long naps. */
  @mesh.tool({
    capability: "napping",
    description: "Sleeps, then says so",
    timeout: 2_000,
    input: { seconds: z.number().min(0).max(60) },
  })
  async nap({ seconds }: { seconds: number }): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    return `slept ${seconds}s`;
  }
}
