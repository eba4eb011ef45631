/**
 * Parsing of tool arguments given as JSON on the command line or in a file,
 * with errors that point at the line and column of the mistake.
 *
 * @module
 */

import { UsageError } from "./errors.ts";

/** Line and column (both 1-based) of a character offset in `text`. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  return { line, column };
}

/**
 * Offset of the error V8 reports without a position ("Unexpected token 'x',
 * … is not valid JSON", or the end of input): the shortest prefix of `text`
 * that already fails that way ends just after the offending character.
 */
function unexpectedTokenOffset(text: string, message: string): number {
  if (!message.startsWith("Unexpected token")) return text.length;
  const failsWithToken = (length: number): boolean => {
    try {
      JSON.parse(text.slice(0, length));
      return false;
    } catch (error) {
      return error instanceof Error && error.message.startsWith("Unexpected token");
    }
  };
  let low = 1;
  let high = text.length;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (failsWithToken(middle)) high = middle;
    else low = middle + 1;
  }
  return low - 1;
}

/**
 * Parses `text` as a JSON object of tool arguments.
 *
 * @param text The JSON text.
 * @param source Where the text came from, used in messages (e.g. `"args.json"`).
 * @returns The parsed object.
 * @throws {UsageError} naming the line and column of a syntax error, or saying
 * that the value is not an object.
 *
 * @example
 * ```ts
 * import { parseJsonArgs } from "./json_args.ts";
 * parseJsonArgs('{"name": "World"}', "command line"); // { name: "World" }
 * ```
 */
export function parseJsonArgs(text: string, source: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error);
    const match = /at position (\d+)/.exec(raw);
    const offset = match ? Number(match[1]) : unexpectedTokenOffset(text, raw);
    const { line, column } = lineAndColumn(text, offset);
    const reason = raw.replace(/, ".*" is not valid JSON$/s, "")
      .replace(/ in JSON at position \d+.*$/, "")
      .replace(/^Unexpected end of JSON input$/, "unexpected end of input");
    throw new UsageError(
      `invalid JSON arguments (${source}) at line ${line}, column ${column}: ${reason}`,
      { cause: error },
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    throw new UsageError(
      `invalid JSON arguments (${source}): expected an object like {"name": "value"}, got ${kind}`,
    );
  }
  return value as Record<string, unknown>;
}
