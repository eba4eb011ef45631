/**
 * Dependency proxies handed to tool methods: {@linkcode McpMeshTool}.
 *
 * A dependency resolved to the agent itself is a {@linkcode LocalTool} that
 * calls the method directly; any other is a {@linkcode RemoteTool} speaking
 * MCP JSON-RPC (`tools/call`) to `{endpoint}/mcp` (over the agent's pooled
 * {@linkcode HttpClient} for `http:` endpoints, else `fetch`), honoring the
 * provider's advertised `timeout`, `retry_count`, `custom_headers` and
 * `auth_required`. A remote proxy spreads its calls over every provider of
 * the dependency ({@linkcode Balancer}), skips endpoints whose circuit is open,
 * fails over when a retry is safe, carries the caller's remaining timeout
 * budget (`X-Mesh-Timeout`) and routes session calls to their owner.
 *
 * @module
 */

import { SESSION_OWNER_HEADER, sessionIdOf, SessionRoutes } from "./affinity.ts";
import { Balancer, NoProviderError, type Provider, type SelectionStrategy } from "./balancer.ts";
import { currentCallContext } from "./call_context.ts";
import { BreakerBoard, type CircuitBreakerOptions } from "./circuit_breaker.ts";
import { type HttpAnswer, type HttpClient, NotSentError } from "./http_client.ts";
import { describeError } from "./log.ts";
import type { ToolCallResult, ToolProgress } from "./mcp_types.ts";
import { MCP_PROTOCOL_VERSION, MESH_TIMEOUT_HEADER, type ResolvedDependency } from "./protocol.ts";
import { resultValue } from "./tool_result.ts";

/** Per-call settings of a proxy. */
export interface CallOptions {
  /** Timeout in milliseconds, replacing the provider's advertised one. */
  timeout?: number;
  /** Aborts the call (default: the signal of the tool call being served, if any). */
  signal?: AbortSignal;
  /** Extra headers for this call. */
  headers?: Record<string, string>;
}

/** One item of {@linkcode McpMeshTool.stream}: progress, then the final result. */
export type ToolStreamEvent =
  | { type: "progress"; progress: ToolProgress }
  | { type: "result"; result: ToolCallResult };

/** A callable dependency: a tool of some agent that provides the capability. */
export interface McpMeshTool {
  /** Capability that matched. */
  readonly capability: string;
  /** Provider agent id. */
  readonly agentId: string;
  /** Provider base URL. */
  readonly endpoint: string;
  /** Tool name on the provider. */
  readonly functionName: string;
  /** Every provider endpoint calls may go to, the registry's choice first. */
  readonly endpoints: readonly string[];
  /**
   * Calls the tool; resolves with its structured content when it has one,
   * else its text. Throws an `Error` with the tool's message when it fails.
   */
  call(args?: Record<string, unknown>, options?: CallOptions): Promise<unknown>;
  /** Calls the tool and resolves with the full MCP `CallToolResult`. */
  callRaw(args?: Record<string, unknown>, options?: CallOptions): Promise<ToolCallResult>;
  /** Calls the tool and yields its progress notifications, then its result. */
  stream(args?: Record<string, unknown>, options?: CallOptions): AsyncIterable<ToolStreamEvent>;
}

/** Where a proxy points. */
export interface ToolTarget {
  /** Capability that matched. */
  capability: string;
  /** Provider agent id. */
  agentId: string;
  /** Provider base URL. */
  endpoint: string;
  /** Tool name on the provider. */
  functionName: string;
}

abstract class BaseTool implements McpMeshTool {
  readonly capability: string;
  readonly agentId: string;
  readonly endpoint: string;
  readonly functionName: string;

  constructor(target: ToolTarget) {
    this.capability = target.capability;
    this.agentId = target.agentId;
    this.endpoint = target.endpoint;
    this.functionName = target.functionName;
  }

  get endpoints(): readonly string[] {
    return [this.endpoint];
  }

  async call(args?: Record<string, unknown>, options?: CallOptions): Promise<unknown> {
    return resultValue(await this.callRaw(args, options));
  }

  abstract callRaw(args?: Record<string, unknown>, options?: CallOptions): Promise<ToolCallResult>;

