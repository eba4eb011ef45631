/**
 * Agent startup and idle memory (issue 6), against a bare `Deno.serve`
 * process measured in the same run.
 *
 * - Startup: from spawning `deno run -A examples/hello/main.ts` to its first
 *   successful registration (the `register` event's timestamp in an embedded
 *   registry), median of {@linkcode RUNS} runs; the baseline is a process that
 *   only starts `Deno.serve` and prints its URL (`deno eval`, spawn to that line).
 * - Idle memory: `VmRSS` of the hello agent and of the bare process from
 *   `/proc/<pid>/status`, after {@linkcode IDLE_MS} of idling.
 * - The price of loading the MCP SDK on demand: the hello agent's first
 *   `tools/call` after idling (it loads the SDK), and its RSS after that call.
 *
 * Usage: `deno run -A bench/startup_bench.ts`.
 *
 * @module
 */

import type { EventsHistoryResponse } from "@mesh/sdk/protocol";
import { spawnAgent } from "../mesh/process.ts";
import { serveRegistry } from "../registry/mod.ts";
import { median, spawnServer } from "./support.ts";

const RUNS = 5;
const IDLE_MS = 2_000;
const STARTUP_TARGET_MS = 300;
const RSS_TARGET_MB = 60;
const REPO_ROOT = new URL("../", import.meta.url).pathname;

/** The baseline process: a `Deno.serve` that prints its URL, stopped by SIGTERM. */
const BARE_SERVER = `
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => new Response("ok"));
Deno.addSignalListener("SIGTERM", () => server.shutdown().then(() => Deno.exit(0)));
console.log("http://127.0.0.1:" + server.addr.port);
`;

/** Resident memory of process `pid` in MB. */
function rssMb(pid: number): number {
  const line = Deno.readTextFileSync(`/proc/${pid}/status`).match(/^VmRSS:\s+(\d+) kB/m);
  if (!line) throw new Error(`no VmRSS for ${pid}`);
  return Number(line[1]) / 1024;
}

/** Milliseconds from spawn to the bare server's URL line, and its idle RSS. */
async function bareRun(): Promise<{ ms: number; rss: number }> {
  const started = Date.now();
  const server = await spawnServer(["eval", BARE_SERVER], "bare server");
  const ms = Date.now() - started;
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  const rss = rssMb(server.pid);
  await server.stop();
  return { ms, rss };
}

/** One MCP `tools/call` of `say_hello` over plain `fetch`; its duration in ms. */
async function timedCall(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}/mcp`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "say_hello", arguments: { name: "bench" } },
    }),
  });
  const body = await response.text();
  if (!body.includes("Hello, bench!")) throw new Error(`unexpected answer: ${body}`);
  return performance.now() - started;
}

/** One hello agent run: spawn to registration, idle RSS, first call and RSS after it. */
interface HelloRun {
  ms: number;
  rss: number;
  firstCallMs: number;
  rssAfterCall: number;
}

/** Milliseconds from spawn to the hello agent's registration, its idle RSS, its first call. */
async function helloRun(registryUrl: string): Promise<HelloRun> {
  const started = Date.now();
  const agent = await spawnAgent("examples/hello/main.ts", {
    env: { MCP_MESH_REGISTRY_URL: registryUrl },
    cwd: REPO_ROOT,
    stderr: "null",
  });
  try {
    let registeredAt: number | undefined;
    const deadline = Date.now() + 10_000;
    while (registeredAt === undefined && Date.now() < deadline) {
      const response = await fetch(
        `${registryUrl}/events?type=register&agent_id=${agent.agentId}&limit=1`,
      );
      const { events } = await response.json() as EventsHistoryResponse;
      if (events.length > 0) registeredAt = Date.parse(events[0].timestamp);
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (registeredAt === undefined) throw new Error(`${agent.agentId} never registered`);
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const rss = rssMb(agent.pid);
    const firstCallMs = await timedCall(agent.url);
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    return { ms: registeredAt - started, rss, firstCallMs, rssAfterCall: rssMb(agent.pid) };
  } finally {
    await agent.stop();
  }
}

async function main(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "startup-bench-" });
  const registry = serveRegistry({ databaseUrl: `${dir}/registry.db`, port: 0 });
  try {
    const bare: { ms: number; rss: number }[] = [];
    const hello: HelloRun[] = [];
    for (let run = 0; run < RUNS; run++) {
      bare.push(await bareRun());
      hello.push(await helloRun(registry.url));
    }
    const startup = median(hello.map((run) => run.ms));
    const bareStartup = median(bare.map((run) => run.ms));
    const rss = median(hello.map((run) => run.rss));
    const bareRss = median(bare.map((run) => run.rss));
    console.log(
      `startup bench: ${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} cores, ` +
        `Deno ${Deno.version.deno}; median of ${RUNS} runs`,
    );
    console.log("\n| measure | hello agent | bare Deno.serve | × bare | target | met |");
    console.log("|---|---|---|---|---|---|");
    console.log(
      `| start to registered (ms) | ${startup} | ${bareStartup} (to listening) | ${
        (startup / bareStartup).toFixed(2)
      } | < ${STARTUP_TARGET_MS} | ${startup < STARTUP_TARGET_MS ? "yes" : "NO"} |`,
    );
    console.log(
      `| idle RSS (MB) | ${rss.toFixed(1)} | ${bareRss.toFixed(1)} | ${
        (rss / bareRss).toFixed(2)
      } | < ${RSS_TARGET_MB} | ${rss < RSS_TARGET_MB ? "yes" : "NO"} |`,
    );
    const firstCall = median(hello.map((run) => run.firstCallMs));
    const rssAfterCall = median(hello.map((run) => run.rssAfterCall));
    console.log(`| first tools/call, loads the SDK (ms) | ${firstCall.toFixed(0)} | | | | |`);
    console.log(
      `| RSS after that call (MB) | ${rssAfterCall.toFixed(1)} | ${bareRss.toFixed(1)} | ${
        (rssAfterCall / bareRss).toFixed(2)
      } | | |`,
    );
  } finally {
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
