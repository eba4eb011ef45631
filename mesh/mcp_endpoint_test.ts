import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types";
import { z } from "zod";
import { currentCallContext } from "./call_context.ts";
import type { FastTool } from "./fast_call.ts";
import { type McpEndpointOptions, StatelessMcpEndpoint } from "./mcp_endpoint.ts";
import type { ToolContext } from "./mcp_types.ts";
import { postToolCall, waitFor } from "./tests/helpers.ts";

const input = z.object({ text: z.string() });

/** Calls of `echo` with text `hold {label}`: they wait until aborted or released. */
interface Holds {
  started: Set<string>;
  aborted: Set<string>;
  /** Lets every held call return. */
  release(): void;
}

/** Waits until `signal` aborts (recorded in `holds`) or the calls are released. */
function hold(label: string, signal: AbortSignal, holds: Holds, releases: (() => void)[]) {
  holds.started.add(label);
  return new Promise<void>((resolve) => {
    releases.push(resolve);
    signal.addEventListener("abort", () => {
      holds.aborted.add(label);
      resolve();
    }, { once: true });
  });
}

/**
 * An McpServer with tool `echo` on an endpoint; `runs` counts executions,
 * `holds` follows the calls that hold.
 */
async function withEndpoint(
  options: McpEndpointOptions,
  fn: (url: string, runs: () => number, holds: Holds) => Promise<void>,
): Promise<void> {
  let runs = 0;
  const releases: (() => void)[] = [];
  const holds: Holds = {
    started: new Set(),
    aborted: new Set(),
    release: () => releases.forEach((release) => release()),
  };
  const run = async (
    args: Record<string, unknown>,
    context: ToolContext,
  ): Promise<CallToolResult> => {
    runs++;
    if (args.text === "fail") throw new Error("echo failed");
    const held = /^hold (.+)$/.exec(String(args.text))?.[1];
    if (held) await hold(held, context.signal, holds, releases);
    const deadline = currentCallContext()?.deadline;
    return Promise.resolve({
      content: [{
        type: "text",
        text: `${args.text} ${deadline === undefined ? "-" : "deadline"}`,
      }],
    });
  };
  const server = new McpServer({ name: "endpoint-test", version: "1.0.0" });
  server.registerTool("echo", { inputSchema: input }, async (args, extra) => {
    try {
      return await run(args, extra as unknown as ToolContext);
    } catch (error) {
      return { content: [{ type: "text", text: (error as Error).message }], isError: true };
    }
  });
  const tool: FastTool = {
    input,
    hasOutputSchema: false,
    hasDependencies: true, // it reads the call context, as proxies do
    run: async (args, context) => {
      try {
        return await run(args, context);
      } catch (error) {
        return { content: [{ type: "text", text: (error as Error).message }], isError: true };
      }
    },
  };
  const endpoint = new StatelessMcpEndpoint({
    ...options,
    fastTools: {
      tool: (name) => name === "echo" ? tool : undefined,
      notify: (notification, relatedRequestId) =>
        server.server.notification(
          notification as Parameters<typeof server.server.notification>[0],
          { relatedRequestId },
        ),
    },
  });
  await server.connect(endpoint);
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => endpoint.handle(request),
  );
  try {
    await fn(`http://127.0.0.1:${http.addr.port}/mcp`, () => runs, holds);
  } finally {
    await http.shutdown();
    await server.close();
  }
}

function callEcho(url: string, text: string, headers: Record<string, string> = {}) {
  return postToolCall(url, "echo", { text }, headers);
}

/** Posts one JSON-RPC message as an MCP client does. */
function postMessage(url: string, message: Record<string, unknown>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", ...message }),
  });
}

