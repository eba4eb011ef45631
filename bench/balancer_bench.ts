/**
 * What load balancing, circuit breakers, failover bookkeeping and the timeout
 * budget add to a remote call, against a plain proxy in the same run.
 *
 * One subprocess answers `tools/call` on three ports (three "replicas" with
 * the same capacity for both sides). The plain proxy is what a dependency call
 * costs without any of it: one POST of the same JSON-RPC body and headers
 * to the next port in turn under a timeout, then its JSON parsed. The balanced proxy is a
 * {@linkcode RemoteTool} over the three providers (round-robin and
 * least-inflight). Both send over a pooled {@linkcode HttpClient}, as agents do. Rounds alternate between the two; the table shows the
 * median throughput at concurrency 1 and 32 and the overhead (target < 10%).
 *
 * Usage: `deno run -A bench/balancer_bench.ts`.
 *
 * @module
 */

import { HttpClient } from "../mesh/http_client.ts";
import { RemoteTool } from "../mesh/proxy.ts";
import type { ResolvedDependency } from "../mesh/protocol.ts";
import { median, spawnServer } from "./support.ts";

const ROUNDS = 9;
const CALLS = { 1: 1_500, 32: 6_000 } as const;
const WARMUP_CALLS = 3_000;
const TARGET_OVERHEAD = 0.1;
const RESULT = { content: [{ type: "text", text: "pong" }] };

/** Child mode: answer every POST with a tool result on three ports until SIGTERM. */
async function serveReplicas(): Promise<void> {
  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGTERM", stop);
  const servers = Array.from(
    { length: 3 },
    () =>
      Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
        const { id } = await request.json();
        return Response.json({ jsonrpc: "2.0", id, result: RESULT });
      }),
  );
  console.log(servers.map((server) => `http://127.0.0.1:${server.addr.port}`).join(" "));
  await stopped;
  await Promise.all(servers.map((server) => server.shutdown()));
}

async function spawnReplicas(): Promise<{ endpoints: string[]; stop(): Promise<void> }> {
  const server = await spawnServer(["run", "-A", import.meta.filename!, "--serve"], "replicas");
  return { endpoints: server.line.split(" "), stop: server.stop };
}

type Call = () => Promise<unknown>;

/** The call a dependency made before balancing: one POST, its JSON parsed. */
function plainProxy(endpoints: string[], http: HttpClient): Call {
  let next = 0;
  const headers = {
    "Content-Type": "application/json",
    Accept: "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
  };
  return async () => {
    const endpoint = endpoints[next++ % endpoints.length];
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "ping", arguments: {}, _meta: { progressToken: 1 } },
    });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 30_000);
    try {
      const answer = await http.post(`${endpoint}/mcp`, headers, body, controller.signal);
      const message = await answer.json() as { result?: unknown };
      if (!message.result) throw new Error("no result");
      return message.result;
    } finally {
      clearTimeout(timer);
    }
  };
}

function balancedProxy(
  endpoints: string[],
  strategy: "round-robin" | "least-inflight",
  http: HttpClient,
): Call {
  const dependency: ResolvedDependency = {
    agent_id: "replica-0",
    function_name: "ping",
    endpoint: endpoints[0],
    capability: "ping",
    status: "available",
    providers: endpoints.map((endpoint, i) => ({
      agent_id: `replica-${i}`,
      function_name: "ping",
      endpoint,
      version: "1.0.0",
    })),
  };
  const tool = new RemoteTool(dependency, { strategy, http });
  return () => tool.callRaw({});
}

/** Calls per second of `count` calls with `concurrency` callers. */
async function load(call: Call, count: number, concurrency: number): Promise<number> {
  let issued = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (issued++ < count) await call();
  }));
  return count / ((performance.now() - started) / 1000);
}

async function bench(): Promise<void> {
  const replicas = await spawnReplicas();
  const http = new HttpClient();
  try {
    const plain = plainProxy(replicas.endpoints, http);
    const variants: [string, Call][] = [
      ["round-robin + breakers", balancedProxy(replicas.endpoints, "round-robin", http)],
      ["least-inflight + breakers", balancedProxy(replicas.endpoints, "least-inflight", http)],
    ];
    await load(plain, WARMUP_CALLS, 32);
    for (const [, call] of variants) await load(call, WARMUP_CALLS, 32);
    console.log(
      `balancer bench: 3 replicas in one subprocess, median of ${ROUNDS} alternating rounds`,
    );
    for (const concurrency of [1, 32] as const) {
      const contenders: [string, Call][] = [["plain proxy", plain], ...variants];
      const samples = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        // Each round starts with another contender, so no one always runs first or last.
        for (let i = 0; i < contenders.length; i++) {
          const [name, call] = contenders[(round + i) % contenders.length];
          samples.get(name)!.push(await load(call, CALLS[concurrency], concurrency));
        }
      }
      const base = median(samples.get("plain proxy")!);
      console.log(`concurrency ${concurrency}: plain proxy ${base.toFixed(0)} calls/s`);
      for (const [name] of variants) {
        const rate = median(samples.get(name)!);
        const overhead = base / rate - 1;
        console.log(
          `  ${name.padEnd(28)} ${rate.toFixed(0).padStart(6)} calls/s  ratio ${
            (rate / base).toFixed(2)
          }  added cost ${(overhead * 100).toFixed(1)}% (target < ${TARGET_OVERHEAD * 100}%: ${
            overhead < TARGET_OVERHEAD ? "met" : "MISSED"
          })`,
        );
      }
    }
  } finally {
    http.close();
    await replicas.stop();
  }
}

if (Deno.args[0] === "--serve") await serveReplicas();
else await bench();
