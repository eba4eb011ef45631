/**
 * The mesh registry: a `Deno.serve` service on embedded SQLite, wire
 * compatible with the mcp-mesh registry API. Agents register and heartbeat;
 * the registry resolves each tool's dependencies to healthy providers.
 *
 * Embed it with {@linkcode createRegistry} (a request handler) or run it with
 * {@linkcode serveRegistry} (an HTTP server).
 *
 * @example
 * ```ts
 * import { serveRegistry } from "@mesh/registry";
 *
 * const registry = serveRegistry({ databaseUrl: ":memory:", port: 0 });
 * const health = await fetch(`${registry.url}/health`);
 * console.log((await health.json()).status); // "healthy"
 * await registry.close();
 * ```
 *
 * @module
 */

import { createTokenCheck, REGISTRY_TOKEN_ENV } from "./auth.ts";
import { createHandler, type Handler } from "./http.ts";
import { MeshRegistry } from "./registry.ts";
import { SqliteStore } from "./sqlite_store.ts";
import type { RegistryStore } from "./store.ts";

export { REGISTRY_VERSION, SERVICE_NAME } from "./http.ts";
export { REGISTRY_TOKEN_ENV } from "./auth.ts";
export type {
  AgentContent,
  AgentWrite,
  EventQuery,
  NewEvent,
  RegistryStore,
  StoreChanges,
  StoredAgent,
  StoredTool,
} from "./store.ts";
export { SqliteStore } from "./sqlite_store.ts";
export type {
  AgentStatus,
  MeshAgentType,
  MeshDependencyEntry,
  MeshToolDependencyRegistration,
  MeshToolKwargs,
  RegistryEventInfo,
  RegistryEventType,
  TagSpec,
} from "@mesh/sdk/protocol";

/** Default SQLite file, in the working directory. */
export const DEFAULT_DATABASE_URL = "mcp_mesh_registry.db";

/** Options of {@linkcode createRegistry}. */
export interface RegistryOptions {
  /** SQLite file path, or ":memory:"; default "mcp_mesh_registry.db" in cwd. */
  databaseUrl?: string;
  /** Period of the health check in ms; default 10_000. */
  healthCheckIntervalMs?: number;
  /** Silence in ms after which an agent becomes unhealthy; default 20_000. */
  timeoutThresholdMs?: number;
  /** Silence in ms after which an agent is removed; default 60_000. */
  evictionThresholdMs?: number;
  /** A store to use instead of opening `databaseUrl` (closed by the registry). */
  store?: RegistryStore;
  /**
   * Bearer token the write routes (`POST /heartbeat`, `HEAD /heartbeat/{id}`,
   * `DELETE /agents/{id}`) require; reads stay open. Default: env
   * `MCP_MESH_REGISTRY_TOKEN` when set (and readable); `""` disables it.
   */
  token?: string;
}

/** An embeddable registry. */
export interface Registry {
  /** Serves the registry API; never rejects (errors become JSON answers). */
  handler: (request: Request) => Promise<Response>;
  /** Stops the health monitor, flushes pending heartbeat times, closes the store. */
  close(): Promise<void>;
}

/**
 * Creates a registry over a SQLite store (opened, and migrated, right away:
 * an unusable database path throws here).
 *
 * @example
 * ```ts
 * import { createRegistry } from "@mesh/registry";
 *
 * const registry = createRegistry({ databaseUrl: ":memory:" });
 * const response = await registry.handler(new Request("http://registry/agents"));
 * console.log((await response.json()).count); // 0
 * await registry.close();
 * ```
 */
export function createRegistry(options: RegistryOptions = {}): Registry {
  const store = options.store ?? new SqliteStore(options.databaseUrl ?? DEFAULT_DATABASE_URL);
  const registry = new MeshRegistry(store, {
    healthCheckIntervalMs: options.healthCheckIntervalMs ?? 10_000,
    timeoutThresholdMs: options.timeoutThresholdMs ?? 20_000,
    evictionThresholdMs: options.evictionThresholdMs ?? 60_000,
  });
  const token = options.token ?? envToken();
  const handler: Handler = createHandler(registry, registry.start(), {
    authorize: token ? createTokenCheck(token) : undefined,
  });
  return { handler, close: () => registry.close() };
}

/** `MCP_MESH_REGISTRY_TOKEN`, when set and the process may read it. */
function envToken(): string | undefined {
  const access = Deno.permissions.querySync({ name: "env", variable: REGISTRY_TOKEN_ENV });
  return access.state === "granted" ? Deno.env.get(REGISTRY_TOKEN_ENV) : undefined;
}

/** A registry serving HTTP. */
export interface RunningRegistry {
  /** Base URL, e.g. "http://127.0.0.1:40123". */
  url: string;
  /** Port actually bound. */
  port: number;
  /** Host bound. */
  hostname: string;
  /** Database the registry uses. */
  databaseUrl: string;
  /** Shuts the HTTP server down (awaits it) and closes the registry. */
  close(): Promise<void>;
}

/**
 * Starts `Deno.serve` with the registry handler.
 * `hostname` defaults to "127.0.0.1", `port` to 8000 (0 = a free port).
 *
 * @example
 * ```ts
 * import { serveRegistry } from "@mesh/registry";
 *
 * const registry = serveRegistry({ databaseUrl: ":memory:", port: 0 });
 * console.log(registry.url); // http://127.0.0.1:<port>
 * await registry.close();
 * ```
 */
export function serveRegistry(
  options: RegistryOptions & { hostname?: string; port?: number } = {},
): RunningRegistry {
  const databaseUrl = options.databaseUrl ?? DEFAULT_DATABASE_URL;
  const registry = createRegistry({ ...options, databaseUrl });
  const hostname = options.hostname ?? "127.0.0.1";
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port: options.port ?? 8000,
      onListen: () => {},
    }, registry.handler);
  } catch (error) {
    registry.close();
    throw error;
  }
  const { port } = server.addr;
  const urlHost = hostname.includes(":") ? `[${hostname}]` : hostname;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    hostname,
    databaseUrl: options.store === undefined ? databaseUrl : "(custom store)",
    close: () =>
      closed ??= (async () => {
        await server.shutdown();
        await registry.close();
      })(),
  };
}
