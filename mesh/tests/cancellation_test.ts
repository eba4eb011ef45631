/**
 * Cancellation passes through the mesh: a client cancelling a tool call (MCP
 * `notifications/cancelled`, or its HTTP request going away) aborts the
 * consumer's call and, through its dependency proxy, the provider's tool.
 * Real registry (SQLite in a temp dir), agents on loopback, official client.
 */

import assert from "node:assert/strict";
import { type RunningRegistry, serveRegistry } from "@mesh/registry";
// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import type { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import {
  type AgentHandle,
  type McpMeshTool,
  mesh,
  serve,
  serveStateful,
  startAgent,
} from "../mod.ts";
import type { ToolContext } from "../mod.ts";
import { connectClient, waitFor } from "./helpers.ts";

/** Labels of the provider calls that started, and of those whose signal aborted. */
const started = new Set<string>();
const aborted = new Set<string>();

/** Resolves when `signal` aborts (recording `label`), or after 20 s. */
function sleepUntilAborted(label: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 20_000);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      aborted.add(label);
      resolve();
    }, { once: true });
  });
}

@mesh.agent({ name: "sleeper", autoRun: false })
class SleeperAgent {
  @mesh.tool({ capability: "sleep_until_cancelled", input: { label: z.string() } })
  async sleep(
    { label }: { label: string },
    _dependencies: unknown,
    context: ToolContext,
  ): Promise<string> {
    started.add(label);
    await sleepUntilAborted(label, context.signal);
    return "woke up";
  }
}

@mesh.agent({ name: "waiter", autoRun: false })
class WaiterAgent {
  /** Never reads its own signal: the proxy inherits the served call's. */
  @mesh.tool({
    capability: "wait_on_sleeper",
    dependencies: ["sleep_until_cancelled"],
    input: { label: z.string() },
  })
  async wait(
    { label }: { label: string },
    [sleeper]: (McpMeshTool | undefined)[],
  ): Promise<unknown> {
    return await sleeper!.call({ label });
  }
}

/**
 * A plain McpServer whose `relay` tool calls its `sleep_until_cancelled`
 * dependency (from `handle()`), watching its own signal meanwhile.
 */
function relayServer(handle: () => AgentHandle | undefined): McpServer {
  const server = new McpServer({ name: "relay", version: "1.0.0" });
  server.registerTool(
    "relay",
    { inputSchema: { label: z.string() } },
    async ({ label }: { label: string }, extra: { signal: AbortSignal }) => {
      const own = sleepUntilAborted(`${label}:consumer`, extra.signal);
      const text = String(await handle()!.dependencies("relay")[0]!.call({ label }));
      await own;
      return { content: [{ type: "text" as const, text }] };
    },
  );
  return server;
}

/** The consumers of the sleeper: decorated, a served McpServer, a stateful one. */
interface Consumers {
  waiter: AgentHandle;
  relay: AgentHandle;
  stateful: AgentHandle;
}

