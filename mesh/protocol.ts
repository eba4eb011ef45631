/**
 * The wire contract between mesh agents and the registry.
 *
 * Every JSON shape that crosses the agent ↔ registry boundary is defined here
 * once, following the mcp-mesh registry API (field names in snake_case, exactly
 * as in `mcp-mesh-registry.openapi.yaml`). Our extensions are additive: extra
 * optional fields and extra routes, so mcp-mesh clients keep working.
 *
 * @example
 * ```ts
 * import type { MeshAgentRegistration } from "@mesh/sdk/protocol";
 *
 * const registration: MeshAgentRegistration = {
 *   agent_id: "hello-1a2b3c4d",
 *   tools: [{ function_name: "say_hello", capability: "greeting" }],
 * };
 * ```
 *
 * @module
 */

/** Pattern every agent id must match (mcp-mesh: `^[a-zA-Z0-9_-]+$`, 1..64 chars). */
export const AGENT_ID_PATTERN: RegExp = /^[a-zA-Z0-9_-]{1,64}$/;

/** Largest request body the registry accepts, in bytes (1 MiB). */
export const MAX_BODY_BYTES: number = 1024 * 1024;

/** Most tools one agent may register. */
export const MAX_TOOLS_PER_AGENT: number = 1000;

/** Largest `limit` accepted by `GET /events`. */
export const MAX_EVENTS_LIMIT: number = 500;

/** Default `limit` of `GET /events`. */
export const DEFAULT_EVENTS_LIMIT: number = 50;

/** Header carrying a call's remaining deadline in seconds (mcp-mesh `X-Mesh-Timeout`). */
export const MESH_TIMEOUT_HEADER = "X-Mesh-Timeout";

/**
 * The token of an `Authorization: Bearer <token>` header value, or undefined.
 * The scheme is matched in any case (RFC 9110 §11.1).
 *
 * @example
 * ```ts
 * import { bearerTokenOf } from "@mesh/sdk/protocol";
 * bearerTokenOf("bearer s3cret"); // "s3cret"
 * bearerTokenOf("Basic dXNlcg=="); // undefined
 * ```
 */
export function bearerTokenOf(authorization: string | null | undefined): string | undefined {
  return /^bearer +(\S+) *$/i.exec(authorization ?? "")?.[1];
}

/**
 * The MCP protocol version proxies announce (`MCP-Protocol-Version`): the
 * MCP SDK's latest, kept here so a proxy does not load the SDK to know it.
 */
export const MCP_PROTOCOL_VERSION = "2025-11-25";

/**
 * One tag requirement of a dependency.
 *
 * - `"tag"`: the provider must carry it;
 * - `"+tag"`: preferred, raises the provider's score;
 * - `"-tag"`: excluded, the provider must not carry it;
 * - `["a", "b"]`: an OR group, the provider must carry at least one.
 */
export type TagSpec = string | string[];

/** A single dependency specification (`MeshToolDependencyRegistration`). */
export interface MeshToolDependencyRegistration {
  /** Required capability name. */
  capability: string;
  /** Tag requirements, see {@linkcode TagSpec}. */
  tags?: TagSpec[];
  /** Semver constraint such as `>=1.2.0`, `^2`, `~1.4` or `1.0.0`; empty means any. */
  version?: string;
  /** Namespace filter (default `"default"`). */
  namespace?: string;
  /** When true the declaring capability is unavailable while this dependency is unresolved. */
  required?: boolean;
}

/**
 * One declared dependency of a tool: a single spec, or (our extension) an
 * array of specs forming a fallback chain where the first that resolves wins.
 */
export type MeshDependencyEntry =
  | MeshToolDependencyRegistration
  | MeshToolDependencyRegistration[];

/** Proxy configuration a tool advertises to its consumers (`kwargs`). */
export interface MeshToolKwargs {
  /** Call timeout in seconds. */
  timeout?: number;
  /** Retries on connection failures and 5xx. */
  retry_count?: number;
  /** Extra headers the consumer's proxy sends. */
  custom_headers?: Record<string, string>;
  /** The tool streams progress notifications. */
  streaming?: boolean;
  /** The tool requires a bearer token. */
  auth_required?: boolean;
  /** Calls carry a session id and stick to one replica. */
  session_required?: boolean;
  /** Any other producer-defined setting. */
  [key: string]: unknown;
}

