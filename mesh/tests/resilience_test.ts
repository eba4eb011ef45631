/**
 * Resilience across replicas with real processes: load spread over replicas,
 * a replica killed mid-load, the circuit breaker opening and recovering, the
 * timeout budget, bearer-token auth and `/metrics`.
 */

import assert from "node:assert/strict";
import { type RunningRegistry, serveRegistry } from "@mesh/registry";
import { z } from "zod";
import { type AgentHandle, type McpMeshTool, mesh, startAgent, type ToolContext } from "../mod.ts";
import type { AgentProcess } from "../process.ts";
import { freeLoopbackUrl, postToolCall, spawnExample, waitFor } from "./helpers.ts";

const FAST_REGISTRY = {
  healthCheckIntervalMs: 100,
  timeoutThresholdMs: 1_000,
  evictionThresholdMs: 3_000,
};
const REPLICA = "mesh/tests/fixtures/replica.ts";

/** The consumer whose dependency proxies the tests drive. */
@mesh.agent({ name: "consumer", autoRun: false })
class Consumer {
  @mesh.tool({
    capability: "consume",
    dependencies: ["replica_id", "replica_work"],
    circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 400, coolDownMs: 200 },
  })
  consume(): string {
    return "ok";
  }

  @mesh.tool({
    capability: "consume_least",
    dependencies: [{ capability: "replica_id", strategy: "least-inflight" }],
  })
  consumeLeast(): string {
    return "ok";
  }
}

interface Mesh {
  registry: RunningRegistry;
  env: Record<string, string>;
  replicas: AgentProcess[];
  consumer: AgentHandle;
  dir: string;
}

