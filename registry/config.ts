/**
 * Configuration of the registry process from environment variables and
 * command-line flags (flags win).
 *
 * | env | flag | default |
 * |---|---|---|
 * | `HOST` | `--host` | `127.0.0.1` |
 * | `PORT` | `--port` | `8000` (0 = a free port) |
 * | `DATABASE_URL` | `--db` | `mcp_mesh_registry.db` |
 * | `HEALTH_CHECK_INTERVAL` | | `10` (seconds) |
 * | `DEFAULT_TIMEOUT_THRESHOLD` | | `20` (seconds) |
 * | `DEFAULT_EVICTION_THRESHOLD` | | `60` (seconds) |
 * | `MCP_MESH_REGISTRY_TOKEN` | `--token` | none: write routes open |
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { DEFAULT_DATABASE_URL, REGISTRY_TOKEN_ENV } from "./mod.ts";

/** Invalid configuration; the message is one line naming the setting. */
export class ConfigError extends Error {
  /** @param message What is wrong, naming the variable or flag. */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Settings of the registry process. */
export interface RegistryConfig {
  /** Interface to bind. */
  hostname: string;
  /** Port to bind (0 = a free port). */
  port: number;
  /** SQLite file path or `":memory:"`. */
  databaseUrl: string;
  /** Health check period in ms. */
  healthCheckIntervalMs: number;
  /** Silence in ms before an agent is unhealthy. */
  timeoutThresholdMs: number;
  /** Silence in ms before an agent is removed. */
  evictionThresholdMs: number;
  /** Bearer token the write routes require (`""`: none). */
  token: string;
}

/** Defaults of the settings (seconds for the health timings). */
const DEFAULTS = {
  host: "127.0.0.1",
  port: 8000,
  healthCheckInterval: 10,
  timeoutThreshold: 20,
  evictionThreshold: 60,
} as const;

/** The command-line flags, for `node:util` `parseArgs`. */
const FLAGS = {
  host: { type: "string" },
  port: { type: "string" },
  db: { type: "string" },
  token: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** What `--help` prints. */
export const USAGE: string =
  `Usage: deno task registry [--host HOST] [--port PORT] [--db DATABASE] [--token TOKEN]

Runs the mcp-mesh registry. Flags override the environment:

  --host HOST     interface to bind (env HOST, default ${DEFAULTS.host})
  --port PORT     port, 0 for a free one (env PORT, default ${DEFAULTS.port})
  --db DATABASE   SQLite path, :memory:, sqlite:///abs or file: URL
                  (env DATABASE_URL, default ${DEFAULT_DATABASE_URL})
  --token TOKEN   bearer token the write routes require
                  (env ${REGISTRY_TOKEN_ENV}, default none)
  -h, --help      show this help

Environment only (seconds): HEALTH_CHECK_INTERVAL (${DEFAULTS.healthCheckInterval}),
DEFAULT_TIMEOUT_THRESHOLD (${DEFAULTS.timeoutThreshold}), DEFAULT_EVICTION_THRESHOLD (${DEFAULTS.evictionThreshold}).`;

/**
 * Whether the flags ask for {@linkcode USAGE} (`--help` or `-h` as a flag,
 * not as the value of another flag).
 *
 * @example
 * ```ts
 * import { wantsHelp } from "./config.ts";
 * wantsHelp(["--port", "0", "-h"]); // true
 * wantsHelp(["--token", "-h"]); // false
 * ```
 */
export function wantsHelp(args: string[]): boolean {
  return parseArgs({ args, options: FLAGS, strict: false, allowPositionals: true }).values.help ===
    true;
}

/** Reads an environment variable. */
export type EnvLookup = (name: string) => string | undefined;

/**
 * Builds the configuration from flags (`--host`, `--port`, `--db`,
 * `--token`) and environment variables.
 *
 * @throws {ConfigError} on an unknown flag or an invalid value.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * const config = parseConfig(["--port", "0"], (name) => ({ HOST: "0.0.0.0" })[name]);
 * config.hostname; // "0.0.0.0"
 * config.port; // 0
 * ```
 */
export function parseConfig(args: string[], env: EnvLookup): RegistryConfig {
  let flags: { host?: string; port?: string; db?: string; token?: string };
  try {
    flags = parseArgs({ args, options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ConfigError((error as Error).message.split("\n")[0]);
  }
  const hostname = flags.host ?? env("HOST") ?? DEFAULTS.host;
  if (hostname === "") throw new ConfigError("HOST/--host must not be empty");
  return {
    hostname,
    port: parsePort(flags.port ?? env("PORT"), flags.port !== undefined ? "--port" : "PORT"),
    databaseUrl: parseDatabaseUrl(
      flags.db ?? env("DATABASE_URL") ?? DEFAULT_DATABASE_URL,
      flags.db !== undefined ? "--db" : "DATABASE_URL",
    ),
    healthCheckIntervalMs: seconds(env, "HEALTH_CHECK_INTERVAL", DEFAULTS.healthCheckInterval),
    timeoutThresholdMs: seconds(env, "DEFAULT_TIMEOUT_THRESHOLD", DEFAULTS.timeoutThreshold),
    evictionThresholdMs: seconds(env, "DEFAULT_EVICTION_THRESHOLD", DEFAULTS.evictionThreshold),
    token: flags.token ?? env(REGISTRY_TOKEN_ENV) ?? "",
  };
}

function parsePort(text: string | undefined, name: string): number {
  if (text === undefined) return DEFAULTS.port;
  const port = Number(text);
  if (text.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${name} must be an integer 0..65535, got "${text}"`);
  }
  return port;
}

function seconds(env: EnvLookup, name: string, fallback: number): number {
  const text = env(name);
  if (text === undefined) return fallback * 1000;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${name} must be a positive number of seconds, got "${text}"`);
  }
  return Math.round(value * 1000);
}

/**
 * Turns a database URL into a SQLite path. Accepts a plain path,
 * `:memory:`, `sqlite:///abs/path`, `sqlite://rel/path` and `file:` URLs.
 *
 * @throws {ConfigError} for PostgreSQL (not supported yet) and other schemes.
 *
 * @example
 * ```ts
 * import { parseDatabaseUrl } from "./config.ts";
 * parseDatabaseUrl("sqlite:///var/lib/mesh.db"); // "/var/lib/mesh.db"
 * parseDatabaseUrl("mesh.db"); // "mesh.db"
 * ```
 */
export function parseDatabaseUrl(url: string, name = "DATABASE_URL"): string {
  if (url === "") throw new ConfigError(`${name} must not be empty`);
  if (/^postgres(ql)?:/i.test(url)) {
    throw new ConfigError(`${name}: PostgreSQL is not supported yet; use a SQLite file path`);
  }
  if (url.startsWith("sqlite://")) {
    const path = url.slice("sqlite://".length);
    if (path === "" || path === "/") throw new ConfigError(`${name}: missing path in "${url}"`);
    return path;
  }
  if (url.startsWith("file://")) {
    try {
      return fileURLToPath(url);
    } catch (error) {
      throw new ConfigError(`${name}: ${(error as Error).message}`);
    }
  }
  if (url.startsWith("file:")) return url.slice("file:".length);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new ConfigError(`${name}: unsupported database URL "${url}"; use a SQLite file path`);
  }
  return url;
}
