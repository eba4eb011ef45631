/**
 * Serves the everything MCP server on `Deno.serve`: `POST|GET|DELETE /mcp` and
 * `GET /health`.
 *
 * @module
 */

import { createEverythingServer } from "./server.ts";
import { LOOPBACK_HOSTNAMES, McpSessions } from "./sessions.ts";
import { WatchedResource } from "./watched_resource.ts";

/** Where to listen. */
export interface EverythingAgentOptions {
  /** Interface to bind, e.g. `127.0.0.1` (default) or `0.0.0.0`. */
  hostname?: string;
  /** Port to bind; 0 (default) picks a free one. */
  port?: number;
  /** Milliseconds a client waits before reconnecting a closed SSE stream (default 1000). */
  retryInterval?: number;
  /** Milliseconds without requests after which a session is closed (default 30 minutes). */
  sessionIdleTimeoutMs?: number;
}

/** A running everything agent. */
export interface EverythingAgent {
  /** URL of the MCP endpoint, e.g. `http://127.0.0.1:41234/mcp`. */
  readonly url: URL;
  /** Number of open MCP sessions. */
  readonly sessionCount: number;
  /** Closes every session, stops listening and waits until the server is down. */
  shutdown(): Promise<void>;
}

const WILDCARD_HOSTNAMES = new Set(["0.0.0.0", "::", "[::]"]);

/**
 * Starts the agent. A server bound to a specific interface accepts only its own
 * name and the loopback names in `Host`/`Origin` (DNS-rebinding protection); a
 * wildcard bind cannot know the names it is reached by and checks nothing.
 */
export function serveEverything(options: EverythingAgentOptions = {}): EverythingAgent {
  const hostname = options.hostname ?? "127.0.0.1";
  const watched = new WatchedResource();
  const sessions = new McpSessions({
    createServer: () => createEverythingServer(watched),
    allowedHostnames: WILDCARD_HOSTNAMES.has(hostname)
      ? undefined
      : [...LOOPBACK_HOSTNAMES, hostname.includes(":") ? `[${hostname}]` : hostname],
    retryInterval: options.retryInterval ?? 1_000,
    idleTimeoutMs: options.sessionIdleTimeoutMs ?? 30 * 60_000,
  });
  const server = Deno.serve({
    hostname,
    port: options.port ?? 0,
    onListen: () => {},
  }, (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/mcp") return sessions.handle(request);
    if (pathname === "/health" && request.method === "GET") {
      return Response.json({ status: "healthy", sessions: sessions.size });
    }
    return Response.json({ error: `No route for ${request.method} ${pathname}` }, {
      status: 404,
    });
  });
  const { port } = server.addr;
  const urlHost = hostname.includes(":") ? `[${hostname}]` : hostname;
  return {
    url: new URL(`http://${WILDCARD_HOSTNAMES.has(hostname) ? "127.0.0.1" : urlHost}:${port}/mcp`),
    get sessionCount() {
      return sessions.size;
    },
    async shutdown() {
      await sessions.close();
      await server.shutdown();
    },
  };
}