/** One tool an agent provides (`MeshToolRegistration`). */
export interface MeshToolRegistration {
  /** Name of the MCP tool (the decorated method). */
  function_name: string;
  /** Capability this tool provides. */
  capability: string;
  /** Capability version (default `"1.0.0"`). */
  version?: string;
  /** Tags of this capability. */
  tags?: string[];
  /** Dependencies of this tool, in the order the tool receives them. */
  dependencies?: MeshDependencyEntry[];
  /** Human-readable description. */
  description?: string;
  /** JSON Schema of the tool's arguments. */
  inputSchema?: Record<string, unknown>;
  /** JSON Schema of the tool's structured result. */
  outputSchema?: Record<string, unknown>;
  /** Proxy configuration for consumers. */
  kwargs?: MeshToolKwargs;
}

/** Kind of service registering (`agent_type`). */
export type MeshAgentType = "mcp_agent" | "api" | "a2a";

/** Registration and full heartbeat body of `POST /heartbeat` (`MeshAgentRegistration`). */
export interface MeshAgentRegistration {
  /** Unique agent id, see {@linkcode AGENT_ID_PATTERN}. */
  agent_id: string;
  /** Kind of service (default `"mcp_agent"`). */
  agent_type?: MeshAgentType;
  /** SDK runtime (`"typescript"` for ours). */
  runtime?: string;
  /** Human-readable name (defaults to `agent_id`). */
  name?: string;
  /** Agent version (default `"1.0.0"`). */
  version?: string;
  /** Free-form description (truncated to 256 characters by the registry). */
  description?: string;
  /** Host the agent's HTTP endpoint is reachable at. */
  http_host?: string;
  /** Port of the agent's HTTP endpoint. */
  http_port?: number;
  /** Time of this registration or heartbeat (RFC 3339). */
  timestamp?: string;
  /** Namespace (default `"default"`). */
  namespace?: string;
  /** Tools the agent provides. */
  tools: MeshToolRegistration[];
}

/** A dependency that resolved to a provider. */
export interface ResolvedDependency {
  /** Provider agent id. */
  agent_id: string;
  /** Tool name to call on the provider. */
  function_name: string;
  /** Provider base URL. */
  endpoint: string;
  /** Capability that matched. */
  capability: string;
  /** Always `"available"` for a resolved dependency. */
  status: "available";
  /** Producer kwargs, absent when the provider declares none. */
  kwargs?: MeshToolKwargs;
  /**
   * Our extension: every healthy, available provider satisfying the
   * dependency spec (for a fallback chain, the spec that won), the chosen one
   * (the fields above) first, then the others in the registry's preference
   * order. Lets consumers spread calls over replicas; mcp-mesh clients
   * ignore it.
   */
  providers?: ResolvedProvider[];
}

/** One provider of a resolved dependency, as listed in {@linkcode ResolvedDependency.providers}. */
export interface ResolvedProvider {
  /** Provider agent id. */
  agent_id: string;
  /** Tool name to call on the provider. */
  function_name: string;
  /** Provider base URL. */
  endpoint: string;
  /** Capability version the provider declares. */
  version: string;
  /** Producer kwargs, absent when the provider declares none. */
  kwargs?: MeshToolKwargs;
}

/** A dependency that no healthy provider satisfies. */
export interface UnresolvedDependency {
  /** The capability (first of a fallback chain) that was asked for. */
  capability: string;
  /** Always `"unresolved"`. */
  status: "unresolved";
}

/** One entry of `dependencies_resolved[function]`, aligned with the declared dependencies. */
export type DependencyResolution = ResolvedDependency | UnresolvedDependency;

/** Answer to `POST /heartbeat` (`MeshRegistrationResponse`). */
export interface MeshRegistrationResponse {
  /** `"success"` or `"error"`. */
  status: "success" | "error";
  /** Server time (RFC 3339). */
  timestamp: string;
  /** Human-readable outcome. */
  message: string;
  /** Confirmed agent id. */
  agent_id: string;
  /**
   * Function name → resolutions aligned with that function's declared
   * dependencies. Functions without dependencies are absent.
   */
  dependencies_resolved: Record<string, DependencyResolution[]>;
  /** Non-fatal advisories (for example a truncated description). */
  warnings?: string[];
}

/** Health state of an agent. */
export type AgentStatus = "healthy" | "degraded" | "unhealthy" | "offline";

/** A capability an agent provides, as listed by `GET /agents` (`CapabilityInfo`). */
export interface CapabilityInfo {
  /** Capability name. */
  name: string;
  /** Capability version. */
  version: string;
  /** Tool providing it. */
  function_name: string;
  /** Capability tags. */
  tags: string[];
  /** Description of the tool. */
  description?: string;
  /** Input JSON Schema of the tool. */
  inputSchema?: Record<string, unknown>;
  /** Output JSON Schema of the tool. */
  outputSchema?: Record<string, unknown>;
  /** Producer kwargs. */
  kwargs?: MeshToolKwargs;
  /** False while the agent is unhealthy or a required dependency is unresolved. */
  available: boolean;
  /** Why the capability is unavailable (empty when available). */
  unavailable_reason?: string;
}

