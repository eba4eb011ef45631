import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types";
import type { Client } from "@modelcontextprotocol/sdk/client/index";
import { z } from "zod";
import { type AgentHandle, mesh, serve, startAgent, type ToolContext } from "./mod.ts";
import { callTool, connectClient, firstText } from "./tests/helpers.ts";

/** A loopback URL where nothing listens: the registry is "down". */
function deadUrl(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return `http://127.0.0.1:${port}`;
}

@mesh.agent({ name: "unit", autoRun: false })
class UnitAgent {
  @mesh.tool({
    capability: "echo",
    title: "Echo",
    description: "Echoes a name",
    input: { name: z.string().describe("Who"), times: z.number().int().optional() },
    annotations: { readOnlyHint: true },
  })
  echo({ name, times }: { name: string; times?: number }): string {
    return name.repeat(times ?? 1);
  }

  @mesh.tool({
    capability: "point",
    input: z.object({ x: z.number() }),
    output: { x: z.number(), double: z.number() },
  })
  point({ x }: { x: number }): Record<string, number> {
    return { x, double: x * 2 };
  }

  @mesh.tool({ capability: "broken_point", output: { x: z.number() } })
  broken_point(): Record<string, unknown> {
    return { x: "not a number" };
  }

  @mesh.tool({ capability: "raw" })
  raw(): CallToolResult {
    return { content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] };
  }

  @mesh.tool({ capability: "fail" })
  fail(): never {
    throw new Error("the disk is on fire");
  }

  @mesh.tool({ capability: "secret", authRequired: true })
  secret(): string {
    return "the secret";
  }

  @mesh.tool({ capability: "headers" })
  headers(_args: unknown, _deps: unknown, context: ToolContext): Record<string, unknown> {
    return { header: context.requestInfo?.headers["x-test"] ?? null };
  }
}

async function withAgent(
  fn: (agent: AgentHandle) => Promise<void>,
  authToken?: string,
): Promise<void> {
  const agent = await startAgent(UnitAgent, {
    registryUrl: deadUrl(),
    heartbeatInterval: 0.2,
    authToken,
  });
  try {
    await fn(agent);
  } finally {
    await agent.close();
  }
}

Deno.test("tools/list shows derived schemas, title and annotations", async () => {
  await withAgent(async (agent) => {
    const client = await connectClient(agent.url);
    try {
      const { tools }: { tools: Tool[] } = await client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name).sort(), [
        "broken_point",
        "echo",
        "fail",
        "headers",
        "point",
        "raw",
        "secret",
      ]);
      const echo = tools.find((tool) => tool.name === "echo")!;
      assert.equal(echo.title, "Echo");
      assert.equal(echo.description, "Echoes a name");
      assert.deepEqual(echo.annotations, { readOnlyHint: true });
      assert.equal(echo.inputSchema.type, "object");
      assert.deepEqual(echo.inputSchema.required, ["name"]);
      assert.deepEqual(Object.keys(echo.inputSchema.properties ?? {}), ["name", "times"]);
      const point = tools.find((tool) => tool.name === "point")!;
      assert.deepEqual(Object.keys(point.outputSchema?.properties ?? {}), ["x", "double"]);
    } finally {
      await client.close();
    }
  });
});

Deno.test("return values map to text, structured content and pass-through results", async () => {
  await withAgent(async (agent) => {
    const client = await connectClient(agent.url);
    try {
      const text = await callTool(client, "echo", { name: "ab", times: 2 });
      assert.deepEqual(text, { content: [{ type: "text", text: "abab" }] });

      const structured = await callTool(client, "point", { x: 21 });
      assert.deepEqual(structured.structuredContent, { x: 21, double: 42 });
      assert.deepEqual(JSON.parse(firstText(structured)), { x: 21, double: 42 });

      const raw = await callTool(client, "raw");
      assert.deepEqual(raw.content, [{ type: "text", text: "a" }, { type: "text", text: "b" }]);

      const failed = await callTool(client, "fail");
      assert.equal(failed.isError, true);
      assert.equal(firstText(failed), "the disk is on fire");
    } finally {
      await client.close();
    }
  });
});

Deno.test("invalid arguments, bad output and unknown tools answer errors naming the problem", async () => {
  await withAgent(async (agent) => {
    const client = await connectClient(agent.url);
    try {
      const invalid = await callTool(client, "echo", { name: 42 });
      assert.equal(invalid.isError, true);
      assert.match(firstText(invalid), /Input validation error/);
      assert.match(firstText(invalid), /expected string, received number at name/);

      const badOutput = await callTool(client, "broken_point");
      assert.equal(badOutput.isError, true);
      assert.match(
        firstText(badOutput),
        /Output validation error for tool broken_point: .*expected number.*→ at x/s,
      );

      const unknown = await callTool(client, "no_such_tool");
      assert.equal(unknown.isError, true);
      assert.match(firstText(unknown), /Tool no_such_tool not found/);

      // The agent survived all of it.
      assert.equal(firstText(await callTool(client, "echo", { name: "ok" })), "ok");
    } finally {
      await client.close();
    }
  });
});