  abstract stream(
    args?: Record<string, unknown>,
    options?: CallOptions,
  ): AsyncIterable<ToolStreamEvent>;
}

/** One in-process call of a {@linkcode LocalTool}: the caller's options and where progress goes. */
export interface LocalCall {
  /** The caller's per-call settings (signal, headers). */
  options: CallOptions;
  /** Receives the tool's progress notifications when the caller streams them. */
  onProgress?: (progress: ToolProgress) => void;
}

/** Runs a tool of the same agent in-process. */
export type LocalInvoke = (
  args: Record<string, unknown>,
  call: LocalCall,
) => Promise<ToolCallResult>;

/** A tool of the same agent: calls it in-process, without HTTP. */
export class LocalTool extends BaseTool {
  #invoke: LocalInvoke;

  /** `invoke` runs the tool with validated-or-rejected arguments. */
  constructor(target: ToolTarget, invoke: LocalInvoke) {
    super(target);
    this.#invoke = invoke;
  }

  /** Runs the tool in-process. */
  callRaw(args: Record<string, unknown> = {}, options: CallOptions = {}): Promise<ToolCallResult> {
    return this.#invoke(args, { options });
  }

  /** Runs the tool in-process, yielding its progress notifications as they come, then its result. */
  async *stream(
    args: Record<string, unknown> = {},
    options: CallOptions = {},
  ): AsyncIterable<ToolStreamEvent> {
    const progress: ToolProgress[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const onProgress = (item: ToolProgress) => {
      progress.push(item);
      wake?.();
    };
    const result = this.#invoke(args, { options, onProgress }).finally(() => {
      done = true;
      wake?.();
    });
    // Awaited below, once every progress item is out.
    result.catch(() => {});
    for (;;) {
      while (progress.length > 0) yield { type: "progress", progress: progress.shift()! };
      if (done) break;
      await new Promise<void>((resolve) => wake = resolve);
      wake = undefined;
    }
    yield { type: "result", result: await result };
  }
}

/** Longest delay `setTimeout` takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A call waiting for its deadline in {@linkcode DeadlineTimer}. */
interface Expiry {
  deadline: number;
  expire(): void;
}

/**
 * Expires calls at their deadlines with one timer for all of them, armed for
 * the earliest deadline and stopped when no call is pending (a timer per call
 * costs more than the rest of a proxy's bookkeeping).
 */
class DeadlineTimer {
  #pending = new Set<Expiry>();
  #timer?: ReturnType<typeof setTimeout>;
  #armedFor = Infinity;

  /** Calls `expire` at `deadline` (epoch ms) unless the returned function is called first. */
  add(deadline: number, expire: () => void): () => void {
    const entry = { deadline, expire };
    this.#pending.add(entry);
    if (deadline < this.#armedFor) this.#arm(deadline);
    return () => {
      this.#pending.delete(entry);
      if (this.#pending.size === 0) this.#arm(Infinity);
    };
  }

  #arm(deadline: number): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = deadline;
    if (deadline === Infinity) return;
    // Timers take at most 2^31 - 1 ms; a later deadline is re-armed when that fires.
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, deadline - Date.now()));
    this.#timer = setTimeout(() => this.#fire(), delay);
  }

  #fire(): void {
    const now = Date.now();
    let next = Infinity;
    for (const entry of this.#pending) {
      if (entry.deadline > now) {
        next = Math.min(next, entry.deadline);
        continue;
      }
      this.#pending.delete(entry);
      entry.expire();
    }
    this.#arm(next);
  }
}

/** The deadlines of every remote call of this process. */
const deadlines = new DeadlineTimer();

/** Headers of every MCP call a proxy makes. */
const MCP_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "application/json",
  Accept: "application/json, text/event-stream",
  "MCP-Protocol-Version": MCP_PROTOCOL_VERSION,
};

/** The end of a proxy's JSON-RPC body, after the call's arguments. */
const BODY_TAIL = ',"_meta":{"progressToken":1}}}';

/** Default call timeout when the provider advertises none (mcp-mesh: 30 s). */
export const DEFAULT_TIMEOUT_MS = 30_000;

