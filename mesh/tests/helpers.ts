/**
 * Shared helpers of the mesh tests: MCP clients, a temporary registry, and
 * example agents run as subprocesses.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types";
import { type AgentProcess, spawnAgent } from "../process.ts";

/** Connects an official MCP SDK client to an agent's `/mcp`. */
export async function connectClient(
  baseUrl: string,
  headers: Record<string, string> = {},
): Promise<Client> {
  const client = new Client({ name: "mesh-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), {
    requestInit: { headers },
  });
  await client.connect(transport);
  return client;
}

/** Calls a tool and returns its result typed as `CallToolResult`. */
export async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<CallToolResult> {
  return await client.callTool({ name, arguments: args }) as CallToolResult;
}

/** The text of a result's first content part. */
export function firstText(result: CallToolResult): string {
  const part = result.content[0];
  if (part?.type !== "text") throw new Error(`no text content: ${JSON.stringify(result)}`);
  return part.text;
}

/** Polls `check` every 50 ms until it returns a value other than undefined or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A loopback URL where nothing listens (the port was free a moment ago). */
export function freeLoopbackUrl(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return `http://127.0.0.1:${port}`;
}

/** Root of the repository (subprocesses run there so the workspace resolves). */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname;

/** Runs an example agent (path relative to the repository root) as a subprocess. */
export function spawnExample(script: string, env: Record<string, string>): Promise<AgentProcess> {
  return spawnAgent(script, { env, cwd: REPO_ROOT });
}

/**
 * Posts one JSON-RPC `tools/call` (id 7) to an MCP endpoint URL with plain
 * `fetch`, as any MCP client would; resolves with the response and its body.
 */
export async function postToolCall(
  mcpUrl: string,
  name: string,
  args: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ response: Response; body: string }> {
  const response = await fetch(mcpUrl, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      ...headers,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 7,
      method: "tools/call",
      params: { name, arguments: args },
    }),
  });
  return { response, body: await response.text() };
}
