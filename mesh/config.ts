/**
 * Effective agent configuration: explicit overrides, then `MCP_MESH_*`
 * environment variables, then decorator options, then defaults.
 *
 * @module
 */

import type { AgentOptions, HealthCheck } from "./options.ts";

/** Registry used when `MCP_MESH_REGISTRY_URL` is not set. */
export const DEFAULT_REGISTRY_URL = "http://127.0.0.1:8000";

/** Settings a caller of `startAgent`/`serve` may force, above the environment. */
export interface AgentOverrides extends Partial<AgentOptions> {
  /** Registry base URL (env `MCP_MESH_REGISTRY_URL`, default `http://127.0.0.1:8000`). */
  registryUrl?: string;
  /** Bearer token sent to `authRequired` tools and checked by ours (env `MCP_MESH_AUTH_TOKEN`). */
  authToken?: string;
  /** Bearer token for the registry's write routes (env `MCP_MESH_REGISTRY_TOKEN`). */
  registryToken?: string;
}

/** Fully resolved configuration of one running agent. */
export interface AgentConfig {
  /** Agent name. */
  name: string;
  /** Agent version. */
  version: string;
  /** Description, possibly empty. */
  description: string;
  /** Interface to bind. */
  httpHost: string;
  /** Port to bind (0 = free port). */
  httpPort: number;
  /** Namespace. */
  namespace: string;
  /** Milliseconds between heartbeats. */
  heartbeatIntervalMs: number;
  /** Registry base URL without a trailing slash. */
  registryUrl: string;
  /** Bearer token, when configured. */
  authToken?: string;
  /** Bearer token sent to the registry, when configured. */
  registryToken?: string;
  /** Health check, when declared. */
  healthCheck?: HealthCheck;
  /**
   * Serve plain `tools/call` requests without the SDK transport (env
   * `MCP_MESH_FAST_PATH`, default on; off sends every call the standard way).
   */
  fastPath: boolean;
  /**
   * Proxies call `http:` providers over the agent's pool of keep-alive
   * connections (env `MCP_MESH_HTTP_POOL`, default on; off uses `fetch`).
   */
  httpPool: boolean;
}

function env(name: string): string | undefined {
  const value = Deno.env.get(name);
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function envNumber(name: string, valid: (n: number) => boolean): number | undefined {
  const raw = env(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || !valid(value)) {
    throw new Error(`${name}=${JSON.stringify(raw)} is not valid`);
  }
  return value;
}

/** Reads `MCP_MESH_REGISTRY_TOKEN`: the registry's write token, when set. */
export function envRegistryToken(): string | undefined {
  return env("MCP_MESH_REGISTRY_TOKEN");
}

/** An on/off variable: `false`, `0`, `no` or `off` disable, anything else enables. */
function envSwitch(name: string, fallback: boolean): boolean {
  const raw = env(name);
  if (raw === undefined) return fallback;
  return !["false", "0", "no", "off"].includes(raw.toLowerCase());
}

/**
 * Reads `MCP_MESH_AUTO_RUN` (`false`/`0`/`no` disable), falling back to `fallback`.
 */
export function envAutoRun(fallback: boolean): boolean {
  return envSwitch("MCP_MESH_AUTO_RUN", fallback);
}

/**
 * Reads `MCP_MESH_DEBOUNCE_DELAY` in seconds (mcp-mesh unit), default 0: the
 * agent starts in a timer task, after the module graph (every decorator)
 * finished evaluating. Set it when a module awaits something between
 * decorating its agent and finishing its setup.
 */
export function envDebounceMs(): number {
  return (envNumber("MCP_MESH_DEBOUNCE_DELAY", (n) => n >= 0) ?? 0) * 1000;
}

/** Merges overrides, environment, decorator options and defaults. */
export function resolveConfig(options: AgentOptions, overrides: AgentOverrides = {}): AgentConfig {
  const pick = <T>(key: keyof AgentOverrides, fromEnv: T | undefined): T | undefined =>
    (overrides[key] as T | undefined) ?? fromEnv ?? (options[key as keyof AgentOptions] as T);
  const port = pick<number>(
    "httpPort",
    envNumber("MCP_MESH_HTTP_PORT", (n) => Number.isInteger(n) && n >= 0 && n < 65536),
  ) ?? 0;
  const interval = pick<number>(
    "heartbeatInterval",
    envNumber("MCP_MESH_HEALTH_INTERVAL", (n) => n > 0),
  ) ?? 5;
  const registryUrl = overrides.registryUrl ?? env("MCP_MESH_REGISTRY_URL") ??
    DEFAULT_REGISTRY_URL;
  return {
    name: pick<string>("name", env("MCP_MESH_AGENT_NAME")) ?? options.name,
    version: pick<string>("version", undefined) ?? "1.0.0",
    description: pick<string>("description", undefined) ?? "",
    httpHost: pick<string>("httpHost", env("MCP_MESH_HTTP_HOST")) ?? "127.0.0.1",
    httpPort: port,
    namespace: pick<string>("namespace", env("MCP_MESH_NAMESPACE")) ?? "default",
    heartbeatIntervalMs: interval * 1000,
    registryUrl: registryUrl.replace(/\/+$/, ""),
    authToken: overrides.authToken ?? env("MCP_MESH_AUTH_TOKEN"),
    registryToken: overrides.registryToken ?? envRegistryToken(),
    healthCheck: overrides.healthCheck ?? options.healthCheck,
    fastPath: envSwitch("MCP_MESH_FAST_PATH", true),
    httpPool: envSwitch("MCP_MESH_HTTP_POOL", true),
  };
}