const RETRY_BASE_MS = 100;
const RETRY_CAP_MS = 2_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Aborts `controller` when `signal` aborts (cheaper than `AbortSignal.any`);
 * returns the function that stops following it.
 */
function abortWith(controller: AbortController, signal: AbortSignal): () => void {
  if (signal.aborted) {
    controller.abort(signal.reason);
    return () => {};
  }
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}

/** Splits complete SSE events off `buffer`; returns their JSON data and the rest. */
function takeSseEvents(buffer: string): { messages: unknown[]; rest: string } {
  const messages: unknown[] = [];
  let start = 0;
  for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n", start)) {
    const data = eventData(buffer, start, end);
    start = end + 2;
    if (data !== "") messages.push(JSON.parse(data));
  }
  return { messages, rest: buffer.slice(start) };
}

/** The `data:` lines of the SSE event in `text[start, end)`, joined by "\n". */
function eventData(text: string, start: number, end: number): string {
  let data: string | undefined;
  while (start < end) {
    let lineEnd = text.indexOf("\n", start);
    if (lineEnd < 0 || lineEnd > end) lineEnd = end;
    if (text.startsWith("data:", start)) {
      const from = text.charCodeAt(start + 5) === 0x20 ? start + 6 : start + 5;
      const line = text.slice(from, lineEnd);
      data = data === undefined ? line : `${data}\n${line}`;
    }
    start = lineEnd + 1;
  }
  return data ?? "";
}

/** The JSON messages of a whole SSE answer. */
function sseMessages(text: string): unknown[] {
  return takeSseEvents(text.replaceAll("\r\n", "\n") + "\n\n").messages;
}

/**
 * The JSON messages of an SSE answer, as they arrive. An answer of known
 * length (one the provider wrote whole) is read in one go, which is much
 * cheaper than decoding a stream.
 */
async function* readSse(response: HttpAnswer): AsyncGenerator<unknown> {
  if (response.headers.has("content-length")) {
    yield* sseMessages(await response.text());
    return;
  }
  let buffer = "";
  for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
    const { messages, rest } = takeSseEvents(buffer + chunk.replaceAll("\r\n", "\n"));
    buffer = rest;
    yield* messages;
  }
}

/** One JSON-RPC message of a provider's answer. */
interface JsonRpcAnswer {
  id?: unknown;
  method?: string;
  params?: Record<string, unknown>;
  result?: ToolCallResult;
  error?: { code: number; message: string };
}

/** Why one HTTP attempt to a provider failed before it answered 2xx. */
export class TransportFailure extends Error {
  /** HTTP status, when the provider answered. */
  readonly status?: number;
  /** True when the request surely never reached the provider (connection refused). */
  readonly notSent: boolean;

  /** `detail` is the connection error or the start of the answer's body. */
  constructor(detail: string, status?: number, notSent = false) {
    super(detail);
    this.name = "TransportFailure";
    this.status = status;
    this.notSent = notSent;
  }

  /** Connection failures and 5xx answers are worth retrying; 4xx are not. */
  get retryable(): boolean {
    return this.status === undefined || this.status >= 500;
  }

  /** Another provider may take the call without running it twice. */
  get safeToFailOver(): boolean {
    return this.notSent || this.status === 502 || this.status === 503;
  }
}

/**
 * The plain transport under every remote proxy: one `POST {endpoint}/mcp`
 * with a JSON-RPC `body`, over `http` when given and the endpoint is plain
 * `http:`, else with `fetch`. Resolves with the 2xx response; throws a
 * {@linkcode TransportFailure} when the provider is unreachable or answers
 * otherwise, and the abort reason when `signal` aborts.
 */
export async function postToolCall(
  endpoint: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  http?: HttpClient,
): Promise<HttpAnswer> {
  let response: HttpAnswer;
  try {
    const url = `${endpoint}/mcp`;
    response = http !== undefined && url.startsWith("http:")
      ? await http.post(url, headers, body, signal)
      : await fetch(url, { method: "POST", headers, body, signal });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    const reason = describeError(error);
    throw new TransportFailure(
      reason,
      undefined,
      error instanceof NotSentError || /refused/i.test(reason),
    );
  }
  if (response.ok) return response;
  const text = await response.text();
  throw new TransportFailure(text.slice(0, 200), response.status);
}

