/**
 * The fast path of `tools/call`: recognising a plain call, running a decorated
 * tool without the SDK's per-request transport, and writing the very bytes the
 * SDK's stateless Streamable HTTP transport writes for the same call.
 *
 * What the SDK does and the fast path mirrors (`@modelcontextprotocol/sdk`
 * 1.32): the transport answers every JSON-RPC request on an SSE stream
 * (`event: message`, no event id, headers {@linkcode SSE_HEADERS}); the
 * `McpServer` turns a thrown error and a missing structured result into an
 * `isError` result, then the `Server` re-parses the result with
 * `CallToolResultSchema` (schema key order, unknown content keys stripped) and
 * answers `{result, jsonrpc, id}`, or a JSON-RPC error when the result is
 * invalid. The differential test (`mesh/tests/differential_test.ts`) holds
 * both paths to the same status, headers and body.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/shared/mediaType"
import { isJsonContentType } from "@modelcontextprotocol/sdk/shared/mediaType.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  type CallToolResult,
  CallToolResultSchema,
  ErrorCode,
  McpError,
  RELATED_TASK_META_KEY,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@modelcontextprotocol/sdk/types.js";
import type { ToolContext, ToolNotification } from "./mcp_types.ts";

/** A tool as the fast path runs it: what the agent registered with its `McpServer`. */
export interface FastTool {
  /** The `inputSchema` registered for the tool (absent: it takes no arguments). */
  readonly input?: {
    safeParse(value: unknown): { success: boolean; data?: unknown };
  };
  /** True when the tool registered an `outputSchema`. */
  readonly hasOutputSchema: boolean;
  /**
   * True when the tool declares dependencies. A tool without any has no
   * proxies to inherit its call's context (deadline, cancellation), so it
   * runs without one, which saves a few microseconds per call.
   */
  readonly hasDependencies: boolean;
  /**
   * Runs the tool exactly as its `McpServer` handler does. A structured result
   * must already satisfy the output schema (the agent's tools check it).
   */
  run(args: Record<string, unknown>, context: ToolContext): Promise<CallToolResult>;
}

/** What an endpoint needs from its agent to serve `tools/call` on the fast path. */
export interface FastToolHost {
  /** The tool registered as `name`, when the fast path may serve it. */
  tool(name: string): FastTool | undefined;
  /**
   * Sends a notification related to request `relatedRequestId` through the
   * agent's `McpServer` (its capability checks and message format), which
   * hands it back to the endpoint's `send`.
   */
  notify(notification: ToolNotification, relatedRequestId: string): Promise<void>;
}

/** A single JSON-RPC `tools/call` request, as it arrived. */
export interface ToolCallRequest {
  /** JSON-RPC id. */
  id: string | number;
  /** Tool name (`""` when the request names none). */
  name: string;
  /** Arguments (`{}` when the request has none). */
  args: Record<string, unknown>;
  /** The request's `_meta`. */
  meta?: Record<string, unknown>;
  /**
   * True when the SDK would accept the message as is and the fast path may
   * serve it: exact JSON-RPC shape, no task augmentation. A progress token is
   * fine: notifications the tool sends turn the answer into an SSE stream.
   */
  plain: boolean;
}

/** Headers of the SDK transport's SSE answer to a POST. */
export const SSE_HEADERS: [string, string][] = [
  ["Content-Type", "text/event-stream"],
  ["Cache-Control", "no-cache, no-transform"],
  ["Connection", "keep-alive"],
  ["X-Accel-Buffering", "no"],
];

/** One SSE event carrying a JSON-RPC message, as the SDK transport writes it. */
export function sseEvent(message: unknown): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

const REQUEST_KEYS = new Set(["jsonrpc", "id", "method", "params"]);
const RESULT_KEYS = new Set(["content", "structuredContent", "isError"]);

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isRequestId(value: unknown): value is string | number {
  return typeof value === "string" || Number.isSafeInteger(value);
}

/**
 * The `tools/call` request in a parsed POST body, or undefined when the body
 * is not a single request with that method (batches and notifications are not).
 */
export function toolCallOf(message: unknown): ToolCallRequest | undefined {
  if (!isPlainRecord(message) || message.method !== "tools/call") return undefined;
  const { id, params } = message;
  if (id === undefined || id === null || typeof id === "object") return undefined;
  const fields = isPlainRecord(params) ? params : {};
  const meta = isPlainRecord(fields._meta) ? fields._meta : undefined;
  const plain = message.jsonrpc === "2.0" && isRequestId(id) &&
    Object.keys(message).every((key) => REQUEST_KEYS.has(key)) &&
    isPlainRecord(params) && typeof params.name === "string" &&
    (params.arguments === undefined || isPlainRecord(params.arguments)) &&
    params.task === undefined &&
    (params._meta === undefined ||
      meta !== undefined && meta[RELATED_TASK_META_KEY] === undefined &&
        (meta.progressToken === undefined || isRequestId(meta.progressToken)));
  return {
    id: id as string | number,
    name: typeof fields.name === "string" ? fields.name : "",
    args: isPlainRecord(fields.arguments) ? fields.arguments : {},
    meta,
    plain,
  };
}

