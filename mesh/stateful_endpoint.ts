/**
 * Stateful Streamable HTTP endpoint: one SDK transport and one server per MCP
 * session (`Mcp-Session-Id`, `GET` SSE stream, `DELETE`, resumable streams
 * with an event store), plus DNS-rebinding protection.
 *
 * `initialize` without a session id opens a session; requests that carry one
 * go to its transport. A single POST without a session id that is not
 * `initialize` (how mesh dependency proxies call tools) is served
 * statelessly by the {@linkcode StatelessMcpEndpoint} this class extends,
 * backed by the one server the runtime connects. The MCP specification lets
 * a server decide which requests need a session (servers that require one
 * "SHOULD" answer 400), and only requests that need a session (server to
 * client requests, subscriptions, resumable streams) are worth one.
 *
 * Tool calls in a session pass the same hooks as stateless ones: the
 * interceptor (auth, health, timeout budget, session affinity), the call
 * runner and the result observer.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/server/requestBody"
import { readRequestBody } from "@modelcontextprotocol/sdk/server/requestBody.js";
// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import {
  type EventStore,
  WebStandardStreamableHTTPServerTransport,
} from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  ErrorCode,
  isInitializeRequest,
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type RequestId,
} from "@modelcontextprotocol/sdk/types.js";
import { CallCancellation, followClient, runInCallContext } from "./call_context.ts";
import { acceptsPost, answerOutcome, toolCallOf } from "./fast_call.ts";
import { type McpEndpointOptions, StatelessMcpEndpoint } from "./mcp_endpoint.ts";
import type { McpServerLike } from "./mcp_types.ts";

/** The SDK transport's default limit on request bodies. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Where a session's SSE events are kept so a client that lost a stream can
 * resume it with `Last-Event-ID` (structurally the MCP SDK's `EventStore`;
 * messages are JSON-RPC messages, kept as they are).
 */
export interface SessionEventStore {
  /** Stores one outgoing message of a stream; returns its event id. */
  storeEvent(streamId: string, message: unknown): Promise<string>;
  /** The stream an event id belongs to, if the event is still kept. */
  getStreamIdForEventId?(eventId: string): Promise<string | undefined>;
  /** Sends the stream's events after `lastEventId`, in order, and returns the stream's id. */
  replayEventsAfter(
    lastEventId: string,
    sink: { send(eventId: string, message: unknown): Promise<void> },
  ): Promise<string>;
}

/** Session settings of {@linkcode StatefulMcpEndpoint} (and of `serveStateful`). */
export interface SessionOptions {
  /**
   * Host names (without port) accepted in the `Host` and `Origin` headers of
   * `/mcp`; any other answers 403 (DNS-rebinding protection). `undefined`
   * checks nothing.
   */
  allowedHostnames?: readonly string[];
  /**
   * Creates the event store of a new session, making its SSE streams
   * resumable. One store per session: stream ids repeat across sessions.
   */
  createEventStore?: () => SessionEventStore;
  /** Milliseconds a client waits before reconnecting a closed SSE stream (SEP-1699). */
  retryInterval?: number;
  /**
   * Milliseconds without any request after which a session is closed (its
   * client gets 404 and initializes again). `undefined` keeps sessions until
   * the client deletes them or the endpoint closes.
   */
  idleTimeoutMs?: number;
}

/** Options of {@linkcode StatefulMcpEndpoint}. */
export interface StatefulEndpointOptions extends McpEndpointOptions, SessionOptions {
  /** Builds the server of a new session; called once per `initialize`. */
  createServer: () => McpServerLike;
}

interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServerLike;
  idleTimer?: ReturnType<typeof setTimeout>;
  /** Cancellation of each tool call running in the session, by JSON-RPC id. */
  calls: Map<RequestId, CallCancellation>;
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status });
}

/** The lower-case host name of a URL (`[::1]` keeps its brackets); "" when unparsable. */
function hostnameOf(url: string): string {
  return URL.parse(url)?.hostname.toLowerCase() ?? "";
}

