/**
 * Stateless Streamable HTTP endpoint for one long-lived `McpServer`.
 *
 * The MCP SDK's web-standard transport must be fresh for every stateless
 * request, while an `McpServer` connects to exactly one transport. This
 * endpoint is that one transport: each HTTP request gets its own
 * `WebStandardStreamableHTTPServerTransport`, whose JSON-RPC request ids are
 * renamed to endpoint-unique ids on the way in and restored on the way out,
 * so any number of clients share the server concurrently, and progress or
 * server-to-client requests travel on the SSE stream of the request they
 * belong to.
 *
 * Fast path: a plain `tools/call` of a tool the agent hands over
 * ({@linkcode FastToolHost}) runs without a transport, a JSON-RPC re-parse
 * or a result re-parse, and answers the same bytes (see `fast_call.ts`): one
 * SSE event, or an SSE stream once the tool sends a notification (progress).
 * Everything else (initialize, lists, notifications, batches, task-augmented
 * calls, arguments that fail validation, unknown tools) goes the standard
 * way. Both paths run through the same hooks ({@linkcode McpEndpointOptions}).
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/server/requestBody"
import { readRequestBody } from "@modelcontextprotocol/sdk/server/requestBody.js";
// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type JSONRPCResponse,
  type MessageExtraInfo,
  type RequestId,
} from "@modelcontextprotocol/sdk/types.js";
import { CallCancellation, followClient, runInCallContext } from "./call_context.ts";
import {
  acceptsPost,
  answerOutcome,
  FastAnswer,
  type FastTool,
  type FastToolHost,
  runFastTool,
  sseEvent,
  toolCallAnswer,
  toolCallOf,
  type ToolCallRequest,
} from "./fast_call.ts";
import type { ToolContext, ToolNotification } from "./mcp_types.ts";

/** The SDK transport's SSE keep-alive period: a comment on streams open that long. */
const KEEP_ALIVE_MS = 15_000;
/** How often pending calls are checked for a due keep-alive or request watch. */
const KEEP_ALIVE_CHECK_MS = 1_000;
/**
 * Age after which a pending fast call follows its client (its answer becomes
 * a stream), so a client going away cancels it (a short call spares that cost).
 */
const WATCH_CLIENT_AFTER_MS = 1_000;
/** The SDK transport's default limit on request bodies. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

type Deliver = (message: JSONRPCMessage, options?: TransportSendOptions) => Promise<void>;

/** The `tools/call` an interceptor sees. */
export interface ToolCallInfo {
  /** Tool name (`""` when the request names none). */
  name: string;
  /** Arguments as sent, before validation. */
  args: Record<string, unknown>;
  /** The client's JSON-RPC id. */
  id: string | number;
  /** The HTTP request (its body is already read; its `signal` is never to be read). */
  request: Request;
  /** The call's cancellation: {@linkcode followClient} an answer to abort it when the client goes away. */
  cancellation: CallCancellation;
}

/**
 * Wraps the handling of one `tools/call`: answer it yourself (a 401, a
 * forward to another replica) or `await next()` for the endpoint's answer.
 */
export type ToolCallInterceptor = (
  call: ToolCallInfo,
  next: () => Promise<Response>,
) => Promise<Response>;

/** Reports one finished `tools/call`: its tool, outcome and duration in seconds. */
export type ToolResultObserver = (
  name: string,
  outcome: "success" | "error",
  seconds: number,
) => void;

/**
 * Runs `fn` in the context of `request` (such as an `AsyncLocalStorage`
 * scope); `cancellation` aborts when the call is cancelled.
 */
export type CallRunner = <T>(request: Request, fn: () => T, cancellation?: CallCancellation) => T;

/** Options of {@linkcode StatelessMcpEndpoint}. */
export interface McpEndpointOptions {
  /** Receives server messages no request waits for (such as `list_changed`). */
  onUnrouted?: (message: JSONRPCMessage) => void;
  /** The agent's tools the fast path may serve; without it every call goes the standard way. */
  fastTools?: FastToolHost;
  /** Serves every request the standard way (differential tests and benchmarks). */
  forceStandard?: boolean;
  /**
   * Wraps each single `tools/call` POST: the interceptor and the tool's
   * execution run inside it, on both paths. Default: `runInCallContext`
   * (deadline and headers for nested proxy calls).
   */
  runCall?: CallRunner;
  /**
   * Called for every single `tools/call` POST the transport accepts, before
   * anything runs, on both paths. When set, a batch holding a `tools/call` is
   * refused (400): a batch has no single answer to intercept.
   */
  interceptToolCall?: ToolCallInterceptor;
  /**
   * Called once per `tools/call` that ran over HTTP (either path, batches
   * included): outcome `"error"` for an `isError` result or a JSON-RPC error.
   * Calls an interceptor answered itself are not reported.
   */
  onToolResult?: ToolResultObserver;
}

