/**
 * Stateful MCP over Streamable HTTP for `Deno.serve`: one SDK transport and one
 * server per session, resumable SSE streams, and DNS-rebinding protection.
 *
 * @module
 */

// The SDK's `./*` export maps types to `*.d.ts`, so a `.js` subpath loses its types: name them.
// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp";
// @ts-types="@modelcontextprotocol/sdk/types"
import { ErrorCode, isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { BoundedEventStore } from "./event_store.ts";

/** Host names a loopback-only server answers to (any port). */
export const LOOPBACK_HOSTNAMES: readonly string[] = ["localhost", "127.0.0.1", "[::1]"];

/** Options of {@link McpSessions}. */
export interface McpSessionsOptions {
  /** Builds the server of a new session; called once per `initialize`. */
  createServer: () => McpServer;
  /**
   * Host names (without port) accepted in the `Host` and `Origin` headers; any
   * other answers 403 (DNS-rebinding protection). `undefined` disables the check.
   */
  allowedHostnames?: readonly string[];
  /** Milliseconds a client waits before reconnecting a closed SSE stream (SEP-1699). */
  retryInterval?: number;
  /**
   * Milliseconds without any request after which a session is closed (its
   * client gets 404 and initializes again). `undefined` keeps sessions until
   * the client deletes them or {@link McpSessions.close} runs.
   */
  idleTimeoutMs?: number;
}

interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServer;
  idleTimer?: ReturnType<typeof setTimeout>;
}

/**
 * Routes MCP requests to per-session transports. `initialize` without a session
 * id opens a session; every later request must carry its `Mcp-Session-Id`.
 */
export class McpSessions {
  /** Initialized sessions by id. */
  readonly #byId = new Map<string, Session>();
  /** Every session with an open server, initialized or not. */
  readonly #open = new Set<Session>();
  readonly #options: McpSessionsOptions;
  readonly #allowed: ReadonlySet<string> | undefined;

  /** Creates an empty session table. */
  constructor(options: McpSessionsOptions) {
    this.#options = options;
    this.#allowed = options.allowedHostnames &&
      new Set(options.allowedHostnames.map((name) => name.toLowerCase()));
  }

  /** Number of open sessions. */
  get size(): number {
    return this.#byId.size;
  }

  /** Answers one HTTP request to the MCP endpoint (POST, GET or DELETE). */
  async handle(request: Request): Promise<Response> {
    const refusal = this.#refuseForeignHost(request);
    if (refusal) return refusal;
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId !== null) {
      const session = this.#byId.get(sessionId);
      if (!session) return jsonRpcError(404, -32001, "Session not found");
      this.#touch(session);
      return await session.transport.handleRequest(request);
    }
    if (request.method !== "POST") {
      return jsonRpcError(400, -32000, "Bad Request: Mcp-Session-Id header is required");
    }
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      return jsonRpcError(400, ErrorCode.ParseError, "Parse error: the body is not JSON");
    }
    if (!isInitializeRequest(body)) {
      return jsonRpcError(
        400,
        -32000,
        "Bad Request: Mcp-Session-Id header is required (only initialize opens a session)",
      );
    }
    const session = await this.#openSession();
    return await session.transport.handleRequest(request, { parsedBody: body });
  }

  /** Closes every session and its server. */
  async close(): Promise<void> {
    await Promise.all([...this.#open].map(({ server }) => server.close()));
  }

  async #openSession(): Promise<Session> {
    const server = this.#options.createServer();
    const session: Session = {
      server,
      transport: new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        onsessioninitialized: (id) => {
          this.#byId.set(id, session);
          this.#touch(session);
        },
        eventStore: new BoundedEventStore(),
        retryInterval: this.#options.retryInterval,
      }),
    };
    this.#open.add(session);
    server.server.onclose = chain(server.server.onclose, () => {
      clearTimeout(session.idleTimer);
      if (session.transport.sessionId) this.#byId.delete(session.transport.sessionId);
      this.#open.delete(session);
    });
    await server.connect(session.transport);
    return session;
  }

  /** Restarts the idle countdown of a session. */
  #touch(session: Session): void {
    const timeout = this.#options.idleTimeoutMs;
    if (timeout === undefined) return;
    clearTimeout(session.idleTimer);
    session.idleTimer = setTimeout(() => session.server.close(), timeout);
  }

  #refuseForeignHost(request: Request): Response | undefined {
    if (!this.#allowed) return undefined;
    const host = request.headers.get("host");
    if (host === null || !this.#allowed.has(hostnameOf(`http://${host}`))) {
      return jsonRpcError(403, -32000, `Forbidden: Host header ${JSON.stringify(host)}`);
    }
    const origin = request.headers.get("origin");
    if (origin !== null && !this.#allowed.has(hostnameOf(origin))) {
      return jsonRpcError(403, -32000, `Forbidden: Origin header ${JSON.stringify(origin)}`);
    }
    return undefined;
  }
}

/** The lower-case host name of a URL (`[::1]` keeps its brackets); "" when unparsable. */
function hostnameOf(url: string): string {
  return URL.parse(url)?.hostname.toLowerCase() ?? "";
}

function chain(first: (() => void) | undefined, second: () => void): () => void {
  return () => {
    first?.();
    second();
  };
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status });
}
