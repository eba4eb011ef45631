/**
 * Tool-call throughput and latency against a bare `Deno.serve` JSON-RPC echo,
 * in the same run (issue 6).
 *
 * - (a) bare: a `Deno.serve` JSON-RPC echo answering a tool-shaped result (the limit);
 * - (b) sdk: the MCP SDK's `McpServer` on its web-standard transport, one stateful
 *   session, called by raw `fetch` (the peer baseline);
 * - (c) direct: `say_hello` of `examples/hello`, called over MCP;
 * - (d) hop: `greet_with_time` of `examples/hello`, one mesh hop to `examples/system`;
 * - (e) self: a tool whose body calls a self-dependency {@linkcode SELF_HOPS} times;
 *   its rate counts those hops (no HTTP is involved in them).
 *
 * Every server runs in its own subprocess (the client load stays in this
 * process), wired through a registry embedded here (SQLite in a temporary
 * directory). Each target is warmed up, then measured at concurrency 1 and 32
 * for {@linkcode ROUNDS} interleaved rounds; the table shows the median
 * rate, its p50/p99 latency, and the ratio each target of the issue is about.
 *
 * Usage: `deno run -A bench/call_bench.ts`. Environment switches:
 * - `BENCH_TARGETS=a,d`: measure only these targets ((a), the baseline, always runs);
 * - `BENCH_CPU_PROF_DIR=dir`: write CPU profiles of the subprocesses named by
 *   `BENCH_CPU_PROF` (comma-separated: `bare`, `sdk`, `system`, `hello`, `self`;
 *   default `hello`) into `dir`, one `.cpuprofile` per process.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { type McpMeshTool, mesh, startAgent } from "../mesh/mod.ts";
import type { AgentMeshInfo } from "../mesh/runtime.ts";
import { serveRegistry } from "../registry/mod.ts";
import { cpuSeconds, spawnServer } from "./support.ts";

const ROUNDS = 5;
const MEASURE_MS = 1_000;
const WARMUP_MS = 2_000;
const CONCURRENCY = [1, 32] as const;
/** Self-dependency calls made by one `self_loop` call in (e). */
const SELF_HOPS = 200;
const REPO_ROOT = new URL("../", import.meta.url).pathname;

type Concurrency = typeof CONCURRENCY[number];
type TargetName = "a" | "b" | "c" | "d" | "e";

/** One measurement: calls per second and latency percentiles in milliseconds. */
interface Sample {
  rate: number;
  p50: number;
  p99: number;
}

const MCP_HEADERS = {
  "Content-Type": "application/json",
  Accept: "application/json, text/event-stream",
  "MCP-Protocol-Version": LATEST_PROTOCOL_VERSION,
};

function toolCall(name: string, args: Record<string, unknown>): string {
  return JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: { name, arguments: args },
  });
}

/** The self-dependency bench agent of (e), started by the child mode `--serve self`. */
@mesh.agent({ name: "selfbench", autoRun: false })
class SelfBenchAgent {
  /** The dependency target: a greeting, like `say_hello`. */
  @mesh.tool({ capability: "bench_echo", input: { name: z.string().min(1) } })
  echo({ name }: { name: string }): string {
    return `Hello, ${name}!`;
  }

  /** Calls `bench_echo` (this agent's own tool) `n` times in a row. */
  @mesh.tool({
    capability: "bench_self_loop",
    input: { n: z.number().int().min(1) },
    dependencies: ["bench_echo"],
  })
  async self_loop(
    { n }: { n: number },
    [echo]: (McpMeshTool | undefined)[],
  ): Promise<string> {
    if (!echo) throw new Error("bench_echo is not wired");
    let last = "";
    for (let i = 0; i < n; i++) last = String(await echo.call({ name: "bench" }));
    return last;
  }
}