interface Route {
  originalId: RequestId;
  deliver: Deliver;
  /** The tool and start time of an HTTP `tools/call`, for `onToolResult`. */
  observed?: { name: string; started: number };
  /** Cancels an HTTP `tools/call` (the client sent `notifications/cancelled` for it). */
  cancel?: (reason: unknown) => void;
}

/** A fast `tools/call` waiting for its tool. */
interface PendingCall {
  /** `performance.now()` at its start. */
  started: number;
  /** Its answer (kept alive while pending). */
  answer: FastAnswer;
}

function isResponse(message: JSONRPCMessage): message is JSONRPCResponse {
  return isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message);
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status });
}

/**
 * The request body as the transport reads it (at most 4 MiB): `text()` when
 * the declared length fits, the transport's bounded reader otherwise.
 */
async function readBody(request: Request): Promise<{ tooLarge: boolean; text?: string }> {
  const length = request.headers.get("content-length");
  if (length !== null && Number(length) <= MAX_BODY_BYTES) {
    return { tooLarge: false, text: await request.text() };
  }
  return await readRequestBody(request, MAX_BODY_BYTES);
}

/** The SSE event of `message`, or nothing when it does not serialize (as the transport does). */
function sseEventOrNothing(message: unknown): string {
  try {
    return sseEvent(message);
  } catch {
    return "";
  }
}

/**
 * The context a fast call's tool gets. A class: object literals with getters
 * cost about a microsecond each to create.
 */
class FastToolContext implements ToolContext {
  readonly requestId: string;
  readonly _meta?: ToolContext["_meta"];
  agentId = ""; // set by the tool runner
  readonly #request: Request;
  readonly #cancellation: CallCancellation;
  readonly #host: FastToolHost;
  #requestInfo?: ToolContext["requestInfo"];

  constructor(
    request: Request,
    requestId: string,
    meta: ToolContext["_meta"],
    cancellation: CallCancellation,
    host: FastToolHost,
  ) {
    this.#request = request;
    this.requestId = requestId;
    this._meta = meta;
    this.#cancellation = cancellation;
    this.#host = host;
  }

  /**
   * Aborts when the call is cancelled, or when its client goes away once the
   * call has run for {@linkcode WATCH_CLIENT_AFTER_MS} (a shorter call keeps
   * its fixed-length answer).
   */
  get signal(): AbortSignal {
    return this.#cancellation.signal;
  }

  get requestInfo(): ToolContext["requestInfo"] {
    return this.#requestInfo ??= {
      headers: Object.fromEntries(this.#request.headers),
      url: new URL(this.#request.url),
    } as ToolContext["requestInfo"];
  }

  sendNotification(notification: ToolNotification): Promise<void> {
    return this.#host.notify(notification, this.requestId);
  }
}

/** The single transport of an agent's `McpServer`, fed by many HTTP requests. */
export class StatelessMcpEndpoint implements Transport {
  /** Set by the SDK when the server connects. */
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  /** Set by the SDK when the server connects. */
  onclose?: () => void;
  /** Set by the SDK when the server connects. */
  onerror?: (error: Error) => void;

  #nextId = 0;
  #routes = new Map<RequestId, Route>();
  #options: McpEndpointOptions;
  #runCall: CallRunner;
  #pending = new Map<CallCancellation, PendingCall>();
  #keepAlive?: ReturnType<typeof setInterval>;

  /** An endpoint with the given hooks; see {@linkcode McpEndpointOptions}. */
  constructor(options: McpEndpointOptions = {}) {
    this.#options = options;
    this.#runCall = options.runCall ?? runInCallContext;
  }

  /** No-op: requests arrive through {@linkcode handle}. */
  async start(): Promise<void> {}

  /** Drops pending routes and tells the server the transport closed. */
  close(): Promise<void> {
    this.#routes.clear();
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    this.onclose?.();
    return Promise.resolve();
  }

