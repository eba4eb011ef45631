/**
 * The storage contract of the registry.
 *
 * The registry keeps its working set in memory and writes every change
 * through a {@linkcode RegistryStore}; the store is the durable copy that a
 * restart loads back. SQLite ({@linkcode "./sqlite_store.ts"}) is the
 * embedded implementation; a PostgreSQL store implements the same interface.
 *
 * @module
 */

import type {
  AgentStatus,
  MeshAgentType,
  MeshDependencyEntry,
  MeshToolKwargs,
  RegistryEventInfo,
  RegistryEventType,
} from "@mesh/sdk/protocol";

/** One tool of an agent after validation, with every default filled in. */
export interface StoredTool {
  /** Name of the MCP tool. */
  function_name: string;
  /** Capability it provides. */
  capability: string;
  /** Capability version (`"1.0.0"` when the agent sent none). */
  version: string;
  /** Capability tags. */
  tags: string[];
  /** Declared dependencies, in the order the tool receives them. */
  dependencies: MeshDependencyEntry[];
  /** Human-readable description. */
  description?: string;
  /** JSON Schema of the arguments. */
  inputSchema?: Record<string, unknown>;
  /** JSON Schema of the structured result. */
  outputSchema?: Record<string, unknown>;
  /** Proxy configuration for consumers. */
  kwargs?: MeshToolKwargs;
}

/** What an agent tells about itself in `POST /heartbeat`, normalized. */
export interface AgentContent {
  /** Agent id. */
  id: string;
  /** Human-readable name (the id when the agent sent none). */
  name: string;
  /** Kind of service. */
  agent_type: MeshAgentType;
  /** SDK runtime, when sent. */
  runtime?: string;
  /** Trimmed description of at most 256 characters, when sent. */
  description?: string;
  /** Agent version. */
  version: string;
  /** Host of the agent's HTTP endpoint (`""` when sent none). */
  http_host: string;
  /** Port of the agent's HTTP endpoint (0 when sent none). */
  http_port: number;
  /** Namespace. */
  namespace: string;
  /** Tools, in the order the agent sent them. */
  tools: StoredTool[];
}

/** An agent as the registry keeps it. Times are milliseconds since the epoch. */
export interface StoredAgent extends AgentContent {
  /** Health state. */
  status: AgentStatus;
  /** First registration. */
  created_at: number;
  /** Last change of content or status. */
  updated_at: number;
  /** Last heartbeat (POST or HEAD). */
  last_seen: number;
}

/** An event to append. */
export interface NewEvent {
  /** Event kind. */
  event_type: RegistryEventType;
  /** Agent the event is about. */
  agent_id: string;
  /** Agent name, when known. */
  agent_name?: string;
  /** When it happened, in milliseconds since the epoch. */
  timestamp: number;
  /** Extra details. */
  data?: Record<string, unknown>;
}

/** Filters of {@linkcode RegistryStore.listEvents}. */
export interface EventQuery {
  /** Only events of this kind. */
  type?: RegistryEventType;
  /** Only events about this agent. */
  agent_id?: string;
  /** Most events to return (newest first). */
  limit: number;
}

/** Write of one agent's row; `tools` is omitted when the tools did not change. */
export interface AgentWrite {
  /** The agent row (its `tools` are ignored unless `tools` is set). */
  agent: StoredAgent;
  /** True when the stored tools must be replaced by `agent.tools`. */
  replaceTools: boolean;
}

/** A set of changes the store applies atomically (all or nothing). */
export interface StoreChanges {
  /** Agents to insert or update. */
  writes?: readonly AgentWrite[];
  /** New `last_seen` times by agent id (ids no longer stored are skipped). */
  lastSeen?: ReadonlyMap<string, number>;
  /** New health states by agent id. */
  statuses?: ReadonlyMap<string, AgentStatus>;
  /** Agents to delete with their tools. */
  deletes?: readonly string[];
  /** Events to append. */
  events?: readonly NewEvent[];
}

/** Durable storage of agents, tools and events. */
export interface RegistryStore {
  /** Every stored agent with its tools. */
  loadAgents(): Promise<StoredAgent[]>;
  /** Applies `changes` in one transaction; on failure nothing changes and the promise rejects. */
  commit(changes: StoreChanges): Promise<void>;
  /** Events matching `query`, newest first. */
  listEvents(query: EventQuery): Promise<RegistryEventInfo[]>;
  /** Deletes all but the newest `keep` events. */
  pruneEvents(keep: number): Promise<void>;
  /**
   * Periodic housekeeping, called on every health tick, off the request path
   * (SQLite checkpoints its write-ahead log here). Optional.
   */
  maintain?(): Promise<void>;
  /** Releases the store; later calls reject. */
  close(): Promise<void>;
}
