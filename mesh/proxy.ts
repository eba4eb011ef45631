/**
 * Dependency proxies handed to tool methods: {@linkcode McpMeshTool}.
 *
 * A dependency resolved to the agent itself is a {@linkcode LocalTool} that
 * calls the method directly; any other is a {@linkcode RemoteTool} speaking
 * MCP JSON-RPC (`tools/call`) to `{endpoint}/mcp` with `fetch`, honoring the
 * provider's advertised `timeout`, `retry_count`, `custom_headers` and
 * `auth_required`.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/types"
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import type { ToolCallResult, ToolProgress } from "./mcp_types.ts";
import type { ResolvedDependency } from "./protocol.ts";
import { describeError } from "./log.ts";
import { resultValue } from "./tool_result.ts";

/** Per-call settings of a proxy. */
export interface CallOptions {
  /** Timeout in milliseconds, replacing the provider's advertised one. */
  timeout?: number;
  /** Aborts the call. */
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

  async call(args?: Record<string, unknown>, options?: CallOptions): Promise<unknown> {
    return resultValue(await this.callRaw(args, options));
  }

  abstract callRaw(args?: Record<string, unknown>, options?: CallOptions): Promise<ToolCallResult>;

  abstract stream(
    args?: Record<string, unknown>,
    options?: CallOptions,
  ): AsyncIterable<ToolStreamEvent>;
}

/** A tool of the same agent: calls it in-process, without HTTP. */
export class LocalTool extends BaseTool {
  #invoke: (args: Record<string, unknown>) => Promise<ToolCallResult>;

  /** `invoke` runs the tool with validated-or-rejected arguments. */
  constructor(
    target: ToolTarget,
    invoke: (args: Record<string, unknown>) => Promise<ToolCallResult>,
  ) {
    super(target);
    this.#invoke = invoke;
  }

  /** Runs the tool in-process. */
  callRaw(args: Record<string, unknown> = {}): Promise<ToolCallResult> {
    return this.#invoke(args);
  }

  /** Yields the in-process result (local calls report no progress). */
  async *stream(args: Record<string, unknown> = {}): AsyncIterable<ToolStreamEvent> {
    yield { type: "result", result: await this.#invoke(args) };
  }
}

/** Default call timeout when the provider advertises none (mcp-mesh: 30 s). */
export const DEFAULT_TIMEOUT_MS = 30_000;

const RETRY_BASE_MS = 100;
const RETRY_CAP_MS = 2_000;

class RetryableError extends Error {}

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

/** Parses a `text/event-stream` body into the JSON of each event's data. */
async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  let buffer = "";
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    buffer += chunk.replaceAll("\r\n", "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data !== "") yield JSON.parse(data);
    }
  }
}

interface JsonRpcAnswer {
  id?: unknown;
  method?: string;
  params?: Record<string, unknown>;
  result?: ToolCallResult;
  error?: { code: number; message: string };
}

/** A tool of another agent, called over MCP Streamable HTTP. */
export class RemoteTool extends BaseTool {
  #timeoutMs: number;
  #retryCount: number;
  #headers: Record<string, string>;

  /**
   * Builds a proxy for a resolved dependency; `authToken` is sent as a bearer
   * token when the provider advertises `auth_required`.
   */
  constructor(dependency: ResolvedDependency, authToken?: string) {
    super({
      capability: dependency.capability,
      agentId: dependency.agent_id,
      endpoint: dependency.endpoint.replace(/\/+$/, ""),
      functionName: dependency.function_name,
    });
    const kwargs = dependency.kwargs ?? {};
    this.#timeoutMs = typeof kwargs.timeout === "number" && kwargs.timeout > 0
      ? kwargs.timeout * 1000
      : DEFAULT_TIMEOUT_MS;
    this.#retryCount = typeof kwargs.retry_count === "number" ? Math.max(0, kwargs.retry_count) : 0;
    this.#headers = { ...kwargs.custom_headers };
    if (kwargs.auth_required && authToken) this.#headers.Authorization = `Bearer ${authToken}`;
  }

  /** Calls the remote tool and resolves with its full result. */
  async callRaw(args?: Record<string, unknown>, options?: CallOptions): Promise<ToolCallResult> {
    for await (const event of this.stream(args, options)) {
      if (event.type === "result") return event.result;
    }
    throw new Error(`${this.#where()} closed the stream without a result`);
  }

  /** Calls the remote tool, yielding its progress notifications, then its result. */
  async *stream(
    args: Record<string, unknown> = {},
    options: CallOptions = {},
  ): AsyncIterable<ToolStreamEvent> {
    const timeoutMs = options.timeout ?? this.#timeoutMs;
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`${this.#where()} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const signal = options.signal
      ? AbortSignal.any([controller.signal, options.signal])
      : controller.signal;
    try {
      const response = await this.#post(args, options.headers, signal);
      if (!response.headers.get("content-type")?.includes("text/event-stream")) {
        yield this.#answerEvent(await response.json());
        return;
      }
      for await (const message of readSse(response.body!)) {
        const event = this.#answerEvent(message as JsonRpcAnswer);
        yield event;
        if (event.type === "result") return;
      }
    } catch (error) {
      throw signal.aborted ? signal.reason : error;
    } finally {
      clearTimeout(timer);
    }
  }

  #where(): string {
    return `${this.functionName} at ${this.endpoint}`;
  }

  #answerEvent(message: JsonRpcAnswer): ToolStreamEvent {
    if (message.method === "notifications/progress") {
      return { type: "progress", progress: message.params as ToolProgress };
    }
    if (message.error) throw new Error(`${this.#where()}: ${message.error.message}`);
    if (message.result) return { type: "result", result: message.result };
    throw new Error(`${this.#where()} sent an unexpected message: ${JSON.stringify(message)}`);
  }

  async #post(
    args: Record<string, unknown>,
    extraHeaders: Record<string, string> | undefined,
    signal: AbortSignal,
  ): Promise<Response> {
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: this.functionName, arguments: args, _meta: { progressToken: 1 } },
    });
    const headers = {
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": LATEST_PROTOCOL_VERSION,
      ...this.#headers,
      ...extraHeaders,
    };
    for (let attempt = 0;; attempt++) {
      try {
        const response = await this.#attempt(body, headers, signal, attempt);
        return response;
      } catch (error) {
        if (!(error instanceof RetryableError) || attempt >= this.#retryCount) throw error;
        const backoff = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** attempt);
        await sleep(backoff / 2 + Math.random() * backoff / 2, signal);
      }
    }
  }

  async #attempt(
    body: string,
    headers: Record<string, string>,
    signal: AbortSignal,
    attempt: number,
  ): Promise<Response> {
    const attempts = `${attempt + 1} attempt${attempt ? "s" : ""}`;
    let response: Response;
    try {
      response = await fetch(`${this.endpoint}/mcp`, { method: "POST", headers, body, signal });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      const reason = describeError(error);
      throw new RetryableError(`${this.#where()} is unreachable after ${attempts}: ${reason}`);
    }
    if (response.ok) return response;
    const text = await response.text();
    const message = `${this.#where()} answered HTTP ${response.status} after ${attempts}: ${
      text.slice(0, 200)
    }`;
    throw response.status >= 500 ? new RetryableError(message) : new Error(message);
  }
}