  /** Routes a server message to the HTTP request it answers or relates to. */
  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const id = isResponse(message) ? message.id : options?.relatedRequestId;
    const route = id === undefined ? undefined : this.#routes.get(id);
    // Stateless: no standalone stream exists for unrelated notifications.
    if (!route) return this.#options.onUnrouted?.(message);
    try {
      if (isResponse(message)) {
        this.#routes.delete(id!);
        if (route.observed) this.#observe(route.observed, message);
        await route.deliver({ ...message, id: route.originalId });
      } else {
        await route.deliver(message, { relatedRequestId: route.originalId });
      }
    } catch (error) {
      // The client went away before its answer was ready; nothing to deliver to.
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #observe(observed: { name: string; started: number }, answer: unknown): void {
    const seconds = (performance.now() - observed.started) / 1000;
    this.#options.onToolResult?.(observed.name, answerOutcome(answer), seconds);
  }

  #receive(
    message: JSONRPCMessage,
    deliver: Deliver,
    extra?: MessageExtraInfo,
    overHttp = false,
    cancellation?: CallCancellation,
  ): void {
    if (!isJSONRPCRequest(message)) {
      if ("method" in message && message.method === "notifications/cancelled") {
        this.#cancel(message.params as { requestId?: RequestId; reason?: string } | undefined);
      } else {
        this.onmessage?.(message, extra);
      }
      return;
    }
    const id = `mesh-${++this.#nextId}`;
    const call = overHttp && message.method === "tools/call";
    const observed = call && this.#options.onToolResult
      ? { name: String(message.params?.name ?? ""), started: performance.now() }
      : undefined;
    const route: Route = { originalId: message.id, deliver, observed };
    if (call && cancellation) {
      // The server's own request handling aborts through its cancellation notice.
      route.cancel = (reason) => cancellation.cancel(reason);
      cancellation.signal.addEventListener("abort", () => {
        if (!this.#routes.has(id)) return;
        this.#routes.delete(id);
        const reason = cancellation.signal.reason;
        this.onmessage?.({
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: id, reason: typeof reason === "string" ? reason : String(reason) },
        });
      }, { once: true });
    }
    this.#routes.set(id, route);
    this.onmessage?.({ ...message, id }, extra);
  }