/** Reports the outcome of each attempt a proxy makes (implemented by the agent's metrics). */
export interface ProxyObserver {
  /** One attempt to `endpoint` for `capability` ended with `status`. */
  proxyCall(capability: string, endpoint: string, status: "success" | "error"): void;
  /** A call could not reach `endpoint` at all (connection refused): the provider may be gone. */
  providerUnreachable?(endpoint: string): void;
}

/** Settings of a {@linkcode RemoteTool} besides its resolved dependency. */
export interface RemoteToolOptions {
  /** Bearer token sent when the provider advertises `auth_required`. */
  authToken?: string;
  /** How calls spread over the providers (default `"round-robin"`). */
  strategy?: SelectionStrategy;
  /** Circuit breaker settings for this dependency's endpoints. */
  circuitBreaker?: CircuitBreakerOptions;
  /** The agent's breakers by endpoint (default: a board of this proxy's own). */
  breakers?: BreakerBoard;
  /** The agent's memory of session owners (default: this proxy's own). */
  sessions?: SessionRoutes;
  /** Receives the outcome of every attempt. */
  observer?: ProxyObserver;
  /** The agent's connection pool for `http:` providers (default: `fetch`). */
  http?: HttpClient;
}

interface RemoteProvider extends Provider {
  readonly agentId: string;
  readonly endpoint: string;
  readonly functionName: string;
}

/** One call being made: what every attempt of it sends and is bounded by. */
interface PendingCall {
  body: string;
  headers: Record<string, string>;
  deadline: number;
  sessionId: string | undefined;
  signal: AbortSignal;
  /** Clears the call's timeout. */
  done(): void;
}

/** A tool provided by one or more other agents, called over MCP Streamable HTTP. */
export class RemoteTool extends BaseTool {
  #balancer: Balancer<RemoteProvider>;
  #timeoutMs: number;
  #retryCount: number;
  #idempotent: boolean;
  #sessionRequired: boolean;
  /** Headers of every call: MCP's, then the provider's custom ones and its token. */
  #headers: Record<string, string>;
  /** The JSON-RPC body up to the call's arguments (the rest is {@linkcode BODY_TAIL}). */
  #bodyHead: string;
  #sessions: SessionRoutes;
  #observer?: ProxyObserver;
  #http?: HttpClient;