/**
 * True exactly when the SDK transport accepts a POST with these headers (the
 * same checks: it answers 406, 415 or 400 otherwise, before running anything).
 */
export function acceptsPost(headers: Headers): boolean {
  const accept = headers.get("accept");
  if (!accept?.includes("application/json") || !accept.includes("text/event-stream")) return false;
  if (!isJsonContentType(headers.get("content-type"))) return false;
  const version = headers.get("mcp-protocol-version");
  return version === null || SUPPORTED_PROTOCOL_VERSIONS.includes(version);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs a tool as the `McpServer` call handler does: errors become `isError` results. */
export async function runFastTool(
  tool: FastTool,
  name: string,
  args: Record<string, unknown>,
  context: ToolContext,
): Promise<CallToolResult> {
  try {
    const result = await tool.run(args, context);
    if (tool.hasOutputSchema && !result.isError && !result.structuredContent) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Output validation error: Tool ${name} has an output schema but no structured content was provided`,
      );
    }
    return result;
  } catch (error) {
    return { content: [{ type: "text", text: errorText(error) }], isError: true };
  }
}

/**
 * The result as `CallToolResultSchema` outputs it, built directly for the
 * common shape (text content, structured content, error flag), else
 * undefined.
 */
function plainResult(result: CallToolResult): CallToolResult | undefined {
  const { content, structuredContent, isError } = result;
  if (!Array.isArray(content) || !Object.keys(result).every((key) => RESULT_KEYS.has(key))) {
    return undefined;
  }
  const blocks = [];
  for (const block of content) {
    if (
      !isPlainRecord(block) || block.type !== "text" || typeof block.text !== "string" ||
      Object.keys(block).length !== 2
    ) {
      return undefined;
    }
    blocks.push({ type: "text" as const, text: block.text });
  }
  const plain: CallToolResult = { content: blocks };
  if (structuredContent !== undefined) {
    if (!isPlainRecord(structuredContent)) return undefined;
    plain.structuredContent = structuredContent;
  }
  if (isError !== undefined) {
    if (typeof isError !== "boolean") return undefined;
    plain.isError = isError;
  }
  return plain;
}

/**
 * The JSON-RPC answer the SDK's `Server` sends for `result`: the result as
 * `CallToolResultSchema` outputs it, or the `InvalidParams` error it answers
 * when the result does not parse.
 */
export function toolCallAnswer(id: string | number, result: CallToolResult): unknown {
  const plain = plainResult(result);
  if (plain) return { result: plain, jsonrpc: "2.0", id };
  const parsed = CallToolResultSchema.safeParse(result);
  if (parsed.success) return { result: parsed.data, jsonrpc: "2.0", id };
  const error = new McpError(
    ErrorCode.InvalidParams,
    `Invalid tools/call result: ${parsed.error.message}`,
  );
  return { jsonrpc: "2.0", id, error: { code: error.code, message: error.message } };
}

/** Did the answer report a failure (JSON-RPC error or `isError` result)? */
export function answerOutcome(answer: unknown): "success" | "error" {
  const message = answer as { error?: unknown; result?: { isError?: boolean } };
  return message.error !== undefined || message.result?.isError === true ? "error" : "success";
}

const encoder = new TextEncoder();

/**
 * The HTTP answer of one fast call: a plain body with the final event when
 * nothing was written before it, else an SSE stream opened by the first
 * earlier write (a notification or a keep-alive comment).
 */
export class FastAnswer {
  /** Resolves with the HTTP response as soon as its first bytes are known. */
  readonly response: Promise<Response>;
  /** `performance.now()` of the last write (or of the start). */
  lastWrite: number = performance.now();
  #resolve!: (response: Response) => void;
  #stream?: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  /** True once the client went away before the end. */
  #gone = false;
  #onGone?: () => void;

  /** An answer with nothing written yet. */
  constructor() {
    this.response = new Promise((resolve) => this.#resolve = resolve);
  }

  /** Writes SSE text before the final event, switching the answer to a stream. */
  write(text: string): void {
    if (this.#closed) return;
    this.lastWrite = performance.now();
    this.#open().enqueue(encoder.encode(text));
  }

  /**
   * Switches the answer to a stream now (nothing written: the bytes stay the
   * same), so the client going away is noticed: `onGone` then runs.
   */
  follow(onGone: () => void): void {
    if (this.#gone) return onGone();
    this.#onGone = onGone;
    if (!this.#closed) this.#open();
  }

  /** The answer's stream, opened (and the response resolved) on first use. */
  #open(): ReadableStreamDefaultController<Uint8Array> {
    if (!this.#stream) {
      const body = new ReadableStream<Uint8Array>({
        start: (controller) => {
          this.#stream = controller;
        },
        cancel: () => {
          this.#closed = true;
          this.#gone = true;
          this.#onGone?.();
        },
      });
      this.#resolve(new Response(body, { status: 200, headers: SSE_HEADERS }));
    }
    return this.#stream!;
  }

  /** Writes the final event and ends the answer. */
  finish(text: string): void {
    if (!this.#stream) {
      this.#closed = true;
      this.#resolve(new Response(text, { status: 200, headers: SSE_HEADERS }));
      return;
    }
    if (this.#closed) return;
    this.write(text);
    this.#closed = true;
    this.#stream.close();
  }
}
