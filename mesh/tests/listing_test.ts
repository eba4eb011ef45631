/**
 * A decorated agent registers without loading the MCP SDK: it lists its own
 * tools (zod → JSON Schema as the SDK converts them). For every example tool
 * and a few edge shapes, what the registry stored must equal the
 * registration built from the SDK's own `tools/list` answer, fetched over
 * HTTP from the same agent with the official MCP client.
 *
 * @module
 */

import assert from "node:assert/strict";
import { serveRegistry } from "@mesh/registry";
import type { AgentInfo, CapabilityInfo } from "@mesh/sdk/protocol";
import { z } from "zod";
import { type AgentClass, agentDefinition } from "../definition.ts";
import { mesh, startAgent } from "../mod.ts";
import { toToolRegistration } from "../registration.ts";
import { connectClient, waitFor } from "./helpers.ts";

// The example modules start themselves unless told not to.
Deno.env.set("MCP_MESH_AUTO_RUN", "false");
const { SystemAgent } = await import("../../examples/system/main.ts");
const { HelloAgent } = await import("../../examples/hello/main.ts");
const { WeatherAgent } = await import("../../examples/weather/main.ts");
const { CounterAgent } = await import("../../examples/counter/main.ts");
Deno.env.delete("MCP_MESH_AUTO_RUN");

/** Shapes the examples do not cover: no input, output schemas, defaults, annotations. */
@mesh.agent({ name: "shapes", autoRun: false })
class ShapesAgent {
  @mesh.tool({ capability: "bare", title: "Bare", annotations: { idempotentHint: true } })
  bare(): string {
    return "bare";
  }

  @mesh.tool({
    capability: "shaped",
    input: z.object({
      when: z.iso.datetime().optional(),
      count: z.number().int().min(1).default(3),
      mode: z.enum(["a", "b"]).describe("Which mode"),
      pair: z.tuple([z.string(), z.number()]).nullable(),
      nested: z.object({ tags: z.array(z.string()).max(4) }).partial(),
      either: z.union([z.literal("x"), z.number()]),
      piped: z.string().transform((text) => text.length),
    }),
    output: { length: z.number(), note: z.string().default("none") },
    tags: ["edge"],
    version: "2.0.0",
  })
  shaped({ piped }: { piped: number }): { length: number } {
    return { length: piped };
  }
}

/** What the registry keeps of one tool, in the shape of `CapabilityInfo`. */
type StoredTool = Omit<CapabilityInfo, "available" | "unavailable_reason">;

function stored(capability: CapabilityInfo): StoredTool {
  const { available: _available, unavailable_reason: _reason, ...tool } = capability;
  return tool;
}

Deno.test("every example tool registers what the SDK's tools/list lists", async () => {
  const dir = await Deno.makeTempDir({ prefix: "listing-test-" });
  const registry = serveRegistry({ port: 0, databaseUrl: `${dir}/registry.db` });
  const classes: AgentClass[] = [
    SystemAgent,
    HelloAgent,
    WeatherAgent,
    CounterAgent,
    ShapesAgent,
  ];
  try {
    for (const agentClass of classes) {
      const agent = await startAgent(agentClass, {
        httpPort: 0,
        registryUrl: registry.url,
        heartbeatInterval: 0.2,
      });
      try {
        const info = await waitFor(`${agent.name} registered`, async () => {
          const response = await fetch(`${registry.url}/agents/${agent.agentId}`);
          if (response.status !== 200) return void await response.body?.cancel();
          return await response.json() as AgentInfo;
        });
        const client = await connectClient(agent.url);
        try {
          const { tools } = await client.listTools();
          assert.ok(tools.length > 0, `${agent.name} lists tools`);
          const fromSdk = tools.map((tool) => {
            const options = agentDefinition(agentClass).tools
              .find((definition) => definition.name === tool.name)!.options;
            const { function_name, capability, version, tags, description, ...schemas } =
              toToolRegistration(tool, options);
            const { inputSchema, outputSchema, kwargs } = schemas;
            return JSON.parse(JSON.stringify({
              name: capability,
              version,
              function_name,
              tags,
              description,
              inputSchema,
              outputSchema,
              kwargs,
            })) as StoredTool;
          });
          assert.deepEqual(info.capabilities.map(stored), fromSdk, agent.name);
        } finally {
          await client.close();
        }
      } finally {
        await agent.close();
      }
    }
  } finally {
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});
