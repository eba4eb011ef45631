/**
 * Registry throughput against a bare `Deno.serve` responder, in the same run.
 *
 * 1. POST /heartbeat: registers 1,000 agents × 10 tools (each tool with one or
 *    two dependencies), 32 concurrent clients; the same bodies are POSTed to a
 *    bare responder that reads the body and answers a small JSON.
 * 2. Fills the registry up to 10,000 agents, then sends HEAD
 *    /heartbeat/{id} for all 10,000 agents (several rounds) with 32
 *    concurrent clients; the same requests go to the bare responder.
 *
 * Each server runs in its own subprocess (the client load stays out of its
 * process); the registry uses a SQLite file in a temporary directory. Both
 * servers are warmed up first (the registry on throwaway agents it
 * unregisters again), and each measurement alternates between them in
 * slices so that the noise of a shared machine hits both alike. Prints
 * requests per second and the ratio registry / bare (the figure).
 *
 * Usage: `deno run -A bench/registry_bench.ts`; set `BENCH_CPU_PROF_DIR` to
 * write a CPU profile of the registry process there.
 *
 * @module
 */

import type { MeshAgentRegistration, MeshToolRegistration } from "@mesh/sdk/protocol";
import { serveRegistry } from "../registry/mod.ts";
import { spawnServer } from "./support.ts";

const CLIENTS = 32;
const POST_AGENTS = 1_000;
const HEAD_AGENTS = 10_000;
const TOOLS = 10;
const SERVICES = 100;
const HEAD_ROUNDS = 3;
const WARMUP_REQUESTS = 2_000;
/** Interleaved slices of each measurement. */
const SLICES = 4;
const POST_TARGET = 0.3;
const HEAD_TARGET = 0.5;

/**
 * Registration of agent `index`: 10 tools of service `index % 100`, each with
 * dependencies; `prefix` names the agent.
 */
function registration(index: number, prefix = "bench-agent"): MeshAgentRegistration {
  const service = index % SERVICES;
  const tools: MeshToolRegistration[] = [];
  for (let t = 0; t < TOOLS; t++) {
    const dependencies: MeshToolRegistration["dependencies"] = [
      { capability: `svc${(service + 1) % SERVICES}-cap${t}`, version: ">=1.0.0" },
    ];
    if (t % 2 === 0) {
      dependencies.push({
        capability: `svc${(service + 7) % SERVICES}-cap${(t + 3) % TOOLS}`,
        tags: ["bench", "+fast", "-beta"],
      });
    }
    tools.push({
      function_name: `tool_${t}`,
      capability: `svc${service}-cap${t}`,
      version: `1.${index % 5}.0`,
      tags: index % 3 === 0 ? ["bench", "fast"] : ["bench"],
      description: `Bench tool ${t} of service ${service}`,
      inputSchema: { type: "object", properties: { value: { type: "string" } } },
      dependencies,
    });
  }
  return {
    agent_id: `${prefix}-${index}`,
    name: `bench-service-${service}`,
    runtime: "typescript",
    http_host: "127.0.0.1",
    http_port: 10_000 + index % 50_000,
    tools,
  };
}

/**
 * Sends requests `from` to `from + count - 1`, built by `request(i)`, with 32
 * concurrent clients; returns the seconds taken.
 */
async function timeLoad(
  from: number,
  count: number,
  request: (i: number) => Promise<Response>,
): Promise<number> {
  let next = from;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < from + count) {
        const response = await request(next++);
        if (response.status >= 300 && response.status !== 202) failures++;
        await response.body?.cancel();
      }
    }),
  );
  if (failures > 0) throw new Error(`${failures} of ${count} requests failed`);
  return (performance.now() - started) / 1000;
}

/** Requests per second of the registry and of the bare responder over the same requests. */
interface Throughput {
  registry: number;
  bare: number;
}

/**
 * Sends the same `count` requests to the bare responder and to the registry
 * in interleaved slices, so that the noise of a shared machine hits both alike.
 */
async function compare(
  count: number,
  bare: (i: number) => Promise<Response>,
  registry: (i: number) => Promise<Response>,
): Promise<Throughput> {
  let bareSeconds = 0;
  let registrySeconds = 0;
  for (let slice = 0; slice < SLICES; slice++) {
    const from = Math.floor(slice * count / SLICES);
    const to = Math.floor((slice + 1) * count / SLICES);
    bareSeconds += await timeLoad(from, to - from, bare);
    registrySeconds += await timeLoad(from, to - from, registry);
  }
  return { registry: count / registrySeconds, bare: count / bareSeconds };
}

