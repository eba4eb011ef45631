/**
 * The everything agent in a mesh: a real registry (SQLite in a temp dir), the
 * agent as a subprocess, and an in-process agent whose tool depends on one of
 * its capabilities and calls it through the dependency proxy.
 */

import assert from "node:assert/strict";
import { serveRegistry } from "@mesh/registry";
import { type AgentHandle, type McpMeshTool, mesh, startAgent } from "@mesh/sdk";
import type { AgentInfo } from "@mesh/sdk/protocol";
import { type AgentProcess, spawnAgent } from "@mesh/sdk/process";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

/** Adds through whichever agent provides `add_numbers`. */
@mesh.agent({ name: "adder-client", autoRun: false })
class AdderClient {
  @mesh.tool({ capability: "remote_sum", dependencies: ["add_numbers"] })
  async remote_sum(_args: Record<string, never>, [add]: (McpMeshTool | undefined)[]) {
    if (!add) return "add_numbers unavailable";
    return { provider: add.agentId, answer: await add.call({ a: 2, b: 3.5 }) };
  }
}

async function poll<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("the everything agent registers and serves its tools to other agents' proxies", async () => {
  const dir = await Deno.makeTempDir({ prefix: "everything-mesh-" });
  const registry = serveRegistry({
    port: 0,
    databaseUrl: `${dir}/registry.db`,
    healthCheckIntervalMs: 200,
  });
  let everything: AgentProcess | undefined;
  let caller: AgentHandle | undefined;
  let client: Client | undefined;
  try {
    everything = await spawnAgent(MAIN, {
      cwd: REPO_ROOT,
      env: {
        MCP_MESH_REGISTRY_URL: registry.url,
        MCP_MESH_HTTP_PORT: "0",
        MCP_MESH_HEALTH_INTERVAL: "0.2",
      },
    });
    assert.match(everything.agentId, /^everything-[0-9a-f]{8}$/);
    const agentUrl = `${registry.url}/agents/${everything.agentId}`;
    const info = await poll("everything registered", async () => {
      const response = await fetch(agentUrl);
      if (response.status !== 200) return void await response.body?.cancel();
      return await response.json() as AgentInfo;
    });
    assert.equal(info.endpoint, everything.url);
    const functions = info.capabilities.map((capability) => capability.function_name);
    for (const tool of ["test_simple_text", "add_numbers", "test_tool_with_progress"]) {
      assert.ok(functions.includes(tool), `${tool} is registered: ${functions}`);
    }

    caller = await startAgent(AdderClient, { registryUrl: registry.url, heartbeatInterval: 0.2 });
    client = new Client({ name: "everything-mesh-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${caller.url}/mcp`)));
    const answer = await poll("remote_sum wired to everything", async () => {
      const result = await client!.callTool({ name: "remote_sum" }) as CallToolResult;
      return result.structuredContent;
    });
    assert.deepEqual(answer, { provider: everything.agentId, answer: { sum: 5.5 } });

    assert.equal((await everything.stop()).code, 0);
    const gone = await fetch(agentUrl);
    await gone.body?.cancel();
    assert.equal(gone.status, 404, "the agent unregistered on SIGTERM");
  } finally {
    await client?.close();
    await caller?.close();
    await everything?.stop();
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});