/** One dependency of one function, as listed by `GET /agents` (`DependencyResolutionInfo`). */
export interface DependencyResolutionInfo {
  /** Function requiring the dependency. */
  function_name: string;
  /** Required capability. */
  capability: string;
  /** Required tags. */
  tags: TagSpec[];
  /** Tool on the provider, when resolved. */
  mcp_tool?: string;
  /** Provider agent id, when resolved. */
  provider_agent_id?: string;
  /** Provider endpoint, when resolved. */
  endpoint?: string;
  /** Resolution status. */
  status: "available" | "unavailable" | "unresolved";
}

/** An agent as listed by `GET /agents` and `GET /agents/{id}` (`AgentInfo`). */
export interface AgentInfo {
  /** Agent id. */
  id: string;
  /** Agent name. */
  name: string;
  /** Kind of service. */
  agent_type: MeshAgentType;
  /** SDK runtime. */
  runtime?: string;
  /** Agent description. */
  description?: string;
  /** Health state. */
  status: AgentStatus;
  /** Base URL of the agent. */
  endpoint: string;
  /** Capabilities provided. */
  capabilities: CapabilityInfo[];
  /** Number of declared dependencies across all tools. */
  total_dependencies: number;
  /** Number of those that currently resolve. */
  dependencies_resolved: number;
  /** Every dependency with where it resolved. */
  dependency_resolutions: DependencyResolutionInfo[];
  /** First registration (RFC 3339). */
  created_at: string;
  /** Last heartbeat (RFC 3339). */
  last_seen: string;
  /** Agent version. */
  version: string;
  /** Agent namespace. */
  namespace: string;
}

/** Answer to `GET /agents` (`AgentsListResponse`). */
export interface AgentsListResponse {
  /** Matching agents. */
  agents: AgentInfo[];
  /** Number of agents returned. */
  count: number;
  /** Server time. */
  timestamp: string;
}

/** Answer to `GET /health` (`HealthResponse`). */
export interface HealthResponse {
  /** Overall registry health. */
  status: "healthy" | "degraded" | "unhealthy";
  /** Registry version. */
  version: string;
  /** Seconds since the registry started. */
  uptime_seconds: number;
  /** Server time. */
  timestamp: string;
  /** Service identifier (`"mcp-mesh-registry"`). */
  service: string;
}

/** Answer to `GET /` (`RootResponse`). */
export interface RootResponse {
  /** Service identifier. */
  service: string;
  /** Registry version. */
  version: string;
  /** `"running"`. */
  status: string;
  /** Routes this registry serves. */
  endpoints: string[];
}

/** Kinds of registry events. */
export type RegistryEventType =
  | "register"
  | "heartbeat"
  | "expire"
  | "update"
  | "unregister"
  | "unhealthy"
  | "rotate"
  | "dependency_resolved"
  | "dependency_unresolved";

/** Every {@linkcode RegistryEventType}, for validation and help texts. */
export const REGISTRY_EVENT_TYPES: readonly RegistryEventType[] = [
  "register",
  "heartbeat",
  "expire",
  "update",
  "unregister",
  "unhealthy",
  "rotate",
  "dependency_resolved",
  "dependency_unresolved",
];

/** One registry event (`RegistryEventInfo`). */
export interface RegistryEventInfo {
  /** Event kind. */
  event_type: RegistryEventType;
  /** Agent the event is about. */
  agent_id: string;
  /** Agent name, when known. */
  agent_name?: string;
  /** Function, for function-level events. */
  function_name?: string;
  /** When it happened (RFC 3339). */
  timestamp: string;
  /** Extra details (reason, old/new status, …). */
  data?: Record<string, unknown>;
}

/** Answer to `GET /events` (`EventsHistoryResponse`). */
export interface EventsHistoryResponse {
  /** Events, newest first. */
  events: RegistryEventInfo[];
  /** Number of events returned. */
  count: number;
}

/** Body of every 4xx/5xx answer (`ErrorResponse`). */
export interface ErrorResponse {
  /** What went wrong, in one line. */
  error: string;
  /** Server time. */
  timestamp: string;
  /** Details such as the offending `field`. */
  details?: Record<string, unknown>;
}