for (const forceStandard of [false, true]) {
  const path = forceStandard ? "standard path" : "fast path";

  Deno.test(`${path}: the interceptor sees each call and may answer it without running it`, async () => {
    const seen: unknown[] = [];
    await withEndpoint({
      forceStandard,
      interceptToolCall: async (call, next) => {
        seen.push({
          name: call.name,
          args: call.args,
          id: call.id,
          auth: call.request.headers.get("authorization"),
        });
        if (call.request.headers.get("authorization") !== "Bearer ok") {
          return Response.json({ error: "unauthorized" }, { status: 401 });
        }
        return await next();
      },
    }, async (url, runs) => {
      const denied = await callEcho(url, "hi");
      assert.equal(denied.response.status, 401);
      assert.equal(runs(), 0);
      const allowed = await callEcho(url, "hi", { Authorization: "Bearer ok" });
      assert.equal(allowed.response.status, 200);
      assert.match(allowed.body, /"text":"hi -"/);
      assert.equal(runs(), 1);
      // Only the fast path answers with a sized body; the transport streams.
      assert.equal(allowed.response.headers.has("content-length"), !forceStandard);
      assert.deepEqual(seen, [
        { name: "echo", args: { text: "hi" }, id: 7, auth: null },
        { name: "echo", args: { text: "hi" }, id: 7, auth: "Bearer ok" },
      ]);
    });
  });

  Deno.test(`${path}: the tool runs inside runInCallContext by default`, async () => {
    await withEndpoint({ forceStandard }, async (url) => {
      const { body } = await callEcho(url, "timed", { "X-Mesh-Timeout": "5" });
      assert.match(body, /"text":"timed deadline"/);
    });
  });

  Deno.test(`${path}: a runCall wrapper replaces the default`, async () => {
    const wrapped: string[] = [];
    await withEndpoint({
      forceStandard,
      runCall: (request, fn) => {
        wrapped.push(request.headers.get("x-trace") ?? "");
        return fn();
      },
    }, async (url) => {
      const { body } = await callEcho(url, "plain", { "X-Mesh-Timeout": "5", "X-Trace": "t1" });
      assert.match(body, /"text":"plain -"/);
      assert.deepEqual(wrapped, ["t1"]);
    });
  });

  Deno.test(`${path}: notifications/cancelled aborts the one pending call with that id`, async () => {
    await withEndpoint({ forceStandard }, async (url, _runs, holds) => {
      const holdCall = (id: number, label: string) =>
        postMessage(url, {
          id,
          method: "tools/call",
          params: { name: "echo", arguments: { text: `hold ${label}` } },
        });
      const cancel = async (requestId: number) => {
        const response = await postMessage(url, {
          method: "notifications/cancelled",
          params: { requestId, reason: "stop" },
        });
        assert.equal(response.status, 202);
        await response.body?.cancel();
      };
      // Two clients both use id 7: a cancellation of 7 cannot tell them apart.
      const calls = [holdCall(7, "a"), holdCall(7, "b"), holdCall(8, "c")];
      await waitFor("calls held", () => holds.started.size === 3 || undefined);
      await cancel(7);
      await cancel(8);
      await waitFor("c aborted", () => holds.aborted.has("c") || undefined);
      assert.deepEqual([...holds.aborted], ["c"]);
      holds.release();
      const [a, b, c] = await Promise.all(calls);
      assert.match(await a.text(), /"text":"hold a -"/);
      assert.match(await b.text(), /"text":"hold b -"/);
      // The SDK answers nothing to a cancelled request (its stream stays open).
      await c.body?.cancel();
    });
  });

  Deno.test(`${path}: onToolResult reports each call once with its outcome`, async () => {
    const results: [string, string][] = [];
    await withEndpoint({
      forceStandard,
      onToolResult: (name, outcome, seconds) => {
        assert.ok(seconds >= 0 && seconds < 60);
        results.push([name, outcome]);
      },
    }, async (url) => {
      await callEcho(url, "ok");
      await callEcho(url, "fail");
      assert.deepEqual(results, [["echo", "success"], ["echo", "error"]]);
    });
  });
}

Deno.test("a batch holding a tools/call is refused while an interceptor is set", async () => {
  await withEndpoint({ interceptToolCall: (_call, next) => next() }, async (url, runs) => {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
      },
      body: JSON.stringify([{
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "echo", arguments: { text: "x" } },
      }]),
    });
    assert.equal(response.status, 400);
    assert.match((await response.json()).error.message, /cannot be batched/);
    assert.equal(runs(), 0);
  });
});

Deno.test("GET is refused in stateless mode", async () => {
  await withEndpoint({}, async (url) => {
    const response = await fetch(url);
    assert.equal(response.status, 405);
    assert.equal(response.headers.get("allow"), "POST");
    await response.body?.cancel();
  });
});