  /**
   * Cancels the pending HTTP call the client's `notifications/cancelled`
   * names. Stateless requests carry no session, so ids of different clients
   * may collide: an id more than one pending call has is ignored (MCP
   * cancellation is best effort).
   */
  #cancel(params: { requestId?: RequestId; reason?: string } | undefined): void {
    if (params?.requestId === undefined) return;
    let match: Route | undefined;
    for (const route of this.#routes.values()) {
      if (!route.cancel || route.originalId !== params.requestId) continue;
      if (match) return;
      match = route;
    }
    match?.cancel?.(params.reason ?? "cancelled by the client");
  }

  /** Answers one HTTP request to `/mcp` (POST; GET and DELETE get 405 in stateless mode). */
  async handle(request: Request): Promise<Response> {
    if (request.method !== "POST") {
      await request.body?.cancel();
      return Response.json(
        {
          jsonrpc: "2.0",
          error: { code: -32000, message: "Method not allowed: this server is stateless" },
          id: null,
        },
        { status: 405, headers: { Allow: "POST" } },
      );
    }
    // Headers the transport refuses: it answers 4xx before reading the body.
    if (!acceptsPost(request.headers)) return await this.#standard(request);
    const body = await readBody(request);
    if (body.tooLarge) {
      // The transport answers 413 from the declared length alone.
      const headers = new Headers(request.headers);
      headers.set("content-length", String(MAX_BODY_BYTES + 1));
      return await this.#standard(new Request(request.url, { method: "POST", headers }));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.text!);
    } catch {
      // Let the transport answer the parse error.
      const retry = new Request(request.url, {
        method: "POST",
        headers: request.headers,
        body: body.text,
      });
      return await this.#standard(retry);
    }
    const call = toolCallOf(parsed);
    if (!call) {
      if (this.#options.interceptToolCall && Array.isArray(parsed) && parsed.some(toolCallOf)) {
        return jsonRpcError(400, -32600, "Invalid Request: tools/call cannot be batched here");
      }
      return await this.#standard(request, parsed);
    }
    const tool = this.#fastTool(call);
    const cancellation = new CallCancellation();
    // Only the tool runs in the call's context (what its proxies inherit): the
    // fewer promises inside it, the cheaper (each one carries the context).
    const execute = tool
      ? () => this.#fast(request, call, tool, cancellation)
      : async () =>
        followClient(
          await this.#runCall(
            request,
            () => this.#standard(request, parsed, cancellation),
            cancellation,
          ),
          cancellation,
        );
    const intercept = this.#options.interceptToolCall;
    return intercept
      ? await intercept(
        { name: call.name, args: call.args, id: call.id, request, cancellation },
        execute,
      )
      : await execute();
  }

  /** The tool the fast path serves `call` with, when it may (valid arguments included). */
  #fastTool(call: ToolCallRequest): { tool: FastTool; args: Record<string, unknown> } | undefined {
    if (!call.plain || this.#options.forceStandard) return undefined;
    const tool = this.#options.fastTools?.tool(call.name);
    if (!tool) return undefined;
    if (!tool.input) return { tool, args: {} };
    try {
      const parsed = tool.input.safeParse(call.args);
      // Invalid arguments: the standard path words the error.
      return parsed.success ? { tool, args: parsed.data as Record<string, unknown> } : undefined;
    } catch {
      // An asynchronous schema: the standard path awaits it.
      return undefined;
    }
  }

  /**
   * Serves `request` through a fresh SDK transport (its body already
   * `parsedBody` when given); `cancellation` is that of its single `tools/call`.
   */
  async #standard(
    request: Request,
    parsedBody?: unknown,
    cancellation?: CallCancellation,
  ): Promise<Response> {
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
    });
    const deliver: Deliver = (message, options) => transport.send(message, options);
    transport.onmessage = (message: JSONRPCMessage, extra?: MessageExtraInfo) =>
      this.#receive(message, deliver, extra, true, cancellation);
    await transport.start();
    return await transport.handleRequest(request, { parsedBody });
  }

  /** Runs a validated call of a fast tool and answers what the standard path would. */
  #fast(
    request: Request,
    call: ToolCallRequest,
    { tool, args }: { tool: FastTool; args: Record<string, unknown> },
    cancellation: CallCancellation,
  ): Promise<Response> {
    const id = `mesh-${++this.#nextId}`;
    const answer = new FastAnswer();
    const observed = { name: call.name, started: performance.now() };
    // Notifications the tool sends come back through `send` on this route.
    this.#routes.set(id, {
      originalId: call.id,
      deliver: (message) => Promise.resolve(answer.write(sseEvent(message))),
      cancel: (reason) => cancellation.cancel(reason),
    });
    cancellation.watchWith(() => answer.follow(() => cancellation.clientGone()));
    this.#track(cancellation, { started: observed.started, answer });
    const context = new FastToolContext(
      request,
      id,
      call.meta,
      cancellation,
      this.#options.fastTools!,
    );
    const run = () => runFastTool(tool, call.name, args, context);
    (tool.hasDependencies ? this.#runCall(request, run, cancellation) : run())
      .then((result) => {
        this.#routes.delete(id);
        this.#pending.delete(cancellation);
        const message = toolCallAnswer(call.id, result);
        if (this.#options.onToolResult) this.#observe(observed, message);
        answer.finish(sseEventOrNothing(message));
      });
    return answer.response;
  }

  /**
   * Makes fast calls running past {@linkcode WATCH_CLIENT_AFTER_MS} follow
   * their client, so it going away cancels them, and keeps long ones alive
   * like the transport does (a comment every 15 s). Standard calls follow
   * their client from the start (the transport's answer is a stream anyway).
   */
  #track(cancellation: CallCancellation, call: PendingCall): void {
    this.#pending.set(cancellation, call);
    if (this.#keepAlive !== undefined) return;
    const timer = setInterval(() => {
      const now = performance.now();
      for (const [cancellation, { started, answer }] of this.#pending) {
        if (now - started >= WATCH_CLIENT_AFTER_MS) cancellation.watchClient();
        if (now - answer.lastWrite >= KEEP_ALIVE_MS) answer.write(": keepalive\n\n");
      }
      if (this.#pending.size === 0) {
        clearInterval(this.#keepAlive);
        this.#keepAlive = undefined;
      }
    }, KEEP_ALIVE_CHECK_MS);
    Deno.unrefTimer(timer);
    this.#keepAlive = timer;
  }

  /** Sends a request to the server in-process (no HTTP) and resolves with its answer. */
  dispatch(request: Omit<JSONRPCRequest, "jsonrpc" | "id">): Promise<JSONRPCResponse> {
    return new Promise((resolve) => {
      const deliver: Deliver = (message) => {
        if (isResponse(message)) resolve(message);
        return Promise.resolve();
      };
      this.#receive({ jsonrpc: "2.0", id: 0, ...request } as JSONRPCRequest, deliver);
    });
  }
}
