/**
 * The proxies' transport: the pooled keep-alive {@linkcode HttpClient}
 * against `fetch`, in the same run, posting the same `tools/call` body to the
 * same bare `Deno.serve` responder (in a subprocess). Prints calls per second
 * and the client's CPU time per call at concurrency 1 and 32, median of
 * alternating rounds, and the ratios pool / fetch.
 *
 * Usage: `deno run -A bench/http_client_bench.ts`.
 *
 * @module
 */

import { HttpClient } from "../mesh/http_client.ts";
import { cpuSeconds, median, spawnServer } from "./support.ts";

const ROUNDS = 5;
const MEASURE_MS = 1_000;
const WARMUP_MS = 1_500;
const HEADERS = {
  "Content-Type": "application/json",
  Accept: "application/json, text/event-stream",
  "MCP-Protocol-Version": "2025-06-18",
};
const BODY = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: { name: "get_current_time", arguments: {} },
});

type Post = () => Promise<void>;

/** Child mode: a bare responder answering a tool-shaped result until SIGTERM. */
async function serveChild(): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const { id } = await req.json();
    const result = { content: [{ type: "text", text: new Date().toISOString() }] };
    return Response.json({ result, jsonrpc: "2.0", id });
  });
  console.log(`http://127.0.0.1:${server.addr.port}/mcp`);
  const { promise, resolve } = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGTERM", resolve);
  await promise;
  await server.shutdown();
}

/** Calls per second and client CPU µs per call of `post` from `concurrency` callers. */
async function measure(
  post: Post,
  concurrency: number,
  ms: number,
): Promise<{ rate: number; cpu: number }> {
  const cpuBefore = cpuSeconds("self");
  let calls = 0;
  const started = performance.now();
  const end = started + ms;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      await post();
      calls++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  return { rate: calls / seconds, cpu: (cpuSeconds("self") - cpuBefore) / calls * 1e6 };
}

async function bench(): Promise<void> {
  const server = await spawnServer(["run", "-A", import.meta.filename!, "--serve"], "responder");
  const http = new HttpClient();
  const url = server.line;
  try {
    const transports: [string, Post][] = [
      ["fetch", async () => {
        const response = await fetch(url, { method: "POST", headers: HEADERS, body: BODY });
        await response.text();
      }],
      ["HttpClient", async () => {
        const answer = await http.post(url, HEADERS, BODY, AbortSignal.timeout(30_000));
        await answer.text();
      }],
    ];
    for (const [, post] of transports) await measure(post, 32, WARMUP_MS);
    console.log(`http client bench: median of ${ROUNDS} alternating rounds of ${MEASURE_MS} ms`);
    console.log("\n| transport | c | calls/s | client CPU µs/call |\n|---|---|---|---|");
    const ratios: string[] = [];
    for (const concurrency of [1, 32]) {
      const samples = transports.map(() => ({ rate: [] as number[], cpu: [] as number[] }));
      for (let round = 0; round < ROUNDS; round++) {
        for (const [i, [, post]] of transports.entries()) {
          const { rate, cpu } = await measure(post, concurrency, MEASURE_MS);
          samples[i].rate.push(rate);
          samples[i].cpu.push(cpu);
        }
      }
      const [fetchRate, poolRate] = samples.map((sample) => median(sample.rate));
      const [fetchCpu, poolCpu] = samples.map((sample) => median(sample.cpu));
      for (const [i, [name]] of transports.entries()) {
        const rate = median(samples[i].rate);
        const cpu = median(samples[i].cpu);
        console.log(`| ${name} | ${concurrency} | ${rate.toFixed(0)} | ${cpu.toFixed(1)} |`);
      }
      ratios.push(
        `c=${concurrency}: calls/s ×${(poolRate / fetchRate).toFixed(2)}, ` +
          `CPU per call ×${(poolCpu / fetchCpu).toFixed(2)}`,
      );
    }
    console.log(`\nHttpClient / fetch: ${ratios.join("; ")}`);
  } finally {
    http.close();
    await server.stop();
  }
}

if (Deno.args[0] === "--serve") await serveChild();
else await bench();
