/**
 * Minimal leveled logger on stderr, filtered by `MCP_MESH_LOG_LEVEL`
 * (`debug`, `info`, `warn`, `error`; default `info`).
 *
 * @module
 */

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;

/** A log level name. */
export type LogLevel = keyof typeof LEVELS;

/** Logger bound to one agent name. */
export interface Logger {
  /** Logs at `level` when `MCP_MESH_LOG_LEVEL` lets it through. */
  log(level: LogLevel, message: string): void;
}

function threshold(): number {
  const name = (Deno.env.get("MCP_MESH_LOG_LEVEL") ?? "info").toLowerCase();
  return LEVELS[name as LogLevel] ?? LEVELS.info;
}

/** Creates a logger prefixing every line with `[mesh:{name}]`. */
export function createLogger(name: string): Logger {
  const min = threshold();
  return {
    log(level: LogLevel, message: string): void {
      if (LEVELS[level] >= min) console.error(`[mesh:${name}] ${level}: ${message}`);
    },
  };
}

/**
 * One-line description of an error, including its `cause` (fetch hides the
 * reason there) unless the message already tells it.
 *
 * @example
 * ```ts
 * import { describeError } from "./log.ts";
 * describeError(new TypeError("fetch failed", { cause: new Error("refused") })); // "fetch failed: refused"
 * ```
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { message, cause } = error;
  return cause instanceof Error && !message.includes(cause.message)
    ? `${message}: ${cause.message}`
    : message;
}