/** Child mode: serves one kind of server until SIGTERM, printing its URL first. */
async function serveChild(kind: string, registryUrl: string): Promise<void> {
  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGTERM", stop);
  let close: () => Promise<void>;
  if (kind === "bare") {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req) => {
        const { id, params } = await req.json();
        const text = `Hello, ${params.arguments.name}!`;
        return Response.json({ result: { content: [{ type: "text", text }] }, jsonrpc: "2.0", id });
      },
    );
    console.log(`http://127.0.0.1:${server.addr.port}`);
    close = () => server.shutdown();
  } else if (kind === "sdk") {
    const mcp = new McpServer({ name: "sdk-bench", version: "1.0.0" });
    mcp.registerTool("say_hello", { inputSchema: { name: z.string().min(1) } }, ({ name }) => ({
      content: [{ type: "text", text: `Hello, ${name}!` }],
    }));
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
    });
    await mcp.connect(transport);
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => transport.handleRequest(req),
    );
    console.log(`http://127.0.0.1:${server.addr.port}`);
    close = async () => {
      await server.shutdown();
      await mcp.close();
    };
  } else {
    const agent = await startAgent(SelfBenchAgent, { httpPort: 0, registryUrl });
    console.log(agent.url);
    close = () => agent.close();
  }
  await stopped;
  await close();
}

/** A running server subprocess. */
interface Child {
  /** Base URL it printed. */
  url: string;
  /** Process id. */
  pid: number;
  /** SIGTERM, then awaits its exit. */
  stop(): Promise<void>;
}

/** The `deno run` flags that profile the subprocess called `name`, when asked for. */
function profileFlags(name: string): string[] {
  const dir = Deno.env.get("BENCH_CPU_PROF_DIR");
  const names = (Deno.env.get("BENCH_CPU_PROF") ?? "hello").split(",").map((n) => n.trim());
  if (!dir || !names.includes(name)) return [];
  return ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.cpuprofile`];
}

/**
 * Runs `deno run -A [flags] script args` from the repository root and resolves
 * once it printed a line ending with its URL (agents print their start line).
 * `name` selects profiling ({@linkcode profileFlags}).
 */
async function startServer(
  name: string,
  script: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<Child> {
  const server = await spawnServer(
    ["run", "-A", ...profileFlags(name), script, ...args],
    `${script} ${args.join(" ")}`,
    { cwd: REPO_ROOT, env, ready: /(http:\/\/\S+)\s*$/m },
  );
  return { url: server.line, pid: server.pid, stop: server.stop };
}

/** Opens a stateful session on the SDK server; returns the headers its calls need. */
async function openSdkSession(url: string): Promise<Record<string, string>> {
  const init = await fetch(`${url}/mcp`, {
    method: "POST",
    headers: MCP_HEADERS,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: "call-bench", version: "1.0.0" },
      },
    }),
  });
  await init.text();
  const session = init.headers.get("mcp-session-id");
  if (!session) throw new Error(`sdk server gave no session (HTTP ${init.status})`);
  const headers = { ...MCP_HEADERS, "mcp-session-id": session };
  const initialized = await fetch(`${url}/mcp`, {
    method: "POST",
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
  });
  await initialized.body?.cancel();
  return headers;
}

/** Waits until every tool of the agent at `url` has all its dependencies wired. */
async function waitWired(url: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const info = await (await fetch(`${url}/mesh/info`)).json() as AgentMeshInfo;
    const deps = info.tools.flatMap((tool) => tool.dependencies);
    if (deps.every((dep) => dep.status === "available")) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} was not wired within 20 s`);
}

type Call = () => Promise<string>;

