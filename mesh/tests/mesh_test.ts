/**
 * Cross-process tests: a real registry (SQLite in a temp dir) on loopback,
 * agents in-process and as subprocesses, driven by the official MCP client.
 */

import assert from "node:assert/strict";
import { type RunningRegistry, serveRegistry } from "@mesh/registry";
import type { AgentInfo, RegistryEventInfo } from "@mesh/sdk/protocol";
import type { Client } from "@modelcontextprotocol/sdk/client/index";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types";
import { LocalTool } from "../proxy.ts";
import { z } from "zod";
import type { AgentProcess } from "../process.ts";
import { type AgentHandle, type McpMeshTool, mesh, startAgent, type ToolContext } from "../mod.ts";
import {
  callTool,
  connectClient,
  firstText,
  freeLoopbackUrl,
  spawnExample,
  waitFor,
} from "./helpers.ts";

const FAST_REGISTRY = {
  healthCheckIntervalMs: 200,
  timeoutThresholdMs: 1_500,
  evictionThresholdMs: 5_000,
};

function startRegistry(dir: string, port = 0): RunningRegistry {
  return serveRegistry({ port, databaseUrl: `${dir}/registry.db`, ...FAST_REGISTRY });
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() as T };
}

async function greet(client: Client): Promise<string> {
  return firstText(await callTool(client, "greet_with_time", { name: "Ada" }));
}

Deno.test("hello gets time_service from system, degrades when it stops, rewires when it returns", async () => {
  const dir = await Deno.makeTempDir();
  const registry = await startRegistry(dir);
  const env = {
    MCP_MESH_REGISTRY_URL: registry.url,
    MCP_MESH_HTTP_PORT: "0",
    MCP_MESH_HEALTH_INTERVAL: "0.2",
  };
  const agents: AgentProcess[] = [];
  let client: Client | undefined;
  try {
    const system = await spawnExample("examples/system/main.ts", env);
    agents.push(system);
    const hello = await spawnExample("examples/hello/main.ts", env);
    agents.push(hello);
    assert.match(hello.agentId, /^hello-[0-9a-f]{8}$/);
    client = await connectClient(hello.url);

    const wired = await waitFor("hello wired to system", async () => {
      const text = await greet(client!);
      return text.includes("time unavailable") ? undefined : text;
    });
    const stamp = wired.match(/^Hello, Ada! The time is (\S+)\.$/)?.[1];
    assert.ok(stamp && !Number.isNaN(Date.parse(stamp)), wired);
    assert.equal(new Date(stamp).toISOString(), stamp);

    // Graceful stop: exit 0, and the registry saw the DELETE at once.
    assert.equal((await system.stop()).code, 0);
    assert.equal((await getJson(`${registry.url}/agents/${system.agentId}`)).status, 404);
    const events = await getJson<{ events: RegistryEventInfo[] }>(
      `${registry.url}/events?agent_id=${system.agentId}`,
    );
    assert.ok(events.body.events.some((event) => event.event_type === "unregister"));

    // Until the registry's answer unwires it, the dead provider fails fast, naming it.
    const failedFast = await greet(client);
    assert.match(
      failedFast,
      /^Hello, Ada! \(time unavailable(: get_current_time at \S+ is unreachable.*)?\)$/,
    );
    await waitFor(
      "hello unwired",
      async () => await greet(client!) === "Hello, Ada! (time unavailable)" ? true : undefined,
    );

    const restarted = await spawnExample("examples/system/main.ts", env);
    agents.push(restarted);
    await waitFor("hello rewired", async () => {
      const info = await getJson<{ tools: { dependencies: { agent_id?: string }[] }[] }>(
        `${hello.url}/mesh/info`,
      );
      return info.body.tools.some((tool) => tool.dependencies[0]?.agent_id === restarted.agentId)
        ? true
        : undefined;
    });
    assert.match(await greet(client), /^Hello, Ada! The time is \S+\.$/);
  } finally {
    await client?.close();
    for (const agent of agents) await agent.stop();
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});

@mesh.agent({ name: "clock", autoRun: false })
class ClockAgent {
  @mesh.tool({
    capability: "clock",
    version: "2.1.0",
    tags: ["fast", "utc"],
    description: "Says the time",
    customHeaders: { "X-Mesh-Test": "from-provider-kwargs" },
    authRequired: true,
  })
  now(_args: unknown, _deps: unknown, context: ToolContext): Record<string, unknown> {
    const headers = context.requestInfo?.headers ?? {};
    return { time: "12:00", header: headers["x-mesh-test"] ?? null };
  }

  @mesh.tool({ capability: "slow_clock", timeout: 300, retryCount: 1, input: { ms: z.number() } })
  async slow({ ms }: { ms: number }): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return "finally";
  }
}