function isCancelledNotification(
  message: JSONRPCMessage,
): message is JSONRPCMessage & { params: { requestId: RequestId; reason?: string } } {
  return "method" in message && message.method === "notifications/cancelled" &&
    !("id" in message) && message.params?.requestId !== undefined;
}

function isResponse(message: JSONRPCMessage): boolean {
  return isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message);
}

/** The request body (at most 4 MiB, as the transport reads it), or the 413 answer. */
async function readBody(request: Request): Promise<string | Response> {
  const body = await readRequestBody(request, MAX_BODY_BYTES);
  return body.tooLarge ? jsonRpcError(413, -32000, "Payload too large") : body.text;
}

/** `request` again, its body replaced by `body` (already read). */
function withBody(request: Request, body: string): Request {
  return new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body,
  });
}

/**
 * `/mcp` with MCP sessions: per-session transports and servers, sessionless
 * single requests served statelessly by the connected server.
 */
export class StatefulMcpEndpoint extends StatelessMcpEndpoint {
  /** Initialized sessions by id. */
  readonly #byId = new Map<string, Session>();
  /** Every session with an open server, initialized or not. */
  readonly #open = new Set<Session>();
  readonly #options: StatefulEndpointOptions;
  readonly #allowed: ReadonlySet<string> | undefined;
  #draining = false;

  /** An endpoint creating session servers with `options.createServer`. */
  constructor(options: StatefulEndpointOptions) {
    super(options);
    this.#options = options;
    this.#allowed = options.allowedHostnames &&
      new Set(options.allowedHostnames.map((name) => name.toLowerCase()));
  }

  /** Number of initialized sessions. */
  get sessionCount(): number {
    return this.#byId.size;
  }

