/**
 * Session affinity with real processes: two `examples/counter` replicas
 * sharing session owners through a real `redis-server`, a Redis restart, and
 * the per-process fallback without Redis.
 */

import assert from "node:assert/strict";
import { type RunningRegistry, serveRegistry } from "@mesh/registry";
import { type AgentHandle, type McpMeshTool, mesh, startAgent } from "../mod.ts";
import type { AgentProcess } from "../process.ts";
import { callTool, connectClient, freeLoopbackUrl, spawnExample, waitFor } from "./helpers.ts";
import { startRedis } from "./redis_server.ts";

@mesh.agent({ name: "tally", autoRun: false })
class Tally {
  @mesh.tool({ capability: "tally", dependencies: ["counter"] })
  tally(): string {
    return "ok";
  }
}

interface Counted {
  session_id: string;
  count: number;
  agent_id: string;
}

interface CounterMesh {
  registry: RunningRegistry;
  replicas: AgentProcess[];
  consumer: AgentHandle;
  dir: string;
}

async function startCounters(redisUrl: string): Promise<CounterMesh> {
  const dir = await Deno.makeTempDir();
  const registry = serveRegistry({
    port: 0,
    databaseUrl: `${dir}/registry.db`,
    healthCheckIntervalMs: 100,
    timeoutThresholdMs: 1_000,
    evictionThresholdMs: 3_000,
  });
  const env = {
    MCP_MESH_REGISTRY_URL: registry.url,
    MCP_MESH_HTTP_PORT: "0",
    MCP_MESH_HEALTH_INTERVAL: "0.1",
    REDIS_URL: redisUrl,
  };
  const replicas: AgentProcess[] = [];
  try {
    for (let i = 0; i < 2; i++) replicas.push(await spawnExample("examples/counter/main.ts", env));
    const consumer = await startAgent(Tally, {
      registryUrl: registry.url,
      httpPort: 0,
      heartbeatInterval: 0.1,
    });
    return { registry, replicas, consumer, dir };
  } catch (error) {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await registry.close();
    throw error;
  }
}

async function stopCounters(m: CounterMesh): Promise<void> {
  await m.consumer.close();
  await Promise.all(m.replicas.map((replica) => replica.stop()));
  await m.registry.close();
  await Deno.remove(m.dir, { recursive: true });
}

function counterProxy(m: CounterMesh): Promise<McpMeshTool> {
  return waitFor("the counter proxy over both replicas", () => {
    const proxy = m.consumer.dependencies("tally")[0];
    return proxy?.endpoints.length === 2 ? proxy : undefined;
  });
}

async function increment(proxy: McpMeshTool, sessionId: string): Promise<Counted> {
  return await proxy.call({ session_id: sessionId, by: 1 }) as Counted;
}

/** Increments every session `rounds` times, interleaved; asserts each counts 1, 2, … on one replica. */
async function countRounds(
  call: (sessionId: string) => Promise<Counted>,
  sessions: string[],
  rounds: number,
  from = 0,
): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  for (let round = 1; round <= rounds; round++) {
    const results = await Promise.all(sessions.map((session) => call(session)));
    for (const result of results) {
      assert.equal(result.count, from + round, `session ${result.session_id} round ${round}`);
      const owner = owners.get(result.session_id) ?? result.agent_id;
      assert.equal(result.agent_id, owner, `session ${result.session_id} moved replicas`);
      owners.set(result.session_id, owner);
    }
  }
  return owners;
}

Deno.test("sessions stick to one replica through proxies and direct calls, across a Redis restart", async () => {
  const redis = await startRedis();
  const m = await startCounters(redis.url);
  try {
    const proxy = await counterProxy(m);
    const sessions = ["s1", "s2", "s3", "s4", "s5", "s6"];
    const owners = await countRounds((s) => increment(proxy, s), sessions, 5);
    assert.equal(new Set(owners.values()).size, 2, "sessions are spread over both replicas");

    // Direct calls alternating between the replicas reach the owner (forwarded).
    const clients = await Promise.all(m.replicas.map((replica) => connectClient(replica.url)));
    try {
      let turn = 0;
      const direct = async (sessionId: string) => {
        const client = clients[turn++ % clients.length];
        const result = await callTool(client, "increment", { session_id: sessionId, by: 1 });
        return result.structuredContent as unknown as Counted;
      };
      const directOwners = await countRounds(direct, ["s1", "s2"], 4, 5);
      assert.equal(directOwners.get("s1"), owners.get("s1"));
      assert.equal(directOwners.get("s2"), owners.get("s2"));
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }

    // A restarted (empty) Redis: proxies still reach each session's owner.
    await redis.restart();
    const after = await countRounds((s) => increment(proxy, s), ["s3", "s4", "s5", "s6"], 3, 5);
    for (const [session, owner] of after) assert.equal(owner, owners.get(session));

    // The owner of s3 dies: the other replica takes the session over (its count restarts).
    const dead = m.replicas.find((replica) => replica.agentId === owners.get("s3"))!;
    const survivor = m.replicas.find((replica) => replica !== dead)!;
    await dead.stop("SIGKILL");
    const takenOver = await countRounds((s) => increment(proxy, s), ["s3"], 3);
    assert.equal(takenOver.get("s3"), survivor.agentId);
  } finally {
    await stopCounters(m);
    await redis.stop();
  }
});

Deno.test("without Redis, replicas fall back to their own memory and proxies keep sessions", async () => {
  const m = await startCounters(`redis://127.0.0.1:${new URL(freeLoopbackUrl()).port}`);
  try {
    const proxy = await counterProxy(m);
    const owners = await countRounds((s) => increment(proxy, s), ["a", "b", "c", "d"], 4);
    assert.equal(new Set(owners.values()).size, 2, "sessions are spread over both replicas");
  } finally {
    await stopCounters(m);
  }
});