@mesh.agent({ name: "reader", autoRun: false })
class ReaderAgent {
  @mesh.tool({ capability: "read_clock", dependencies: ["clock"] })
  async read(_args: unknown, [clock]: (McpMeshTool | undefined)[]): Promise<unknown> {
    return clock ? await clock.call() : "no clock";
  }

  @mesh.tool({ capability: "read_slow", dependencies: ["slow_clock"], input: { ms: z.number() } })
  async readSlow({ ms }: { ms: number }, [slow]: (McpMeshTool | undefined)[]): Promise<unknown> {
    return slow ? await slow.call({ ms }) : "no slow clock";
  }
}

Deno.test("standalone first, wired when the registry appears, direct calls survive its loss", async () => {
  const dir = await Deno.makeTempDir();
  const registryUrl = freeLoopbackUrl();
  const port = Number(new URL(registryUrl).port);
  const overrides = { registryUrl, heartbeatInterval: 0.2, authToken: "t0k" };
  const handles: AgentHandle[] = [];
  let registry: RunningRegistry | undefined;
  let client: Client | undefined;
  try {
    handles.push(await startAgent(ClockAgent, overrides));
    const reader = await startAgent(ReaderAgent, overrides);
    handles.push(reader);
    client = await connectClient(reader.url);

    // Standalone: serves, dependencies undefined.
    assert.equal(reader.registered, false);
    assert.equal(firstText(await callTool(client, "read")), "no clock");
    const ready = await getJson<{ runtime: string }>(`${reader.url}/ready`);
    assert.equal(ready.body.runtime, "standalone");

    registry = await startRegistry(dir, port);
    await waitFor("reader wired", () => reader.dependencies("read")[0] ? true : undefined);
    // customHeaders and the bearer token (authRequired) reached the provider.
    assert.deepEqual((await callTool(client, "read")).structuredContent, {
      time: "12:00",
      header: "from-provider-kwargs",
    });

    // Registry gone: the agents notice, yet keep their wiring and call directly.
    await registry.close();
    registry = undefined;
    await waitFor("reader notices", () => reader.registered ? undefined : true);
    assert.equal((await callTool(client, "read")).structuredContent?.time, "12:00");

    // Registry back (same database): the agents register again by themselves.
    registry = await startRegistry(dir, port);
    await waitFor("reader registered again", () => reader.registered ? true : undefined);
    const agents = await getJson<{ count: number }>(`${registry.url}/agents`);
    assert.equal(agents.body.count, 2);
  } finally {
    await client?.close();
    for (const handle of handles) await handle.close();
    await registry?.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("registration carries tool metadata and kwargs; timeout applies to consumers", async () => {
  const dir = await Deno.makeTempDir();
  const registry = await startRegistry(dir);
  const overrides = { registryUrl: registry.url, heartbeatInterval: 0.2, authToken: "t0k" };
  const handles: AgentHandle[] = [];
  let client: Client | undefined;
  try {
    const clock = await startAgent(ClockAgent, overrides);
    handles.push(clock);
    const reader = await startAgent(ReaderAgent, overrides);
    handles.push(reader);
    await waitFor("registered", () => clock.registered && reader.registered ? true : undefined);

    const { body } = await getJson<AgentInfo>(`${registry.url}/agents/${clock.agentId}`);
    assert.equal(body.runtime, "typescript");
    assert.equal(body.endpoint, clock.url);
    const now = body.capabilities.find((capability) => capability.function_name === "now")!;
    assert.equal(now.name, "clock");
    assert.equal(now.version, "2.1.0");
    assert.deepEqual(now.tags, ["fast", "utc"]);
    assert.equal(now.description, "Says the time");
    assert.deepEqual(now.kwargs, {
      custom_headers: { "X-Mesh-Test": "from-provider-kwargs" },
      auth_required: true,
    });
    const slow = body.capabilities.find((capability) => capability.function_name === "slow")!;
    assert.deepEqual(slow.kwargs, { timeout: 0.3, retry_count: 1 });
    assert.deepEqual(slow.inputSchema?.required, ["ms"]);

    await waitFor("reader wired", () => reader.dependencies("readSlow")[0] ? true : undefined);
    client = await connectClient(reader.url);
    assert.equal(firstText(await callTool(client, "readSlow", { ms: 1 })), "finally");
    const late = await callTool(client, "readSlow", { ms: 1_000 });
    assert.equal(late.isError, true);
    assert.match(firstText(late), /slow at .* timed out after 300 ms/);
  } finally {
    await client?.close();
    for (const handle of handles) await handle.close();
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});

@mesh.agent({ name: "selfish", autoRun: false })
class SelfishAgent {
  /** Uses its context as a remote call would: agent id, signal, headers, progress. */
  @mesh.tool({ capability: "inner_cap" })
  async inner(_args: unknown, _deps: unknown, context: ToolContext): Promise<string> {
    const token = context._meta?.progressToken;
    for (const progress of [1, 2]) {
      if (token === undefined) continue;
      await context.sendNotification({
        method: "notifications/progress",
        params: { progressToken: token, progress, total: 2 },
      });
    }
    const probe = context.requestInfo?.headers["x-probe"] ?? "none";
    return `${context.agentId} aborted=${context.signal.aborted} probe=${probe}`;
  }

  @mesh.tool({ capability: "outer_cap", dependencies: ["inner_cap"] })
  async outer(
    _args: unknown,
    [inner]: (McpMeshTool | undefined)[],
    context: ToolContext,
  ): Promise<string> {
    if (!inner) return "outer got nothing";
    const called = await inner.call({}, { headers: { "X-Probe": "direct" } });
    const events = [];
    for await (const event of inner.stream({}, { signal: context.signal })) events.push(event);
    const progress = events.flatMap((event) =>
      event.type === "progress" ? [event.progress.progress] : []
    );
    const last = events.at(-1);
    const streamed = last?.type === "result" ? firstText(last.result as CallToolResult) : "?";
    return `outer got ${called} | progress ${progress.join(",")} then ${streamed}`;
  }
}

Deno.test("a dependency on the agent's own tool is called in-process with a full ToolContext", async () => {
  const dir = await Deno.makeTempDir();
  const registry = await startRegistry(dir);
  const agent = await startAgent(SelfishAgent, {
    registryUrl: registry.url,
    heartbeatInterval: 0.2,
  });
  const client = await connectClient(agent.url, { "X-Probe": "client" });
  try {
    await waitFor("self wired", () => agent.dependencies("outer")[0] ? true : undefined);
    const self = agent.dependencies("outer")[0];
    assert.equal(self?.agentId, agent.agentId);
    assert.ok(self instanceof LocalTool, "a dependency on itself stays in-process");
    const id = agent.agentId;
    assert.equal(firstText(await callTool(client, "inner")), `${id} aborted=false probe=client`);
    assert.equal(
      firstText(await callTool(client, "outer")),
      `outer got ${id} aborted=false probe=direct | progress 1,2 then ${id} aborted=false probe=client`,
    );
  } finally {
    await client.close();
    await agent.close();
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGINT unregisters and exits 0; MCP_MESH_AUTO_RUN=false keeps the agent from starting", async () => {
  const dir = await Deno.makeTempDir();
  const registry = startRegistry(dir);
  const env = { MCP_MESH_REGISTRY_URL: registry.url, MCP_MESH_HEALTH_INTERVAL: "0.2" };
  try {
    const hello = await spawnExample("examples/hello/main.ts", env);
    await waitFor("registered", async () => {
      const { status } = await getJson(`${registry.url}/agents/${hello.agentId}`);
      return status === 200 ? true : undefined;
    });
    assert.equal((await hello.stop("SIGINT")).code, 0);
    assert.equal((await getJson(`${registry.url}/agents/${hello.agentId}`)).status, 404);

    await assert.rejects(
      spawnExample("examples/hello/main.ts", { ...env, MCP_MESH_AUTO_RUN: "false" }),
      /exited with code 0 before serving/,
    );
  } finally {
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});

@mesh.agent({ name: "typo", autoRun: false })
class TypoAgent {
  @mesh.tool({ capability: "where_report", dependencies: ["goe"] })
  report(_args: unknown, [geo]: (McpMeshTool | undefined)[]): string {
    return geo ? "wired" : "unwired";
  }
}

@mesh.agent({ name: "goe", autoRun: false })
class GoeAgent {
  @mesh.tool({ capability: "goe" })
  locate(): string {
    return "here";
  }
}

Deno.test("an unresolved dependency is logged once as a warning, and its resolution as info", async () => {
  const dir = await Deno.makeTempDir();
  const registry = await startRegistry(dir);
  const lines: string[] = [];
  const original = console.error;
  console.error = (...parts: unknown[]) => lines.push(parts.join(" "));
  const common = { registryUrl: registry.url, heartbeatInterval: 0.1 };
  const agents: AgentHandle[] = [];
  try {
    const typo = await startAgent(TypoAgent, common);
    agents.push(typo);
    const warning = `[mesh:${typo.agentId}] warn: unresolved dependencies ` +
      '(no healthy agent provides them): "goe" of tool report';
    await waitFor("the warning", () => lines.includes(warning) || undefined);
    const goe = await startAgent(GoeAgent, common);
    agents.push(goe);
    const resolved = `[mesh:${typo.agentId}] info: dependency "goe" of tool report resolved: ` +
      `locate of ${goe.agentId} at ${goe.url}`;
    await waitFor("the resolution", () => lines.includes(resolved) || undefined);
    assert.equal(lines.filter((line) => line === warning).length, 1);
  } finally {
    console.error = original;
    for (const agent of agents.reverse()) await agent.close();
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});