  /** Answers one HTTP request to `/mcp` (POST, GET or DELETE). */
  override async handle(request: Request): Promise<Response> {
    const refusal = this.#refuseForeignHost(request);
    if (refusal) {
      await request.body?.cancel();
      return refusal;
    }
    if (
      this.#draining && (request.method === "GET" || request.headers.get("mcp-session-id") === null)
    ) {
      await request.body?.cancel();
      return jsonRpcError(503, -32000, "Service Unavailable: the agent is shutting down");
    }
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId !== null) {
      const session = this.#byId.get(sessionId);
      if (!session) {
        await request.body?.cancel();
        return jsonRpcError(404, -32001, "Session not found");
      }
      this.#touch(session);
      if (request.method !== "POST") return await session.transport.handleRequest(request);
      return await this.#sessionPost(session, request);
    }
    if (request.method !== "POST") {
      await request.body?.cancel();
      return jsonRpcError(400, -32000, "Bad Request: Mcp-Session-Id header is required");
    }
    const text = await readBody(request);
    if (text instanceof Response) return text;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return jsonRpcError(400, ErrorCode.ParseError, "Parse error: the body is not JSON");
    }
    if (!isInitializeRequest(body)) return await super.handle(withBody(request, text));
    const session = await this.#openSession();
    return await session.transport.handleRequest(request, { parsedBody: body });
  }

  /**
   * Prepares a shutdown: closes every session's standalone SSE stream (which
   * would keep the HTTP server from draining) and answers 503 to new streams
   * and sessionless requests; requests in open sessions still run.
   */
  drain(): void {
    this.#draining = true;
    for (const { transport } of this.#open) transport.closeStandaloneSSEStream();
  }

  /** Closes every session, then the stateless side. */
  override async close(): Promise<void> {
    await Promise.all([...this.#open].map(({ server }) => server.close()));
    await super.close();
  }

  /** A POST in a session: a single `tools/call` passes the interceptor first. */
  async #sessionPost(session: Session, request: Request): Promise<Response> {
    const intercept = this.#options.interceptToolCall;
    const transport = session.transport;
    // Headers the transport refuses: it answers 4xx before running anything.
    if (!intercept || !acceptsPost(request.headers)) return await transport.handleRequest(request);
    const text = await readBody(request);
    if (text instanceof Response) return text;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return await transport.handleRequest(withBody(request, text));
    }
    const call = toolCallOf(parsed);
    if (!call) {
      if (Array.isArray(parsed) && parsed.some(toolCallOf)) {
        return jsonRpcError(400, -32600, "Invalid Request: tools/call cannot be batched here");
      }
      return await transport.handleRequest(request, { parsedBody: parsed });
    }
    const runCall = this.#options.runCall ?? runInCallContext;
    // The call's nested proxy calls abort with it: on the client's
    // `notifications/cancelled` (see #observe), or when its request closes
    // (sessions are no hot path, so the client is followed at once).
    const cancellation = new CallCancellation();
    const { name, args, id } = call;
    session.calls.set(call.id, cancellation);
    // A client going away cancels the call here; the session's server hears of it like of the
    // client's own notice, so the tool's signal aborts too (a duplicate notice is ignored).
    cancellation.signal.addEventListener("abort", () => {
      if (session.calls.get(call.id) !== cancellation) return;
      const { reason } = cancellation.signal;
      session.transport.onmessage?.({
        jsonrpc: "2.0",
        method: "notifications/cancelled",
        params: {
          requestId: call.id,
          reason: reason instanceof Error ? reason.message : String(reason),
        },
      });
    }, { once: true });
    let running = false;
    try {
      return await runCall(
        request,
        () =>
          intercept({ name, args, id, request, cancellation }, async () => {
            const response = await transport.handleRequest(request, { parsedBody: parsed });
            // Running: the transport's answer for the call ends it (see #observe).
            running = true;
            return followClient(response, cancellation);
          }),
        cancellation,
      );
    } finally {
      // Refused, forwarded to the session's owner, or failed: it runs nowhere here.
      if (!running && session.calls.get(call.id) === cancellation) session.calls.delete(call.id);
    }
  }

  async #openSession(): Promise<Session> {
    const { createServer, createEventStore, retryInterval } = this.#options;
    const server = createServer();
    const session: Session = {
      server,
      calls: new Map(),
      transport: new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        onsessioninitialized: (id) => {
          this.#byId.set(id, session);
          this.#touch(session);
        },
        eventStore: createEventStore?.() as EventStore | undefined,
        retryInterval,
      }),
    };
    this.#open.add(session);
    await server.connect(session.transport);
    this.#observe(session);
    return session;
  }

  /**
   * Hooks into the connected transport: session cleanup, cancellation of
   * running calls and tool results.
   */
  #observe(session: Session): void {
    const { transport, calls } = session;
    const { onclose, onmessage, send } = transport;
    transport.onclose = () => {
      onclose?.call(transport);
      clearTimeout(session.idleTimer);
      if (transport.sessionId) this.#byId.delete(transport.sessionId);
      this.#open.delete(session);
    };
    const report = this.#options.onToolResult;
    const started = new Map<RequestId, { name: string; started: number }>();
    transport.onmessage = (message, extra) => {
      if (isJSONRPCRequest(message) && message.method === "tools/call" && report) {
        const name = String(message.params?.name ?? "");
        started.set(message.id, { name, started: performance.now() });
      } else if (isCancelledNotification(message)) {
        const { requestId, reason } = message.params;
        calls.get(requestId)?.cancel(reason ?? "cancelled by the client");
      }
      onmessage?.call(transport, message, extra);
    };
    transport.send = (message, options) => {
      if (isResponse(message)) {
        const { id } = message as { id: RequestId };
        calls.delete(id);
        const call = started.get(id);
        if (call) {
          started.delete(id);
          report!(call.name, answerOutcome(message), (performance.now() - call.started) / 1000);
        }
      }
      return send.call(transport, message, options);
    };
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