async function startMesh(replicas: number, replicaEnv: Record<string, string> = {}): Promise<Mesh> {
  const dir = await Deno.makeTempDir();
  const registry = serveRegistry({ port: 0, databaseUrl: `${dir}/registry.db`, ...FAST_REGISTRY });
  const env = {
    MCP_MESH_REGISTRY_URL: registry.url,
    MCP_MESH_HTTP_PORT: "0",
    MCP_MESH_HEALTH_INTERVAL: "0.1",
  };
  const started: AgentProcess[] = [];
  try {
    for (let i = 0; i < replicas; i++) {
      started.push(await spawnExample(REPLICA, { ...env, ...replicaEnv }));
    }
    const consumer = await startAgent(Consumer, {
      registryUrl: registry.url,
      httpPort: 0,
      heartbeatInterval: 0.1,
    });
    return { registry, env, replicas: started, consumer, dir };
  } catch (error) {
    await Promise.all(started.map((replica) => replica.stop()));
    await registry.close();
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}

async function stopMesh(m: Mesh): Promise<void> {
  await m.consumer.close();
  await Promise.all(m.replicas.map((replica) => replica.stop()));
  await m.registry.close();
  await Deno.remove(m.dir, { recursive: true });
}

/** The consumer's proxy of dependency `index` of `tool` once it spans `count` replicas. */
function proxyOver(m: Mesh, count: number, index = 0, tool = "consume"): Promise<McpMeshTool> {
  return waitFor(`a proxy over ${count} replicas`, () => {
    const proxy = m.consumer.dependencies(tool)[index];
    return proxy?.endpoints.length === count ? proxy : undefined;
  });
}

function tally(ids: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

async function agentIdOf(proxy: McpMeshTool, args: Record<string, unknown> = {}): Promise<string> {
  return ((await proxy.call(args)) as { agent_id: string }).agent_id;
}

Deno.test("calls spread over three replicas, round-robin and least-inflight", async () => {
  const m = await startMesh(3);
  try {
    const roundRobin = await proxyOver(m, 3);
    const ids = await Promise.all(Array.from({ length: 60 }, () => agentIdOf(roundRobin)));
    const counts = tally(ids);
    assert.deepEqual(
      [...counts.keys()].sort(),
      m.replicas.map((replica) => replica.agentId).sort(),
    );
    for (const [id, count] of counts) assert.ok(count >= 15, `${id} got only ${count} of 60`);

    const least = await proxyOver(m, 3, 0, "consumeLeast");
    const leastIds = await Promise.all(Array.from({ length: 30 }, () => agentIdOf(least)));
    assert.equal(tally(leastIds).size, 3);
  } finally {
    await stopMesh(m);
  }
});

Deno.test("a replica killed mid-load loses no call that was safe to retry", async () => {
  const m = await startMesh(3);
  try {
    const idempotent = await proxyOver(m, 3, 0);
    const work = await proxyOver(m, 3, 1);
    const victim = m.replicas[1];
    let done = 0;
    let killed = false;
    const outcomes = { idempotentFailed: 0, workFailed: 0, afterKill: [] as string[] };
    const killing = waitFor("100 calls done", () => done >= 100 ? true : undefined)
      .then(async () => {
        await victim.stop("SIGKILL");
        killed = true;
      });
    await Promise.all(Array.from({ length: 8 }, async (_, lane) => {
      for (let i = 0; i < 40; i++) {
        if (lane % 2 === 0) {
          await agentIdOf(idempotent).catch(() => outcomes.idempotentFailed++);
        } else {
          const wasKilled = killed;
          await agentIdOf(work, { ms: 5 })
            .then((id) => wasKilled && outcomes.afterKill.push(id))
            .catch(() => outcomes.workFailed++);
        }
        done++;
      }
    }));
    await killing;
    assert.equal(outcomes.idempotentFailed, 0, "idempotent calls fail over");
    assert.ok(
      outcomes.workFailed <= 4,
      `only calls in flight on the killed replica may fail, ${outcomes.workFailed} did`,
    );
    assert.ok(outcomes.afterKill.length > 0);
    assert.ok(!outcomes.afterKill.includes(victim.agentId), "nothing routed to the dead replica");
    // The registry unwires it within its timeout threshold.
    await proxyOver(m, 2, 0);
  } finally {
    await stopMesh(m);
  }
});

Deno.test("the breaker opens on a dead provider, fails fast, and closes after a good probe", async () => {
  const port = new URL(freeLoopbackUrl()).port;
  const m = await startMesh(1, { MCP_MESH_HTTP_PORT: port });
  try {
    const proxy = await proxyOver(m, 1);
    assert.equal(await agentIdOf(proxy), m.replicas[0].agentId);
    await m.replicas[0].stop("SIGKILL");
    for (let i = 0; i < 2; i++) await assert.rejects(proxy.call(), /unreachable/);
    await assert.rejects(proxy.call(), /circuit open/);
    assert.match(await metricsOf(m.consumer), circuitLine(proxy.endpoint, 2));

    m.replicas[0] = await spawnExample(REPLICA, { ...m.env, MCP_MESH_HTTP_PORT: port });
    const back = await waitFor("the probe closes the circuit", async () => {
      const current = m.consumer.dependencies("consume")[0];
      return current && await agentIdOf(current).catch(() => undefined);
    });
    assert.equal(back, m.replicas[0].agentId);
    assert.match(await metricsOf(m.consumer), circuitLine(proxy.endpoint, 0));
  } finally {
    await stopMesh(m);
  }
});

function circuitLine(endpoint: string, state: number): RegExp {
  return new RegExp(`mcp_mesh_circuit_state\\{endpoint="${endpoint}"\\} ${state}\\n`);
}

async function metricsOf(agent: AgentHandle): Promise<string> {
  const response = await fetch(`${agent.url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  return await response.text();
}

/** Calls one tool of an agent over raw MCP JSON-RPC; the JSON-RPC answer parsed. */
async function rawCall(
  url: string,
  name: string,
  args: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const { response, body } = await postToolCall(`${url}/mcp`, name, args, headers);
  const json = body.startsWith("{") ? body : body.match(/^data: (.*)$/m)?.[1] ?? "{}";
  return { status: response.status, body: JSON.parse(json) };
}

/** Tool runs of {@linkcode Guarded}: a refused call must not add one. */
let guardedRuns = 0;

/** A guarded provider and a consumer that calls it, for auth and budget tests. */
@mesh.agent({ name: "guarded", autoRun: false })
class Guarded {
  @mesh.tool({ capability: "secret", authRequired: true })
  secret(): string {
    guardedRuns++;
    return "the secret";
  }

  @mesh.tool({ capability: "slow", input: { ms: z.number() } })
  async slow({ ms }: { ms: number }): Promise<string> {
    guardedRuns++;
    await new Promise((resolve) => setTimeout(resolve, ms));
    return "slow done";
  }
}

@mesh.agent({ name: "caller", autoRun: false })
class Caller {
  @mesh.tool({ capability: "ask", dependencies: ["secret"] })
  async ask(_args: unknown, [secret]: (McpMeshTool | undefined)[]): Promise<unknown> {
    return await secret!.call();
  }

  @mesh.tool({ capability: "nested", dependencies: ["slow"], timeout: 300 })
  async nested(_args: unknown, [slow]: (McpMeshTool | undefined)[]): Promise<unknown> {
    return await slow!.call({ ms: 2_000 });
  }
}

Deno.test("authRequired tools answer 401 without a valid token and run with one", async () => {
  const dir = await Deno.makeTempDir();
  const registry = serveRegistry({ port: 0, databaseUrl: `${dir}/r.db`, ...FAST_REGISTRY });
  const common = { registryUrl: registry.url, httpPort: 0, heartbeatInterval: 0.1 };
  const guarded = await startAgent(Guarded, { ...common, authToken: "s3cret" });
  const caller = await startAgent(Caller, { ...common, authToken: "s3cret" });
  try {
    const refused: Record<string, string>[] = [{}, { Authorization: "Bearer wrong" }, {
      Authorization: "s3cret",
    }];
    const runs = guardedRuns;
    for (const headers of refused) {
      const { status, body } = await rawCall(guarded.url, "secret", {}, headers);
      assert.equal(status, 401);
      assert.match(String((body.error as { message: string }).message), /bearer token/);
    }
    assert.equal(guardedRuns, runs, "refused calls run nothing");
    const ok = await rawCall(guarded.url, "secret", {}, { Authorization: "Bearer s3cret" });
    assert.equal(ok.status, 200);
    const proxy = await waitFor("caller wired", () => caller.dependencies("ask")[0]);
    assert.equal(await proxy.call(), "the secret");
  } finally {
    await caller.close();
    await guarded.close();
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a call's timeout budget reaches nested calls; a spent budget runs nothing", async () => {
  const dir = await Deno.makeTempDir();
  const registry = serveRegistry({ port: 0, databaseUrl: `${dir}/r.db`, ...FAST_REGISTRY });
  const common = { registryUrl: registry.url, httpPort: 0, heartbeatInterval: 0.1 };
  const guarded = await startAgent(Guarded, common);
  const caller = await startAgent(Caller, common);
  try {
    const runs = guardedRuns;
    const spent = await rawCall(guarded.url, "slow", { ms: 1 }, { "X-Mesh-Timeout": "0" });
    assert.equal(spent.status, 408);
    assert.equal(guardedRuns, runs, "a spent budget runs nothing");
    assert.match(String((spent.body.error as { message: string }).message), /budget is spent/);

    await waitFor("caller wired", () => caller.dependencies("nested")[0]);
    const started = Date.now();
    const nested = await rawCall(caller.url, "nested", {}, { "X-Mesh-Timeout": "0.2" });
    const result = nested.body.result as { isError: boolean; content: { text: string }[] };
    assert.equal(result.isError, true);
    assert.match(result.content[0].text, /timed out after (1\d\d|200) ms/);
    assert.ok(Date.now() - started < 2_000, "the nested call stopped at the budget");
  } finally {
    await caller.close();
    await guarded.close();
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GET /metrics reports tool calls, proxy calls and wired dependencies", async () => {
  const m = await startMesh(1);
  try {
    const proxy = await proxyOver(m, 1);
    await proxy.call();
    const { status } = await rawCall(m.consumer.url, "consume", {});
    assert.equal(status, 200);
    const text = await metricsOf(m.consumer);
    assert.match(text, /mcp_mesh_tool_calls_total\{tool="consume",status="success"\} 1\n/);
    assert.match(text, /mcp_mesh_tool_call_duration_seconds_count\{tool="consume"\} 1\n/);
    assert.match(
      text,
      new RegExp(
        `mcp_mesh_proxy_calls_total\\{capability="replica_id",endpoint="${proxy.endpoint}",status="success"\\} 1\\n`,
      ),
    );
    assert.match(text, /mcp_mesh_dependencies_resolved 3\n/);
  } finally {
    await stopMesh(m);
  }
});

/** Whether {@linkcode Wobbly}'s health check fails. */
let wobblySick = false;

@mesh.agent({ name: "steady", autoRun: false })
class Steady {
  @mesh.tool({ capability: "probe" })
  probe(_args: unknown, _deps: unknown, context: ToolContext): string {
    return context.agentId;
  }
}

@mesh.agent({ name: "wobbly", autoRun: false, healthCheck: () => !wobblySick })
class Wobbly {
  @mesh.tool({ capability: "probe" })
  probe(_args: unknown, _deps: unknown, context: ToolContext): string {
    return context.agentId;
  }
}

@mesh.agent({ name: "prober", autoRun: false })
class Prober {
  @mesh.tool({ capability: "probing", dependencies: ["probe"] })
  probing(): string {
    return "ok";
  }
}

Deno.test("a failing health check withdraws a replica from selection at once", async () => {
  const dir = await Deno.makeTempDir();
  const registry = serveRegistry({ port: 0, databaseUrl: `${dir}/r.db`, ...FAST_REGISTRY });
  const common = { registryUrl: registry.url, httpPort: 0, heartbeatInterval: 0.1 };
  const steady = await startAgent(Steady, common);
  const wobbly = await startAgent(Wobbly, common);
  const prober = await startAgent(Prober, common);
  try {
    const proxy = await waitFor("a proxy over both replicas", () => {
      const current = prober.dependencies("probing")[0];
      return current?.endpoints.length === 2 ? current : undefined;
    });
    const before = await Promise.all(Array.from({ length: 10 }, () => proxy.call()));
    assert.equal(new Set(before).size, 2);

    wobblySick = true;
    await waitFor("wobbly refuses calls", async () => {
      const { status } = await rawCall(wobbly.url, "probe", {});
      return status === 503 ? true : undefined;
    });
    // The same proxy (not yet unwired by the registry) fails over: no call is lost.
    const after = await Promise.all(Array.from({ length: 10 }, () => proxy.call()));
    assert.deepEqual(new Set(after), new Set([steady.agentId]));
  } finally {
    wobblySick = false;
    await prober.close();
    await wobbly.close();
    await steady.close();
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});

@mesh.agent({ name: "leaving", autoRun: false })
class Leaving {
  @mesh.tool({ capability: "leaving_cap" })
  here(): string {
    return "here";
  }
}

@mesh.agent({ name: "stayer", autoRun: false })
class Stayer {
  @mesh.tool({ capability: "stay", dependencies: ["leaving_cap"] })
  async ask(_args: unknown, [leaving]: (McpMeshTool | undefined)[]): Promise<string> {
    if (!leaving) return "degraded";
    try {
      return String(await leaving.call());
    } catch (error) {
      return `failed: ${(error as Error).message}`;
    }
  }
}

Deno.test("a refused call to a provider that stopped rewires the consumer before its next heartbeat", async () => {
  const dir = await Deno.makeTempDir();
  const registry = serveRegistry({ port: 0, databaseUrl: `${dir}/r.db`, ...FAST_REGISTRY });
  const leaving = await startAgent(Leaving, { registryUrl: registry.url, heartbeatInterval: 0.1 });
  // One heartbeat a minute: only a beat brought forward can rewire it during the test.
  const stayer = await startAgent(Stayer, { registryUrl: registry.url, heartbeatInterval: 60 });
  try {
    await waitFor("stayer wired", () => stayer.dependencies("ask")[0]);
    const { body: wired } = await postToolCall(`${stayer.url}/mcp`, "ask", {});
    assert.match(wired, /"text":"here"/);
    await leaving.close();
    const answers: string[] = [];
    await waitFor("stayer degraded", async () => {
      const { body } = await postToolCall(`${stayer.url}/mcp`, "ask", {});
      answers.push(body);
      return body.includes('"text":"degraded"') || undefined;
    });
    assert.equal(stayer.dependencies("ask")[0], undefined);
    assert.match(answers[0], /failed: here at \S+ is unreachable/);
  } finally {
    await stayer.close();
    await leaving.close();
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});
