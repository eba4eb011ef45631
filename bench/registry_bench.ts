/**
 * Registry throughput against a bare `Deno.serve` responder, in the same run.
 *
 * 1. POST /heartbeat: registers 1,000 agents × 10 tools (each tool with one or
 *    two dependencies), 32 concurrent clients; the same bodies are POSTed to a
 *    bare responder that reads the body and answers a small JSON.
 * 2. Fills the registry up to 10,000 agents, then sends HEAD
 *    /heartbeat/{id} for all 10,000 agents (in each round) with 32
 *    concurrent clients; the same requests go to the bare responder.
 *
 * Each server runs in its own subprocess (the client load stays out of its
 * process); the registry uses a SQLite file in a temporary directory. Both
 * servers are warmed up first (the registry on throwaway agents it
 * unregisters again). Each measurement is taken in rounds that alternate
 * between the two servers: the POST rounds each register the same 1,000
 * agents into an empty mesh (unregistered again after every round but the
 * last), the HEAD rounds each cover all 10,000 agents. The figure is the
 * median of the rounds' ratios registry / bare, so that a moment of noise
 * on a shared machine spoils one round, not the figure; the spread of the
 * rounds is printed beside it.
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
/**
 * Rounds of each measurement, alternating between the two servers. A bare
 * POST round lasts only about 60 ms, so single rounds are noisy: the median
 * needs a good number of them.
 */
const ROUNDS = 9;
const WARMUP_REQUESTS = 2_000;
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

/** Requests per second of the registry and of the bare responder, by round. */
interface Throughput {
  registry: number[];
  bare: number[];
}

/**
 * Sends the same `count` requests to the bare responder and to the registry
 * in {@linkcode ROUNDS} rounds, each server first in every other round;
 * `afterRound` runs after each registry round but the last.
 */
async function compare(
  count: number,
  bare: (i: number) => Promise<Response>,
  registry: (i: number) => Promise<Response>,
  afterRound?: () => Promise<void>,
): Promise<Throughput> {
  const rates: Throughput = { registry: [], bare: [] };
  const measure = async (kind: keyof Throughput) => {
    const seconds = await timeLoad(0, count, kind === "bare" ? bare : registry);
    rates[kind].push(count / seconds);
  };
  for (let round = 0; round < ROUNDS; round++) {
    const order: (keyof Throughput)[] = round % 2 === 0
      ? ["bare", "registry"]
      : ["registry", "bare"];
    for (const kind of order) await measure(kind);
    if (round < ROUNDS - 1) await afterRound?.();
  }
  return rates;
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

function unregister(url: string, prefix = "bench-agent") {
  return (i: number) => fetch(`${url}/agents/${prefix}-${i}`, { method: "DELETE" });
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
      `bench: ${CLIENTS} clients, ${ROUNDS} rounds each; POST ${POST_AGENTS} agents x ${TOOLS} ` +
        `tools; HEAD over ${HEAD_AGENTS} agents`,
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
    await timeLoad(0, WARMUP_REQUESTS, unregister(registry.url, "bench-warmup"));

    const posts = await compare(
      POST_AGENTS,
      post(bare.url, postBodies),
      post(registry.url, postBodies),
      () => timeLoad(0, POST_AGENTS, unregister(registry.url)).then(() => {}),
    );
    await timeLoad(POST_AGENTS, HEAD_AGENTS - POST_AGENTS, post(registry.url, bodies));

    await timeLoad(0, WARMUP_REQUESTS, head(registry.url));
    const heads = await compare(HEAD_AGENTS, head(bare.url), head(registry.url));

    report("POST /heartbeat", posts, POST_TARGET);
    report(`HEAD /heartbeat/{id} (${HEAD_AGENTS} agents registered)`, heads, HEAD_TARGET);
  } finally {
    await registry.stop();
    await bare.stop();
    await Deno.remove(dbDir, { recursive: true });
  }
}

function report(name: string, { registry, bare }: Throughput, target: number): void {
  const ratios = registry.map((rate, round) => rate / bare[round]);
  const ratio = median(ratios);
  console.log(
    `${name.padEnd(48)} registry ${median(registry).toFixed(0).padStart(6)}/s  bare ${
      median(bare).toFixed(0).padStart(6)
    }/s  ratio ${ratio.toFixed(3)} (rounds ${Math.min(...ratios).toFixed(2)}-${
      Math.max(...ratios).toFixed(2)
    }; target >= ${target}: ${ratio >= target ? "met" : "MISSED"})`,
  );
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

if (import.meta.main) {
  const [flag, kind, dbDir] = Deno.args;
  if (flag === "--serve") await serve(kind, dbDir);
  else await bench();
}
