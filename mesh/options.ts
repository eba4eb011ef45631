/**
 * Options of the `@mesh.agent` and `@mesh.tool` decorators.
 *
 * @module
 */

import type { SelectionStrategy } from "./balancer.ts";
import type { CircuitBreakerOptions } from "./circuit_breaker.ts";
import type { ToolAnnotations } from "./mcp_types.ts";
import type { TagSpec } from "./protocol.ts";

/** Verdict of an agent's health check. */
export interface HealthVerdict {
  /** Only `"unhealthy"` withdraws the agent (its heartbeat pauses). */
  status: "healthy" | "degraded" | "unhealthy";
  /** Named sub-checks, reported by `GET /health`. */
  checks?: Record<string, unknown>;
  /** Human-readable problems, reported by `GET /health`. */
  errors?: string[];
}

/** A health check: `true`/`false` or a full {@linkcode HealthVerdict}. */
export type HealthCheck = () => boolean | HealthVerdict | Promise<boolean | HealthVerdict>;

/** Options of `@mesh.agent` (environment variables override them). */
export interface AgentOptions {
  /** Agent name; the agent id is `{name}-{8 hex}` (env `MCP_MESH_AGENT_NAME`). */
  name: string;
  /** Agent version (default `"1.0.0"`). */
  version?: string;
  /** Free-form description sent to the registry. */
  description?: string;
  /** Interface to bind (default `"127.0.0.1"`, env `MCP_MESH_HTTP_HOST`). */
  httpHost?: string;
  /** Port to bind, 0 picks a free one (default 0, env `MCP_MESH_HTTP_PORT`). */
  httpPort?: number;
  /** Namespace (default `"default"`, env `MCP_MESH_NAMESPACE`). */
  namespace?: string;
  /** Seconds between heartbeats, fractions allowed (default 5, env `MCP_MESH_HEALTH_INTERVAL`). */
  heartbeatInterval?: number;
  /** Health check run by `GET /health` and before every heartbeat. */
  healthCheck?: HealthCheck;
  /** Start serving automatically after decoration (default true, env `MCP_MESH_AUTO_RUN`). */
  autoRun?: boolean;
  /**
   * Checks the bearer token of a call to an `authRequired` tool, instead of
   * comparing it with `MCP_MESH_AUTH_TOKEN`.
   */
  authVerifier?: (token: string, tool: string) => boolean | Promise<boolean>;
}

/** A dependency on one capability, optionally narrowed by tags and version. */
export interface DependencyFilter {
  /** Capability name. */
  capability: string;
  /** Tag requirements: `"tag"` required, `"+tag"` preferred, `"-tag"` excluded, array = OR. */
  tags?: TagSpec[];
  /** Semver constraint such as `">=1.2"`, `"^2"`. */
  version?: string;
  /** Namespace of the provider (default: the agent's). */
  namespace?: string;
  /**
   * How calls spread over the providers of this dependency: `"round-robin"`
   * (default), `"least-inflight"`, or a function choosing among the healthy
   * ones. Stays in this agent; the registry never sees it.
   */
  strategy?: SelectionStrategy;
}

/** One declared dependency: a capability name, a filter, or a fallback chain of those. */
export type DependencySpec =
  | string
  | DependencyFilter
  | (string | DependencyFilter)[];

/** Any zod (v4) schema, described structurally so this API does not re-export zod's types. */
export interface ZodSchemaLike {
  /** zod's internal marker, present on every zod v4 schema. */
  readonly _zod: unknown;
}

/** A zod object schema (`z.object({...})`) or the shape of one (`{ name: z.string() }`). */
export type ZodInput = ZodSchemaLike | { readonly [field: string]: ZodSchemaLike };

/** Mesh settings of one tool: what the registry and consumers see. */
export interface MeshToolOptions {
  /** Capability this tool provides (default: the tool name). */
  capability?: string;
  /** Tags of the capability. */
  tags?: string[];
  /** Capability version (default `"1.0.0"`). */
  version?: string;
  /** Dependencies, handed to the method as its second argument in this order. */
  dependencies?: DependencySpec[];
  /** Consumers' call timeout in milliseconds (advertised to the registry in seconds). */
  timeout?: number;
  /** Consumers retry this many times on connection failures and 5xx answers. */
  retryCount?: number;
  /** Headers consumers send with every call to this tool. */
  customHeaders?: Record<string, string>;
  /** Calls need `Authorization: Bearer <token>` (the agent's `MCP_MESH_AUTH_TOKEN` when set). */
  authRequired?: boolean;
  /** The tool sends progress notifications; consumers may `stream()` it. */
  streaming?: boolean;
  /**
   * Calls carry a session id (`session_id` argument, `Mcp-Session-Id` or
   * `X-Session-ID` header) and stick to the replica that first served it.
   */
  sessionRequired?: boolean;
  /**
   * Running the tool twice with the same arguments is harmless, so consumers
   * may retry a failed call on another replica (default: the
   * `idempotentHint` annotation).
   */
  idempotent?: boolean;
  /** Circuit breaker settings for the providers this tool's dependencies call. */
  circuitBreaker?: CircuitBreakerOptions;
}

/** Options of `@mesh.tool`: the mesh settings plus what the MCP tool declares. */
export interface ToolOptions extends MeshToolOptions {
  /** Human-readable description. */
  description?: string;
  /** Display title of the MCP tool. */
  title?: string;
  /** Arguments: validated before the method runs; the tool's `inputSchema` derives from it. */
  input?: ZodInput;
  /** Structured result: object results are validated against it; the `outputSchema`. */
  output?: ZodInput;
  /** MCP tool annotations (`readOnlyHint`, `destructiveHint`, …). */
  annotations?: ToolAnnotations;
}
