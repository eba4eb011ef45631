/**
 * Mapping between a tool method's return value and an MCP `CallToolResult`.
 *
 * @module
 */

import type { CallToolResult } from "@modelcontextprotocol/sdk/types";
import type { ToolCallResult } from "./mcp_types.ts";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True when `value` already is an MCP `CallToolResult` (has a `content` array). */
export function isCallToolResult(value: unknown): value is CallToolResult {
  return isRecord(value) && Array.isArray(value.content);
}

/**
 * Maps a method's return value to MCP content: a string becomes text; a
 * `CallToolResult` passes through; a plain object becomes `structuredContent`
 * plus its JSON as text; `undefined` becomes empty content; anything else
 * (numbers, arrays, …) becomes its JSON as text.
 */
export function toCallToolResult(value: unknown): CallToolResult {
  if (typeof value === "string") return { content: [{ type: "text", text: value }] };
  if (isCallToolResult(value)) return value;
  if (value === undefined) return { content: [] };
  const text = JSON.stringify(value);
  if (isRecord(value)) return { content: [{ type: "text", text }], structuredContent: value };
  return { content: [{ type: "text", text }] };
}

/** Maps a thrown error to an `isError` result carrying its message. */
export function toErrorResult(error: unknown): CallToolResult {
  const text = error instanceof Error ? error.message : String(error);
  return { content: [{ type: "text", text }], isError: true };
}

/** The text parts of a result's content, joined by newlines. */
export function resultText(result: ToolCallResult): string {
  return result.content
    .flatMap((part) => part.type === "text" ? [String(part.text)] : [])
    .join("\n");
}

/**
 * The value a proxy's `call` returns: `structuredContent` when present, else
 * the text content. An `isError` result throws an `Error` with the tool's message.
 */
export function resultValue(result: ToolCallResult): unknown {
  if (result.isError) throw new Error(resultText(result) || "tool failed without a message");
  if (result.structuredContent !== undefined) return result.structuredContent;
  return resultText(result);
}
