import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { type AgentHandle, serveStateful, type StatefulServeOptions } from "./mod.ts";
import { StatefulMcpEndpoint } from "./stateful_endpoint.ts";
import { callTool, connectClient, firstText, freeLoopbackUrl } from "./tests/helpers.ts";

const JSON_AND_SSE = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
};

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-11-25",
    capabilities: {},
    clientInfo: { name: "raw", version: "1.0.0" },
  },
});

function toolCall(name: string, args: Record<string, unknown> = {}): string {
  return JSON.stringify({
    jsonrpc: "2.0",
    id: 7,
    method: "tools/call",
    params: { name, arguments: args },
  });
}

/** A counter server: each instance counts its own calls, so sessions show up. */
function counterServer(created: { count: number }): McpServer {
  created.count++;
  const server = new McpServer({ name: "counter", version: "1.0.0" });
  let calls = 0;
  server.registerTool("count", { description: "Counts calls to this server instance" }, () => ({
    content: [{ type: "text", text: String(++calls) }],
  }));
  server.registerTool(
    "secret",
    { inputSchema: { word: z.string() } },
    ({ word }: { word: string }) => ({ content: [{ type: "text", text: `secret ${word}` }] }),
  );
  return server;
}

interface Fixture {
  agent: AgentHandle;
  created: { count: number };
  mcp: string;
}

function withCounter(
  body: (fixture: Fixture) => Promise<void>,
  options: Partial<StatefulServeOptions> = {},
): () => Promise<void> {
  return async () => {
    const created = { count: 0 };
    const agent = await serveStateful(() => counterServer(created), {
      name: "counter",
      httpPort: 0,
      registryUrl: freeLoopbackUrl(),
      tools: { secret: { capability: "secret", authRequired: true } },
      authToken: "s3cret",
      ...options,
    });
    try {
      await body({ agent, created, mcp: `${agent.url}/mcp` });
    } finally {
      await agent.close();
    }
  };
}

/** POSTs `body` and returns the status, session id and JSON-RPC payload of the answer. */
async function post(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; sessionId: string | null; message: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { ...JSON_AND_SSE, ...headers },
    body,
  });
  const text = await response.text();
  const json = response.headers.get("content-type")?.includes("text/event-stream")
    ? text.split("\n").find((line) => line.startsWith("data: {"))?.slice(6) ?? "{}"
    : text;
  return {
    status: response.status,
    sessionId: response.headers.get("mcp-session-id"),
    message: json === "" ? {} : JSON.parse(json),
  };
}

/** Opens a session with a raw `initialize` (and its `initialized` notification). */
async function openSession(mcp: string): Promise<string> {
  const { status, sessionId } = await post(mcp, INITIALIZE);
  assert.equal(status, 200);
  assert.ok(sessionId);
  const initialized = await post(
    mcp,
    '{"jsonrpc":"2.0","method":"notifications/initialized"}',
    { "mcp-session-id": sessionId },
  );
  assert.equal(initialized.status, 202);
  return sessionId;
}

/**
 * Sends an `initialize` over a raw connection: `fetch` does not let a caller
 * choose the `Host` header, a DNS-rebinding attacker's browser effectively does.
 */
async function rawInitialize(
  url: URL,
  headers: Record<string, string>,
): Promise<{ status: number; response: string }> {
  const connection = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  const head = Object.entries({
    ...JSON_AND_SSE,
    "content-length": String(new TextEncoder().encode(INITIALIZE).length),
    connection: "close",
    ...headers,
  }).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  const writer = connection.writable.getWriter();
  await writer.write(new TextEncoder().encode(`POST /mcp HTTP/1.1\r\n${head}\r\n${INITIALIZE}`));
  writer.releaseLock();
  const response = await new Response(connection.readable).text();
  return { status: Number(response.split(" ", 2)[1]), response };
}

Deno.test(
  "each MCP session gets its own server; DELETE ends it",
  withCounter(async ({ agent, created, mcp }) => {
    // One instance exists before any session: the one the agent registers and lists.
    assert.equal(created.count, 1);
    const [first, second] = [await connectClient(agent.url), await connectClient(agent.url)];
    try {
      assert.equal(created.count, 3);
      assert.equal(firstText(await callTool(first, "count")), "1");
      assert.equal(firstText(await callTool(first, "count")), "2");
      assert.equal(firstText(await callTool(second, "count")), "1");
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
    const sessionId = await openSession(mcp);
    const stream = await fetch(mcp, {
      headers: { accept: "text/event-stream", "mcp-session-id": sessionId },
    });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get("content-type"), "text/event-stream");
    await stream.body?.cancel();
    const deleted = await fetch(mcp, {
      method: "DELETE",
      headers: { "mcp-session-id": sessionId },
    });
    await deleted.body?.cancel();
    assert.equal(deleted.status, 200);
    const after = await post(mcp, toolCall("count"), { "mcp-session-id": sessionId });
    assert.deepEqual([after.status, after.message.error], [404, {
      code: -32001,
      message: "Session not found",
    }]);
  }),
);