async function withMesh(fn: (consumers: Consumers) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  const handles: AgentHandle[] = [];
  let registry: RunningRegistry | undefined;
  try {
    registry = serveRegistry({ port: 0, databaseUrl: `${dir}/registry.db` });
    const overrides = { registryUrl: registry.url, heartbeatInterval: 0.2 };
    handles.push(await startAgent(SleeperAgent, overrides));
    const waiter = await startAgent(WaiterAgent, overrides);
    handles.push(waiter);
    const tools = { relay: { dependencies: ["sleep_until_cancelled"] } };
    // The same consumer as a plain McpServer: its calls go the SDK's way.
    let relay: AgentHandle | undefined = undefined;
    relay = await serve(relayServer(() => relay), { name: "relay", ...overrides, tools });
    handles.push(relay);
    // And as a stateful server: its calls run in MCP sessions.
    let stateful: AgentHandle | undefined = undefined;
    stateful = await serveStateful(() => relayServer(() => stateful), {
      name: "stateful-relay",
      ...overrides,
      tools,
    });
    handles.push(stateful);
    await waitFor(
      "consumers wired",
      () =>
        [waiter.dependencies("wait"), relay.dependencies("relay"), stateful.dependencies("relay")]
          .every(([proxy]) => proxy !== undefined) || undefined,
    );
    await fn({ waiter, relay, stateful });
  } finally {
    for (const handle of handles) await handle.close();
    await registry?.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Calls `tool` with the official client, cancels it once the provider runs, awaits the abort. */
async function cancelThroughClient(url: string, tool: string, label: string): Promise<void> {
  const client = await connectClient(url);
  try {
    const controller = new AbortController();
    const call = client.callTool({ name: tool, arguments: { label } }, undefined, {
      signal: controller.signal,
    });
    await waitFor(`${label} started`, () => started.has(label) || undefined);
    assert.equal(aborted.has(label), false);
    controller.abort("the user gave up");
    await assert.rejects(call, /the user gave up/);
    await waitFor(`${label} aborted at the provider`, () => aborted.has(label) || undefined);
  } finally {
    await client.close();
  }
}

Deno.test("notifications/cancelled aborts the consumer's fast call and the provider's tool", async () => {
  await withMesh(async ({ waiter }) => {
    await cancelThroughClient(waiter.url, "wait", "fast-path");
  });
});

Deno.test("notifications/cancelled aborts an SDK-path call, its signal and its provider's tool", async () => {
  await withMesh(async ({ relay }) => {
    await cancelThroughClient(relay.url, "relay", "sdk-path");
    await waitFor(
      "consumer's own signal aborted",
      () => aborted.has("sdk-path:consumer") || undefined,
    );
  });
});

Deno.test("notifications/cancelled in an MCP session aborts the call's signal and its provider's tool", async () => {
  await withMesh(async ({ stateful }) => {
    await cancelThroughClient(stateful.url, "relay", "session");
    await waitFor(
      "consumer's own signal aborted",
      () => aborted.has("session:consumer") || undefined,
    );
  });
});

Deno.test("a client going away mid-call aborts the provider's tool", async () => {
  await withMesh(async ({ waiter, relay }) => {
    for (
      const [agent, tool, label] of [[waiter, "wait", "gone-fast"], [
        relay,
        "relay",
        "gone-sdk",
      ]] as const
    ) {
      const controller = new AbortController();
      const response = fetch(`${agent.url}/mcp`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json, text/event-stream",
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: { name: tool, arguments: { label } },
        }),
        signal: controller.signal,
      });
      // The SDK path answers with an open stream at once; the fast path answers at the end.
      const opened = response.then(async (answer) => {
        await waitFor(`${label} started`, () => started.has(label) || undefined);
        controller.abort();
        await answer.body?.cancel().catch(() => {});
      }, () => {});
      await waitFor(`${label} started`, () => started.has(label) || undefined);
      controller.abort();
      await opened;
      await waitFor(`${label} aborted at the provider`, () => aborted.has(label) || undefined);
    }
  });
});

Deno.test("a client going away mid-call in an MCP session aborts the call's signal and its provider's tool", async () => {
  await withMesh(async ({ stateful }) => {
    const client = await connectClient(stateful.url);
    try {
      const { sessionId } = client.transport as StreamableHTTPClientTransport;
      const label = "gone-session";
      const controller = new AbortController();
      const response = fetch(`${stateful.url}/mcp`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json, text/event-stream",
          "mcp-session-id": sessionId!,
          "mcp-protocol-version": LATEST_PROTOCOL_VERSION,
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: { name: "relay", arguments: { label } },
        }),
        signal: controller.signal,
      });
      const opened = response.then((answer) => answer.body?.cancel(), () => {});
      await waitFor(`${label} started`, () => started.has(label) || undefined);
      controller.abort();
      await opened;
      await waitFor(`${label} aborted at the provider`, () => aborted.has(label) || undefined);
      await waitFor(
        "consumer's own signal aborted",
        () => aborted.has(`${label}:consumer`) || undefined,
      );
    } finally {
      await client.close();
    }
  });
});
