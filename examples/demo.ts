/**
 * `deno task demo`: the mesh in a few seconds. Starts an embedded registry,
 * the `system` and `hello` agents as subprocesses, and shows `hello` wired
 * to `system`'s time service, degrading when it stops and rewiring when it
 * returns, all through the official MCP SDK client.
 *
 * @module
 */

import { type RunningRegistry, serveRegistry } from "@mesh/registry";
import { type AgentProcess, spawnAgent } from "@mesh/sdk/process";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types";
import type { AgentsListResponse } from "@mesh/sdk/protocol";

const ROOT = new URL("../", import.meta.url);
const WAIT_LIMIT_MS = 30_000;

function say(step: string, text: string): void {
  console.log(`[${step}] ${text}`);
}

async function greet(client: Client): Promise<string> {
  const result = await client.callTool({
    name: "greet_with_time",
    arguments: { name: "Ada" },
  }) as CallToolResult;
  const part = result.content[0];
  return part?.type === "text" ? part.text : JSON.stringify(result.content);
}

/** Asks `greet_with_time` until `accept` likes the answer. */
async function greetUntil(client: Client, accept: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const text = await greet(client);
    if (accept(text)) return text;
    if (Date.now() > deadline) throw new Error(`gave up waiting; last answer: ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const wired = (text: string) => text.includes("The time is");
const unwired = (text: string) => text.endsWith("(time unavailable)");

async function main(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mesh-demo-" });
  const started = Date.now();
  let registry: RunningRegistry | undefined;
  const agents: AgentProcess[] = [];
  let client: Client | undefined;
  try {
    registry = serveRegistry({
      port: 0,
      databaseUrl: `${dir}/registry.db`,
      healthCheckIntervalMs: 250,
      timeoutThresholdMs: 1_500,
      evictionThresholdMs: 5_000,
    });
    say("registry", `embedded registry on ${registry.url} (SQLite in ${dir})`);

    const env = {
      MCP_MESH_REGISTRY_URL: registry.url,
      MCP_MESH_HTTP_PORT: "0",
      MCP_MESH_HEALTH_INTERVAL: "0.25",
      MCP_MESH_LOG_LEVEL: "error",
    };
    const start = (name: string) =>
      spawnAgent(`examples/${name}/main.ts`, { env, cwd: ROOT, stderr: "inherit" });
    const [system, hello] = await Promise.all([start("system"), start("hello")]);
    agents.push(system, hello);
    say("agents", `system agent ${system.agentId} serves time_service at ${system.url}`);
    say("agents", `hello agent ${hello.agentId} serves greet_with_time at ${hello.url}`);

    client = new Client({ name: "mesh-demo", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${hello.url}/mcp`)));
    say("wired", `hello found system through the registry: ${await greetUntil(client, wired)}`);

    const { code } = await system.stop();
    say("stop", `system agent stopped (exit code ${code}) and unregistered itself`);
    say("degraded", `hello keeps answering without it: ${await greetUntil(client, unwired)}`);

    const restarted = await start("system");
    agents.push(restarted);
    say("restart", `system agent is back as ${restarted.agentId} at ${restarted.url}`);
    say("rewired", `hello rewired, no restart needed: ${await greetUntil(client, wired)}`);

    await client.close();
    for (const agent of agents) await agent.stop();
    const listing = await fetch(`${registry.url}/agents`);
    const { count } = await listing.json() as AgentsListResponse;
    say("shutdown", `agents stopped; the registry now lists ${count} agents`);
  } finally {
    await client?.close();
    for (const agent of agents) await agent.stop();
    await registry?.close();
    await Deno.remove(dir, { recursive: true });
  }
  say("done", `finished in ${Date.now() - started} ms`);
  say(
    "next",
    "run them yourself: deno task meshctl start -d --registry-port 0 --allow-sys " +
      "examples/hello/main.ts examples/system/main.ts, then deno task meshctl list, " +
      `deno task meshctl call time_greeting '{"name": "Ada"}' and deno task meshctl stop`,
  );
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(`demo failed: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
