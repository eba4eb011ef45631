/**
 * An agent's own tools change at runtime: a tool registered on (or removed
 * from) a served `McpServer` after start reaches the registry through
 * `notifications/tools/list_changed` and a full heartbeat, and consumers are
 * wired to it (and unwired from it). Real registry (SQLite in a temp dir),
 * agents on loopback, official MCP client.
 */

import assert from "node:assert/strict";
import { serveRegistry } from "@mesh/registry";
import type { AgentInfo } from "@mesh/sdk/protocol";
// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Client } from "@modelcontextprotocol/sdk/client/index";
import { z } from "zod";
import { type AgentHandle, type McpMeshTool, mesh, serve, startAgent } from "../mod.ts";
import { callTool, connectClient, firstText, waitFor } from "./helpers.ts";

@mesh.agent({ name: "asker", autoRun: false })
class AskerAgent {
  @mesh.tool({ capability: "ask", dependencies: ["late_answer"] })
  async ask(_args: unknown, [answer]: (McpMeshTool | undefined)[]): Promise<unknown> {
    return answer ? await answer.call({ question: "meaning" }) : "no answer yet";
  }
}

/** The capabilities the registry lists for `agentId`, once it knows the agent. */
async function registeredCapabilities(
  registryUrl: string,
  agentId: string,
): Promise<string[] | undefined> {
  const response = await fetch(`${registryUrl}/agents/${agentId}`);
  if (response.status !== 200) return void await response.body?.cancel();
  const info = await response.json() as AgentInfo;
  return info.capabilities.map((capability) => capability.name).sort();
}

Deno.test("a tool added to a served McpServer after start gets registered and wired", async () => {
  const dir = await Deno.makeTempDir();
  const registry = serveRegistry({ port: 0, databaseUrl: `${dir}/registry.db` });
  const overrides = { registryUrl: registry.url, heartbeatInterval: 0.2 };
  const handles: AgentHandle[] = [];
  const server = new McpServer({ name: "oracle", version: "1.0.0" });
  server.registerTool("ping", {}, () => ({ content: [{ type: "text", text: "pong" }] }));
  let mcp: Client | undefined;
  try {
    const oracle = await serve(server, {
      name: "oracle",
      ...overrides,
      tools: { late: { capability: "late_answer" } },
    });
    handles.push(oracle);
    const asker = await startAgent(AskerAgent, overrides);
    handles.push(asker);
    mcp = await connectClient(asker.url);
    assert.deepEqual(
      await waitFor(
        "oracle registered",
        () => registeredCapabilities(registry.url, oracle.agentId),
      ),
      ["ping"],
    );
    assert.equal(firstText(await callTool(mcp, "ask")), "no answer yet");

    // Registered after start: tools/list_changed → refresh → full heartbeat.
    const late = server.registerTool(
      "late",
      { inputSchema: { question: z.string() } },
      ({ question }: { question: string }) => ({
        content: [{ type: "text", text: `42 is the ${question}` }],
      }),
    );
    await waitFor("late_answer registered", async () => {
      const capabilities = await registeredCapabilities(registry.url, oracle.agentId);
      return capabilities?.includes("late_answer") ? true : undefined;
    });
    assert.deepEqual(await registeredCapabilities(registry.url, oracle.agentId), [
      "late_answer",
      "ping",
    ]);
    await waitFor("asker wired", () => asker.dependencies("ask")[0] ? true : undefined);
    assert.equal(asker.dependencies("ask")[0]?.agentId, oracle.agentId);
    assert.equal(firstText(await callTool(mcp, "ask")), "42 is the meaning");

    // Removed: the registry drops it and the asker is unwired.
    late.remove();
    await waitFor("late_answer unregistered", async () => {
      const capabilities = await registeredCapabilities(registry.url, oracle.agentId);
      return capabilities?.includes("late_answer") ? undefined : true;
    });
    await waitFor("asker unwired", () => asker.dependencies("ask")[0] ? undefined : true);
    assert.equal(firstText(await callTool(mcp, "ask")), "no answer yet");
  } finally {
    await mcp?.close();
    for (const handle of handles) await handle.close();
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});