Deno.test(
  "a sessionless tools/call is served by the registered server; other sessionless requests get clear errors",
  withCounter(async ({ created, mcp }) => {
    const call = await post(mcp, toolCall("count"));
    assert.equal(call.status, 200);
    assert.equal(call.sessionId, null);
    assert.deepEqual(call.message.result, { content: [{ type: "text", text: "1" }] });
    assert.equal(created.count, 1, "no session was opened");
    const stream = await fetch(mcp, { headers: { accept: "text/event-stream" } });
    assert.deepEqual([stream.status, (await stream.json()).error.message], [
      400,
      "Bad Request: Mcp-Session-Id header is required",
    ]);
    const notJson = await post(mcp, "{not json");
    assert.deepEqual([notJson.status, notJson.message.error], [400, {
      code: -32700,
      message: "Parse error: the body is not JSON",
    }]);
  }),
);

Deno.test(
  "the call gate guards tool calls inside a session too",
  withCounter(async ({ agent, mcp }) => {
    const sessionId = await openSession(mcp);
    const refused = await post(mcp, toolCall("secret", { word: "a" }), {
      "mcp-session-id": sessionId,
    });
    assert.equal(refused.status, 401);
    assert.match(String((refused.message.error as { message: string }).message), /bearer token/);
    const admitted = await post(mcp, toolCall("secret", { word: "a" }), {
      "mcp-session-id": sessionId,
      authorization: "Bearer s3cret",
    });
    assert.equal(admitted.status, 200);
    assert.deepEqual(admitted.message.result, { content: [{ type: "text", text: "secret a" }] });
    const batch = await post(mcp, `[${toolCall("count")}]`, { "mcp-session-id": sessionId });
    assert.equal(batch.status, 400);
    // Session calls are counted like stateless ones.
    const metrics = await (await fetch(`${agent.url}/metrics`)).text();
    assert.match(metrics, /tool="secret"[^\n]*status="success"[^\n]* 1\n/);
  }),
);

Deno.test(
  "requests naming a foreign Host or Origin are refused (DNS rebinding)",
  withCounter(async ({ created, mcp }) => {
    const url = new URL(mcp);
    const foreignHost = await rawInitialize(url, { host: "evil.example.com" });
    assert.equal(foreignHost.status, 403);
    assert.match(foreignHost.response, /Forbidden: Host header \\"evil.example.com\\"/);
    const foreignOrigin = await rawInitialize(url, {
      host: url.host,
      origin: "http://evil.example.com",
    });
    assert.equal(foreignOrigin.status, 403);
    assert.match(
      foreignOrigin.response,
      /Forbidden: Origin header \\"http:\/\/evil.example.com\\"/,
    );
    assert.equal(created.count, 1, "no session was opened");
    const local = await rawInitialize(url, {
      host: `localhost:${url.port}`,
      origin: `http://${url.host}`,
    });
    assert.equal(local.status, 200);
    assert.match(local.response, /mcp-session-id: /i);
  }),
);

Deno.test(
  "a session without requests for the idle timeout is closed",
  withCounter(async ({ mcp }) => {
    const sessionId = await openSession(mcp);
    for (let wait = 0;; wait++) {
      const { status } = await post(mcp, toolCall("count"), { "mcp-session-id": sessionId });
      if (status === 404) break;
      assert.ok(wait < 1_000, "the idle session was never closed");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, { idleTimeoutMs: 30 }),
);

Deno.test(
  "each session gets its own event store when one is configured",
  async () => {
    let stores = 0;
    const created = { count: 0 };
    const agent = await serveStateful(() => counterServer(created), {
      name: "resumable",
      httpPort: 0,
      registryUrl: freeLoopbackUrl(),
      createEventStore: () => {
        stores++;
        const events = new Map<string, { streamId: string; message: unknown }>();
        return {
          storeEvent: (streamId, message) => {
            const id = `${streamId}.${events.size}`;
            events.set(id, { streamId, message });
            return Promise.resolve(id);
          },
          replayEventsAfter: () => Promise.reject(new Error("not replayed in this test")),
        };
      },
    });
    try {
      const mcp = `${agent.url}/mcp`;
      await openSession(mcp);
      await openSession(mcp);
      assert.equal(stores, 2);
      // The SSE answer carries the stored event's id.
      const response = await fetch(mcp, {
        method: "POST",
        headers: { ...JSON_AND_SSE },
        body: INITIALIZE,
      });
      assert.match(await response.text(), /^id: \S+\.\d+$/m);
      assert.equal(stores, 3);
    } finally {
      await agent.close();
    }
  },
);

Deno.test("drain() ends standalone SSE streams and refuses new ones, sessions keep working", async () => {
  const created = { count: 0 };
  const endpoint = new StatefulMcpEndpoint({ createServer: () => counterServer(created) });
  const primary = counterServer(created);
  await primary.connect(endpoint);
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => endpoint.handle(request),
  );
  const mcp = `http://127.0.0.1:${http.addr.port}/mcp`;
  try {
    const sessionId = await openSession(mcp);
    const stream = await fetch(mcp, {
      headers: { accept: "text/event-stream", "mcp-session-id": sessionId },
    });
    assert.equal(stream.status, 200);
    const ended = stream.text();
    endpoint.drain();
    await ended;
    const again = await fetch(mcp, {
      headers: { accept: "text/event-stream", "mcp-session-id": sessionId },
    });
    assert.deepEqual([again.status, (await again.json()).error.message], [
      503,
      "Service Unavailable: the agent is shutting down",
    ]);
    assert.equal((await post(mcp, INITIALIZE)).status, 503);
    const call = await post(mcp, toolCall("count"), { "mcp-session-id": sessionId });
    assert.deepEqual(call.message.result, { content: [{ type: "text", text: "1" }] });
  } finally {
    await primary.close();
    await http.shutdown();
  }
});
