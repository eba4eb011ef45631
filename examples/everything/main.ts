/**
 * The everything agent: an MCP server that exercises every feature the MCP SDK
 * offers a tool author, and passes the official MCP conformance suite.
 *
 * ```sh
 * MCP_MESH_HTTP_PORT=9000 deno run -A examples/everything/main.ts
 * ```
 *
 * Listens on `MCP_MESH_HTTP_HOST` (default `127.0.0.1`) and `MCP_MESH_HTTP_PORT`
 * (default 0: a free port), prints one line with the MCP URL, and shuts down
 * cleanly on SIGINT or SIGTERM.
 *
 * @module
 */

import { serveEverything } from "./agent.ts";

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === "") return 0;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`MCP_MESH_HTTP_PORT must be an integer from 0 to 65535, got "${raw}"`);
  }
  return port;
}

if (import.meta.main) {
  let port: number;
  try {
    port = parsePort(Deno.env.get("MCP_MESH_HTTP_PORT"));
  } catch (error) {
    console.error(`everything: ${(error as Error).message}`);
    Deno.exit(2);
  }
  const agent = serveEverything({
    hostname: Deno.env.get("MCP_MESH_HTTP_HOST") || "127.0.0.1",
    port,
  });
  console.log(`everything agent listening on ${agent.url}`);

  const stop = async () => {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    await agent.shutdown();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