/** A server subprocess (this file with `--serve`), which prints its URL on stdout. */
async function startServer(kind: "bare" | "registry", dbDir?: string) {
  const profileDir = Deno.env.get("BENCH_CPU_PROF_DIR");
  const profile = kind === "registry" && profileDir
    ? [`--cpu-prof`, `--cpu-prof-dir=${profileDir}`]
    : [];
  const args = ["run", "-A", ...profile, import.meta.filename!, "--serve", kind, dbDir ?? ""];
  const server = await spawnServer(args, `${kind} server`);
  return { url: server.line, stop: server.stop };
}

/** Child mode: serve the bare responder or the registry until SIGTERM. */
async function serve(kind: string, dbDir: string): Promise<void> {
  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGTERM", stop);
  if (kind === "bare") {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (request) => {
        if (request.method === "POST") {
          await request.text();
          return Response.json({ status: "success" });
        }
        return new Response(null, { status: 200 });
      },
    );
    console.log(`http://127.0.0.1:${server.addr.port}`);
    await stopped;
    await server.shutdown();
  } else {
    // Agents registered early must stay healthy however long a slow machine takes.
    const registry = serveRegistry({
      databaseUrl: `${dbDir}/bench.db`,
      port: 0,
      timeoutThresholdMs: 3_600_000,
      evictionThresholdMs: 7_200_000,
    });
    console.log(registry.url);
    await stopped;
    await registry.close();
  }
}

function post(url: string, bodies: string[]) {
  return (i: number) =>
    fetch(`${url}/heartbeat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: bodies[i % bodies.length],
    });
}

function head(url: string) {
  return (i: number) =>
    fetch(`${url}/heartbeat/bench-agent-${i % HEAD_AGENTS}`, { method: "HEAD" });
}

async function bench(): Promise<void> {
  const dbDir = await Deno.makeTempDir({ prefix: "mesh_registry_bench_" });
  const bare = await startServer("bare");
  const registry = await startServer("registry", dbDir);
  try {
    const bodies = Array.from({ length: HEAD_AGENTS }, (_, i) => JSON.stringify(registration(i)));
    const postBodies = bodies.slice(0, POST_AGENTS);
    console.log(
      `bench: ${CLIENTS} clients; POST ${POST_AGENTS} agents x ${TOOLS} tools; ` +
        `HEAD ${HEAD_ROUNDS} rounds over ${HEAD_AGENTS} agents`,
    );

    // Warm both servers (and the client) up. The registry warms on throwaway
    // agents, unregistered again so the measured registrations meet an empty mesh.
    await timeLoad(0, WARMUP_REQUESTS, post(bare.url, postBodies));
    await timeLoad(0, WARMUP_REQUESTS, head(bare.url));
    const warmupBodies = Array.from(
      { length: WARMUP_REQUESTS },
      (_, i) => JSON.stringify(registration(i, "bench-warmup")),
    );
    await timeLoad(0, WARMUP_REQUESTS, post(registry.url, warmupBodies));
    await timeLoad(
      0,
      WARMUP_REQUESTS,
      (i) => fetch(`${registry.url}/agents/bench-warmup-${i}`, { method: "DELETE" }),
    );

    const posts = await compare(
      POST_AGENTS,
      post(bare.url, postBodies),
      post(registry.url, postBodies),
    );
    await timeLoad(POST_AGENTS, HEAD_AGENTS - POST_AGENTS, post(registry.url, bodies));

    await timeLoad(0, WARMUP_REQUESTS, head(registry.url));
    const heads = await compare(HEAD_AGENTS * HEAD_ROUNDS, head(bare.url), head(registry.url));

    report("POST /heartbeat", posts, POST_TARGET);
    report(`HEAD /heartbeat/{id} (${HEAD_AGENTS} agents registered)`, heads, HEAD_TARGET);
  } finally {
    await registry.stop();
    await bare.stop();
    await Deno.remove(dbDir, { recursive: true });
  }
}

function report(name: string, { registry, bare }: Throughput, target: number): void {
  const ratio = registry / bare;
  console.log(
    `${name.padEnd(48)} registry ${registry.toFixed(0).padStart(6)}/s  bare ${
      bare.toFixed(0).padStart(6)
    }/s  ratio ${ratio.toFixed(2)} (target >= ${target}: ${ratio >= target ? "met" : "MISSED"})`,
  );
}

if (import.meta.main) {
  const [flag, kind, dbDir] = Deno.args;
  if (flag === "--serve") await serve(kind, dbDir);
  else await bench();
}