Deno.test("authRequired tools need the agent's bearer token", async () => {
  await withAgent(async (agent) => {
    const anonymous = await connectClient(agent.url);
    const wrong = await connectClient(agent.url, { Authorization: "Bearer nope" });
    const right = await connectClient(agent.url, { Authorization: "Bearer s3cret" });
    try {
      for (const client of [anonymous, wrong]) {
        await assert.rejects(callTool(client, "secret"), (error: Error & { code?: number }) => {
          assert.equal(error.code, 401);
          assert.match(error.message, /tool secret requires a valid bearer token/);
          return true;
        });
      }
      assert.equal(firstText(await callTool(right, "secret")), "the secret");
      // Tools without authRequired ignore the header.
      assert.equal(firstText(await callTool(anonymous, "echo", { name: "x" })), "x");
    } finally {
      await Promise.all([anonymous.close(), wrong.close(), right.close()]);
    }
  }, "s3cret");
});

Deno.test("tool methods receive the MCP request context", async () => {
  await withAgent(async (agent) => {
    const client = await connectClient(agent.url, { "X-Test": "yes" });
    try {
      const result = await callTool(client, "headers");
      assert.deepEqual(result.structuredContent, { header: "yes" });
    } finally {
      await client.close();
    }
  });
});

Deno.test("health, readiness, liveness and mesh info routes", async () => {
  await withAgent(async (agent) => {
    assert.match(agent.agentId, /^unit-[0-9a-f]{8}$/);
    const get = async (path: string, method = "GET") => {
      const response = await fetch(`${agent.url}${path}`, { method });
      return { status: response.status, body: method === "HEAD" ? null : await response.json() };
    };
    assert.deepEqual((await get("/health")).status, 200);
    assert.equal((await get("/health")).body.status, "healthy");
    assert.equal((await get("/health", "HEAD")).status, 200);
    const ready = await get("/ready");
    assert.equal(ready.status, 200);
    assert.equal(ready.body.runtime, "standalone");
    assert.equal((await get("/livez")).body.alive, true);
    const info = (await get("/mesh/info")).body;
    assert.equal(info.agent_id, agent.agentId);
    assert.equal(info.http_endpoint, agent.url);
    assert.equal(info.registered, false);
    assert.ok(info.capabilities.includes("echo"));
    assert.equal((await get("/nope")).status, 404);
    const stream = await get("/mcp");
    assert.equal(stream.status, 405);
  });
});

Deno.test("a failing health check answers 503 on /health", async () => {
  @mesh.agent({
    name: "sick",
    autoRun: false,
    healthCheck: () => ({ status: "unhealthy", errors: ["db down"] }),
  })
  class SickAgent {}
  const agent = await startAgent(SickAgent, { registryUrl: deadUrl() });
  try {
    const response = await fetch(`${agent.url}/health`);
    assert.equal(response.status, 503);
    assert.deepEqual((await response.json()).errors, ["db down"]);
  } finally {
    await agent.close();
  }
});

Deno.test("serve() turns an existing McpServer into an agent", async () => {
  const server = new McpServer({ name: "legacy", version: "1.0.0" });
  server.registerTool(
    "shout",
    { inputSchema: { text: z.string() } },
    ({ text }: { text: string }) => ({
      content: [{ type: "text", text: text.toUpperCase() }],
    }),
  );
  const agent = await serve(server, {
    name: "legacy",
    registryUrl: deadUrl(),
    tools: { shout: { capability: "loud" } },
  });
  const client = await connectClient(agent.url);
  try {
    assert.equal(firstText(await callTool(client, "shout", { text: "hi" })), "HI");
    const info = await (await fetch(`${agent.url}/mesh/info`)).json();
    assert.deepEqual(info.capabilities, ["loud"]);
  } finally {
    await client.close();
    await agent.close();
  }
});

Deno.test("concurrent clients share one agent", async () => {
  await withAgent(async (agent) => {
    const clients: Client[] = await Promise.all([1, 2, 3].map(() => connectClient(agent.url)));
    try {
      const answers = await Promise.all(
        clients.flatMap((client: Client, i: number) =>
          [1, 2, 3].map((j) => callTool(client, "echo", { name: `${i}${j}` }))
        ),
      );
      assert.deepEqual(answers.map(firstText), [
        "01",
        "02",
        "03",
        "11",
        "12",
        "13",
        "21",
        "22",
        "23",
      ]);
    } finally {
      await Promise.all(clients.map((client: Client) => client.close()));
    }
  });
});

Deno.test("input must be a zod object or shape", async () => {
  @mesh.agent({ name: "wrong", autoRun: false })
  class WrongAgent {
    @mesh.tool({ input: z.string() })
    wrong(): string {
      return "never";
    }
  }
  await assert.rejects(
    startAgent(WrongAgent, { registryUrl: deadUrl() }),
    /tool wrong: input\/output must be a zod object or a shape of one/,
  );
});