  /**
   * Builds a proxy for a resolved dependency: over its `providers` when the
   * registry lists them, else over the single chosen provider.
   */
  constructor(dependency: ResolvedDependency, options: RemoteToolOptions = {}) {
    super({
      capability: dependency.capability,
      agentId: dependency.agent_id,
      endpoint: dependency.endpoint.replace(/\/+$/, ""),
      functionName: dependency.function_name,
    });
    const listed = dependency.providers;
    const breakers = options.breakers ?? new BreakerBoard();
    const providers = (listed?.length ? listed : [dependency]).map((p): RemoteProvider => {
      const endpoint = p.endpoint.replace(/\/+$/, "");
      return {
        agentId: p.agent_id,
        endpoint,
        functionName: p.function_name,
        version: "version" in p ? p.version : undefined,
        inflight: 0,
        breaker: breakers.get(endpoint, options.circuitBreaker),
      };
    });
    this.#balancer = new Balancer(providers, options.strategy);
    const kwargs = dependency.kwargs ?? {};
    this.#timeoutMs = typeof kwargs.timeout === "number" && kwargs.timeout > 0
      ? kwargs.timeout * 1000
      : DEFAULT_TIMEOUT_MS;
    this.#retryCount = typeof kwargs.retry_count === "number" ? Math.max(0, kwargs.retry_count) : 0;
    this.#idempotent = kwargs.idempotent === true;
    this.#sessionRequired = kwargs.session_required === true;
    this.#headers = { ...MCP_HEADERS, ...kwargs.custom_headers };
    if (kwargs.auth_required && options.authToken) {
      this.#headers.Authorization = `Bearer ${options.authToken}`;
    }
    this.#bodyHead = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":${
      JSON.stringify(this.functionName)
    },"arguments":`;
    this.#sessions = options.sessions ?? new SessionRoutes();
    this.#observer = options.observer;
    this.#http = options.http;
  }

  /** Endpoints this proxy spreads its calls over, the registry's choice first. */
  override get endpoints(): readonly string[] {
    return this.#balancer.providers.map((provider) => provider.endpoint);
  }

  /** Calls the remote tool and resolves with its full result (progress is skipped). */
  async callRaw(
    args: Record<string, unknown> = {},
    options: CallOptions = {},
  ): Promise<ToolCallResult> {
    const call = this.#begin(args, options);
    try {
      const { response, provider } = await this.#send(call);
      try {
        return await this.#result(response, provider, call.sessionId);
      } finally {
        provider.inflight--;
      }
    } catch (error) {
      throw call.signal.aborted ? call.signal.reason : error;
    } finally {
      call.done();
    }
  }

  /**
   * Calls the remote tool, yielding its progress notifications, then its
   * result. The call gets the smaller of its timeout and the remaining budget
   * of the call being served, and fails at once when that is spent.
   */
  async *stream(
    args: Record<string, unknown> = {},
    options: CallOptions = {},
  ): AsyncIterable<ToolStreamEvent> {
    const call = this.#begin(args, options);
    try {
      const { response, provider } = await this.#send(call);
      try {
        yield* this.#answer(response, provider, call.sessionId);
      } finally {
        provider.inflight--;
      }
    } catch (error) {
      throw call.signal.aborted ? call.signal.reason : error;
    } finally {
      call.done();
    }
  }

  /**
   * Starts a call: its deadline (the smaller of its timeout and the caller's
   * remaining budget, failing at once when that is spent), timeout, headers
   * and body.
   */
  #begin(args: Record<string, unknown>, options: CallOptions): PendingCall {
    const caller = currentCallContext();
    const start = Date.now();
    const deadline = Math.min(
      start + (options.timeout ?? this.#timeoutMs),
      caller?.deadline ?? Infinity,
    );
    const budgetMs = deadline - start;
    if (budgetMs <= 0) {
      throw new Error(
        `${this.functionName}: the caller's timeout budget is spent; call not started`,
      );
    }
    const controller = new AbortController();
    const expire = deadlines.add(
      deadline,
      () =>
        controller.abort(
          new Error(`${this.functionName} at ${this.#lastEndpoint} timed out after ${budgetMs} ms`),
        ),
    );
    // Without a signal of its own, the call aborts with the call being served.
    const inherited = options.signal ?? caller?.signal;
    const unlink = inherited ? abortWith(controller, inherited) : undefined;
    const done = unlink
      ? () => {
        expire();
        unlink();
      }
      : expire;
    const { signal } = controller;
    const headers = options.headers
      ? { ...this.#headers, ...options.headers }
      : { ...this.#headers };
    const sessionId = this.#sessionRequired
      ? sessionIdOf(args, new Headers(options.headers), caller?.headers)
      : undefined;
    if (sessionId !== undefined && args.session_id === undefined) {
      headers["X-Session-ID"] = sessionId;
    }
    const body = this.#bodyHead + (JSON.stringify(args) ?? "{}") + BODY_TAIL;
    return { body, headers, deadline, sessionId, signal, done };
  }

  #lastEndpoint = this.endpoint;

  /**
   * Posts the call to a provider, failing over and retrying as its settings
   * allow. Resolves with the 2xx answer and its provider, whose `inflight`
   * count the caller releases once the answer is read.
   */
  async #send(call: PendingCall): Promise<{ response: HttpAnswer; provider: RemoteProvider }> {
    const { body, headers, deadline, sessionId, signal } = call;
    const tried = new Set<string>();
    let attempts = 0;
    let retries = 0;
    let lastFailure: Error | undefined;
    for (;;) {
      let provider: RemoteProvider;
      try {
        provider = this.#balancer.pick(tried, sessionId && this.#sessions.get(sessionId));
      } catch (error) {
        if (!(error instanceof NoProviderError) || !lastFailure) throw error;
        if (!(lastFailure as { retryable?: boolean }).retryable || retries >= this.#retryCount) {
          throw lastFailure;
        }
        const backoff = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** retries++);
        await sleep(backoff / 2 + Math.random() * backoff / 2, signal);
        tried.clear();
        continue;
      }
      this.#lastEndpoint = provider.endpoint;
      provider.breaker.acquire();
      provider.inflight++;
      attempts++;
      headers[MESH_TIMEOUT_HEADER] = ((deadline - Date.now()) / 1000).toFixed(3);
      let response: HttpAnswer;
      try {
        response = await postToolCall(provider.endpoint, body, headers, signal, this.#http);
      } catch (error) {
        provider.inflight--;
        const failure = this.#failed(provider, error, attempts);
        tried.add(provider.endpoint);
        const mayRetry = failure.retryable && (this.#idempotent || retries < this.#retryCount);
        if (!failure.safeToFailOver && !mayRetry) throw failure;
        lastFailure = failure;
        continue;
      }
      provider.breaker.success();
      this.#observer?.proxyCall(this.capability, provider.endpoint, "success");
      return { response, provider };
    }
  }

  /** Records a failed attempt; returns the error to report, with attempts counted. */
  #failed(provider: RemoteProvider, error: unknown, attempts: number): TransportFailure {
    const where = `${this.functionName} at ${provider.endpoint}`;
    const count = `${attempts} attempt${attempts > 1 ? "s" : ""}`;
    if (!(error instanceof TransportFailure)) {
      provider.breaker.failure();
      this.#observer?.proxyCall(this.capability, provider.endpoint, "error");
      throw error;
    }
    if (error.retryable) provider.breaker.failure();
    else provider.breaker.success();
    this.#observer?.proxyCall(this.capability, provider.endpoint, "error");
    if (error.notSent) this.#observer?.providerUnreachable?.(provider.endpoint);
    const message = error.status === undefined
      ? `${where} is unreachable after ${count}: ${error.message}`
      : `${where} answered HTTP ${error.status} after ${count}: ${error.message}`;
    return new TransportFailure(message, error.status, error.notSent);
  }

  /** The result of a provider's answer, read whole when it has a known length. */
  async #result(
    response: HttpAnswer,
    provider: RemoteProvider,
    sessionId: string | undefined,
  ): Promise<ToolCallResult> {
    if (!response.headers.has("content-length")) {
      for await (const event of this.#answer(response, provider, sessionId)) {
        if (event.type === "result") return event.result;
      }
      throw new Error(`${this.functionName} closed the stream without a result`);
    }
    const text = await response.text();
    const messages = response.headers.get("content-type")?.includes("text/event-stream")
      ? sseMessages(text)
      : [JSON.parse(text)];
    for (const message of messages) {
      const event = this.#answerEvent(message as JsonRpcAnswer, provider);
      if (event.type === "result") {
        this.#remember(response, provider, sessionId);
        return event.result;
      }
    }
    throw new Error(`${this.functionName} closed the stream without a result`);
  }

  /** Remembers which replica owns the session of a call that got its result. */
  #remember(response: HttpAnswer, provider: RemoteProvider, sessionId: string | undefined): void {
    if (sessionId === undefined) return;
    const owner = response.headers.get(SESSION_OWNER_HEADER)?.replace(/\/+$/, "");
    this.#sessions.set(sessionId, owner ?? provider.endpoint);
  }

  async *#answer(
    response: HttpAnswer,
    provider: RemoteProvider,
    sessionId: string | undefined,
  ): AsyncGenerator<ToolStreamEvent> {
    const messages = response.headers.get("content-type")?.includes("text/event-stream")
      ? readSse(response)
      : [await response.json()];
    for await (const message of messages) {
      const event = this.#answerEvent(message as JsonRpcAnswer, provider);
      if (event.type === "result") this.#remember(response, provider, sessionId);
      yield event;
      if (event.type === "result") return;
    }
  }

  #answerEvent(message: JsonRpcAnswer, provider: RemoteProvider): ToolStreamEvent {
    const where = `${this.functionName} at ${provider.endpoint}`;
    if (message.method === "notifications/progress") {
      return { type: "progress", progress: message.params as ToolProgress };
    }
    if (message.error) throw new Error(`${where}: ${message.error.message}`);
    if (message.result) return { type: "result", result: message.result };
    throw new Error(`${where} sent an unexpected message: ${JSON.stringify(message)}`);
  }
}
