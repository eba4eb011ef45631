/**
 * Output helpers: ANSI colours that honour `NO_COLOR` and non-terminals,
 * aligned tables, and human-friendly durations.
 *
 * @module
 */

/** Names of the colours meshctl uses. */
export type ColorName = "red" | "green" | "yellow" | "blue" | "magenta" | "cyan" | "gray" | "bold";

const ANSI_CODES: Record<ColorName, [number, number]> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
  bold: [1, 22],
};

/** Colours cycled through to tell agents' output apart. */
export const AGENT_COLORS: readonly ColorName[] = ["cyan", "magenta", "yellow", "blue", "green"];

/** Paints text in a colour, or leaves it alone when colour is off. */
export type Paint = (color: ColorName, text: string) => string;

/**
 * Whether to colour output written to a stream: never when `NO_COLOR` is set
 * and non-empty (https://no-color.org), never when the stream is not a terminal.
 */
export function colorEnabled(stream: { isTerminal(): boolean } = Deno.stdout): boolean {
  const noColor = Deno.env.get("NO_COLOR");
  if (noColor !== undefined && noColor !== "") return false;
  return stream.isTerminal();
}

/** A {@linkcode Paint} function that colours when `enabled`, else returns text unchanged. */
export function createPaint(enabled: boolean): Paint {
  return (color, text) => {
    if (!enabled) return text;
    const [open, close] = ANSI_CODES[color];
    return `\x1b[${open}m${text}\x1b[${close}m`;
  };
}

/** `text` without ANSI escape sequences. */
export function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/**
 * Formats rows as a left-aligned table with a header line; cells may contain
 * ANSI colours (they do not count towards the width). Trailing spaces are trimmed.
 *
 * @example
 * ```ts
 * import { formatTable } from "./output.ts";
 * formatTable(["NAME", "STATUS"], [["hello", "healthy"]]);
 * // "NAME   STATUS\nhello  healthy"
 * ```
 */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => stripAnsi(row[column] ?? "").length))
  );
  const line = (cells: string[]): string =>
    cells.map((cell, column) => {
      const padding = widths[column] - stripAnsi(cell).length;
      return column === cells.length - 1 ? cell : cell + " ".repeat(padding);
    }).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

/**
 * A duration as a short human string: `12s`, `4m`, `3h12m`, `2d5h`.
 * Negative durations (clock skew) count as zero.
 */
export function formatDuration(milliseconds: number): string {
  const seconds = Math.max(0, Math.floor(milliseconds / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours}h${minutes % 60}m` : `${hours}h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days}d${hours % 24}h` : `${days}d`;
}

/** How long ago an RFC 3339 timestamp was, e.g. `5s ago`; `-` when missing or invalid. */
export function formatAgo(timestamp: string | undefined, now: number = Date.now()): string {
  const time = timestamp ? Date.parse(timestamp) : NaN;
  return Number.isNaN(time) ? "-" : `${formatDuration(now - time)} ago`;
}

/** Pretty JSON (two-space indent), as printed by `--json`. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