/** A call posting `body` to `{url}/mcp`; rejects unless it answers 200 with `expect` in it. */
function poster(url: string, body: string, headers: Record<string, string>, expect: string): Call {
  return async () => {
    const response = await fetch(`${url}/mcp`, { method: "POST", headers, body });
    const text = await response.text();
    if (response.status !== 200 || !text.includes(expect) || text.includes('"isError":true')) {
      throw new Error(`unexpected answer from ${url} (HTTP ${response.status}): ${text}`);
    }
    return text;
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Processes whose CPU time is accounted per call: name and pid. */
type Processes = Map<string, number | "self">;

/** CPU seconds by process name, summed over measurements, with the calls they served. */
interface CpuAccount {
  calls: number;
  seconds: Map<string, number>;
}

/**
 * Runs `call` from `concurrency` clients for `ms`; `weight` counts hops per
 * call. When `cpu` is given, adds the CPU time of each of `processes` and the
 * number of calls to it.
 */
async function measure(
  call: Call,
  concurrency: number,
  ms: number,
  weight = 1,
  processes?: Processes,
  cpu?: CpuAccount,
): Promise<Sample> {
  const cpuBefore = [...processes ?? []].map(([name, pid]) => [name, cpuSeconds(pid)] as const);
  const latencies: number[] = [];
  const started = performance.now();
  const end = started + ms;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await call();
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  if (processes && cpu) {
    cpu.calls += latencies.length;
    for (const [name, before] of cpuBefore) {
      const used = cpuSeconds(processes.get(name)!) - before;
      cpu.seconds.set(name, (cpu.seconds.get(name) ?? 0) + used);
    }
  }
  latencies.sort((x, y) => x - y);
  return {
    rate: latencies.length * weight / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}

function median(samples: Sample[]): Sample {
  const sorted = [...samples].sort((x, y) => x.rate - y.rate);
  return sorted[Math.floor(sorted.length / 2)];
}

interface Target {
  name: TargetName;
  label: string;
  call: Call;
  weight: number;
}

function fmt(n: number, digits = 2): string {
  return n.toFixed(digits);
}

function printTable(targets: Target[], results: Map<string, Sample>): void {
  const get = (name: TargetName, c: Concurrency) => results.get(`${name}@${c}`)!;
  console.log("\n| target | c | calls/s | p50 ms | p99 ms | × (a) |");
  console.log("|---|---|---|---|---|---|");
  for (const target of targets) {
    for (const c of CONCURRENCY) {
      const s = get(target.name, c);
      console.log(
        `| ${target.label} | ${c} | ${fmt(s.rate, 0)} | ${fmt(s.p50, 3)} | ${fmt(s.p99, 3)} | ${
          fmt(s.rate / get("a", c).rate)
        } |`,
      );
    }
  }
  const ratio = (x: TargetName, y: TargetName, c: Concurrency) =>
    results.has(`${x}@${c}`) && results.has(`${y}@${c}`)
      ? get(x, c).rate / get(y, c).rate
      : undefined;
  const goals: [string, number | undefined, number][] = [
    ["(c)/(a) at c=32", ratio("c", "a", 32), 0.7],
    ["(c)/(b) at c=32", ratio("c", "b", 32), 2],
    ["(d)/(a) at c=32", ratio("d", "a", 32), 0.35],
    ["(e)/(c) at c=32", ratio("e", "c", 32), 20],
    ["(e)/(c) at c=1", ratio("e", "c", 1), 20],
  ];
  console.log("\n| ratio | measured | target | met |");
  console.log("|---|---|---|---|");
  for (const [label, value, goal] of goals) {
    if (value === undefined) continue;
    console.log(`| ${label} | ${fmt(value)} | >= ${goal} | ${value >= goal ? "yes" : "NO"} |`);
  }
}

/**
 * CPU time per call at concurrency 32, by process (Linux): where a call's cost
 * goes. With every process busy, the rate is about cores / total.
 */
function printCpuTable(
  targets: Target[],
  names: string[],
  cpu: Map<TargetName, CpuAccount>,
): void {
  if (Deno.build.os !== "linux") return;
  console.log(`\n| CPU µs per call at c=32 | ${names.join(" | ")} | total |`);
  console.log(`|---|${names.map(() => "---|").join("")}---|`);
  for (const target of targets) {
    const { calls, seconds } = cpu.get(target.name)!;
    const perCall = names.map((name) => (seconds.get(name) ?? 0) * 1e6 / calls);
    const total = perCall.reduce((sum, us) => sum + us, 0);
    console.log(
      `| ${target.label} | ${perCall.map((us) => fmt(us, 0)).join(" | ")} | ${fmt(total, 0)} |`,
    );
  }
}

async function main(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "call-bench-" });
  const registry = serveRegistry({ databaseUrl: `${dir}/registry.db`, port: 0 });
  const env = {
    MCP_MESH_REGISTRY_URL: registry.url,
    MCP_MESH_HEALTH_INTERVAL: "1",
    MCP_MESH_LOG_LEVEL: "warn",
  };
  const children: Child[] = [];
  try {
    const processes: Processes = new Map([["client", "self"]]);
    const start = async (name: string, script: string, args: string[] = []) => {
      const child = await startServer(name, script, args, env);
      children.push(child);
      processes.set(name, child.pid);
      return child;
    };
    const bare = await start("bare", import.meta.filename!, ["--serve", "bare"]);
    const sdk = await start("sdk", import.meta.filename!, ["--serve", "sdk"]);
    await start("system", "examples/system/main.ts");
    const hello = await start("hello", "examples/hello/main.ts");
    const self = await start("self", import.meta.filename!, ["--serve", "self", registry.url]);
    await waitWired(hello.url);
    await waitWired(self.url);

    const sdkHeaders = await openSdkSession(sdk.url);
    const hello1 = toolCall("say_hello", { name: "bench" });
    const allTargets: Target[] = [
      {
        name: "a",
        label: "(a) bare Deno.serve echo",
        call: poster(bare.url, hello1, MCP_HEADERS, "Hello, bench!"),
        weight: 1,
      },
      {
        name: "b",
        label: "(b) SDK McpServer, stateful",
        call: poster(sdk.url, hello1, sdkHeaders, "Hello, bench!"),
        weight: 1,
      },
      {
        name: "c",
        label: "(c) agent say_hello",
        call: poster(hello.url, hello1, MCP_HEADERS, "Hello, bench!"),
        weight: 1,
      },
      {
        name: "d",
        label: "(d) greet_with_time, 1 hop",
        call: poster(
          hello.url,
          toolCall("greet_with_time", { name: "bench" }),
          MCP_HEADERS,
          "The time is",
        ),
        weight: 1,
      },
      {
        name: "e",
        label: `(e) self-dependency (hops/s)`,
        call: poster(
          self.url,
          toolCall("self_loop", { n: SELF_HOPS }),
          MCP_HEADERS,
          "Hello, bench!",
        ),
        weight: SELF_HOPS,
      },
    ];
    const chosen = Deno.env.get("BENCH_TARGETS")?.split(",").map((name) => name.trim());
    const targets = allTargets.filter((t) => t.name === "a" || !chosen || chosen.includes(t.name));
    for (const target of targets) await measure(target.call, 32, WARMUP_MS / 4);
    for (const target of targets) await measure(target.call, 32, WARMUP_MS);
    const samples = new Map<string, Sample[]>();
    const cpu = new Map(targets.map((t): [TargetName, CpuAccount] => [t.name, {
      calls: 0,
      seconds: new Map(),
    }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of targets) {
        for (const c of CONCURRENCY) {
          const key = `${target.name}@${c}`;
          const account = c === 32 ? cpu.get(target.name) : undefined;
          const sample = await measure(
            target.call,
            c,
            MEASURE_MS,
            target.weight,
            processes,
            account,
          );
          samples.set(key, [...samples.get(key) ?? [], sample]);
        }
      }
    }
    const results = new Map([...samples].map(([key, list]) => [key, median(list)]));
    console.log(
      `call bench: ${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} cores, ` +
        `Deno ${Deno.version.deno}; median of ${ROUNDS} rounds of ${MEASURE_MS} ms`,
    );
    printTable(targets, results);
    printCpuTable(targets, [...processes.keys()], cpu);
  } finally {
    for (const child of children.reverse()) await child.stop();
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (Deno.args[0] === "--serve") {
  await serveChild(Deno.args[1], Deno.args[2]);
} else if (import.meta.main) {
  await main();
}
