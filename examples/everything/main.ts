/**
 * The everything agent: an MCP server that exercises every feature the MCP SDK
 * offers a tool author, passes the official MCP conformance suite, and joins
 * the mesh (registers its tools, heartbeats) like any agent.
 *
 * ```sh
 * MCP_MESH_HTTP_PORT=9000 deno run -A examples/everything/main.ts
 * ```
 *
 * Configured by the `MCP_MESH_*` variables (`MCP_MESH_REGISTRY_URL`,
 * `MCP_MESH_HTTP_HOST`, `MCP_MESH_HTTP_PORT`, …), prints the agent's start
 * line, and on SIGINT or SIGTERM unregisters and exits 0.
 *
 * @module
 */

import { runUntilSignal } from "@mesh/sdk/process";
import { serveEverything } from "./agent.ts";

if (import.meta.main) {
  const agent = await serveEverything().catch((error) => {
    console.error(`everything: ${error instanceof Error ? error.message : error}`);
    Deno.exit(2);
  });
  runUntilSignal(agent);
}
