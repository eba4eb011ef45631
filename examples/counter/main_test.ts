import assert from "node:assert/strict";
import {
  callTool,
  connectClient,
  freeLoopbackUrl,
  spawnExample,
} from "../../mesh/tests/helpers.ts";
import { startAgent } from "@mesh/sdk";

// Imported without starting: this test starts the class itself.
Deno.env.set("MCP_MESH_AUTO_RUN", "false");
const { CounterAgent } = await import("./main.ts");
Deno.env.delete("MCP_MESH_AUTO_RUN");

Deno.test("counter: two sessions count independently in one replica, which names itself", async () => {
  const agent = await startAgent(CounterAgent, { registryUrl: freeLoopbackUrl(), httpPort: 0 });
  const client = await connectClient(agent.url);
  try {
    const { tools } = await client.listTools();
    const increment = tools.find((tool) => tool.name === "increment");
    assert.ok(increment?.outputSchema, "increment declares its structured result");

    const count = async (args: Record<string, unknown>) => {
      const result = await callTool(client, "increment", args);
      assert.ok(!result.isError, JSON.stringify(result));
      return result.structuredContent;
    };
    assert.deepEqual(await count({ session_id: "a" }), {
      session_id: "a",
      count: 1,
      agent_id: agent.agentId,
    });
    assert.equal((await count({ session_id: "b", by: 5 }))?.count, 5);
    assert.equal((await count({ session_id: "a", by: 2 }))?.count, 3);
    assert.equal((await count({ session_id: "b" }))?.count, 6);
    assert.equal((await count({ session_id: "a", by: -3 }))?.count, 0);

    const fractional = await callTool(client, "increment", { session_id: "a", by: 1.5 });
    assert.equal(fractional.isError, true);
    assert.match(JSON.stringify(fractional.content), /by/);
    const anonymous = await callTool(client, "increment", { by: 1 });
    assert.equal(anonymous.isError, true);
    assert.match(JSON.stringify(anonymous.content), /session_id/);
    assert.equal((await count({ session_id: "a" }))?.count, 1, "refused calls change nothing");
  } finally {
    await client.close();
    await agent.close();
  }
});

Deno.test("counter: `deno run examples/counter/main.ts` serves and reports its own agent id", async () => {
  const agent = await spawnExample("examples/counter/main.ts", {
    MCP_MESH_REGISTRY_URL: freeLoopbackUrl(),
    MCP_MESH_HTTP_PORT: "0",
  });
  try {
    const client = await connectClient(agent.url);
    try {
      const result = await callTool(client, "increment", { session_id: "s", by: 4 });
      assert.deepEqual(result.structuredContent, {
        session_id: "s",
        count: 4,
        agent_id: agent.agentId,
      });
    } finally {
      await client.close();
    }
  } finally {
    assert.equal((await agent.stop()).code, 0);
  }
});
