/**
 * The registry's behaviour, independent of HTTP: registration and heartbeats,
 * the topology version behind `HEAD /heartbeat/{id}`, the health monitor, and
 * the views served by `GET /agents`.
 *
 * The working set lives in memory and every change is written through the
 * {@linkcode RegistryStore} first: when the store fails, memory is left as it
 * was. Mutations run one at a time; `HEAD` heartbeats only touch memory and
 * their `last_seen` times reach the store in batches on each health tick.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type {
  AgentInfo,
  AgentStatus,
  CapabilityInfo,
  DependencyResolutionInfo,
  MeshRegistrationResponse,
  RegistryEventInfo,
} from "@mesh/sdk/protocol";
import {
  type AvailabilityCheck,
  createAvailabilityCheck,
  type Provider,
  resolveEntry,
} from "./resolver.ts";
import { type JsonText, registrationResponseJson } from "./response_json.ts";
import { CapabilityIndex, endpointOf, providersOfAgent } from "./capability_index.ts";
import { type DeclaredDependency, ResolutionCache } from "./resolution_cache.ts";
import type {
  AgentContent,
  EventQuery,
  NewEvent,
  RegistryStore,
  StoreChanges,
  StoredAgent,
} from "./store.ts";

/** Newest events kept; older ones are pruned on each health tick. */
export const MAX_STORED_EVENTS = 10_000;

/** Timing of the health monitor, in milliseconds. */
export interface HealthTiming {
  /** Period of the health check. */
  healthCheckIntervalMs: number;
  /** Silence after which an agent becomes unhealthy. */
  timeoutThresholdMs: number;
  /** Silence after which an agent is removed. */
  evictionThresholdMs: number;
}

/** The store failed; the request changed nothing and may be retried. */
export class StoreUnavailableError extends Error {
  /** @param cause The store's error. */
  constructor(cause: unknown) {
    super(`registry store unavailable: ${cause instanceof Error ? cause.message : cause}`, {
      cause,
    });
    this.name = "StoreUnavailableError";
  }
}

/** Answer of a fast heartbeat (`HEAD /heartbeat/{id}`). */
export type FastHeartbeatStatus = 200 | 202 | 410 | 503;

/** Filters of {@linkcode MeshRegistry.listAgents}. */
export interface AgentFilter {
  /** Only agents providing this capability. */
  capability?: string;
  /** Only agents in this state. */
  status?: AgentStatus;
}

/** Most full heartbeats, or unregistrations, stored in one transaction. */
const MAX_BATCH = 256;

interface HeartbeatJob {
  kind: "heartbeat";
  incoming: AgentContent;
  warnings: string[];
  resolve(response: JsonText<MeshRegistrationResponse>): void;
  reject(error: unknown): void;
}

interface UnregisterJob {
  kind: "unregister";
  agentId: string;
  resolve(): void;
  reject(error: unknown): void;
}

interface ExclusiveJob {
  kind: "exclusive";
  run(): Promise<void>;
}

type Job = HeartbeatJob | UnregisterJob | ExclusiveJob;

interface HeartbeatPlan {
  agent: StoredAgent;
  existing: AgentEntry | undefined;
  /** New agent, changed content, or back from unhealthy. */
  topologyChanged: boolean;
  events: NewEvent[];
}

interface AgentEntry {
  agent: StoredAgent;
  providers: Provider[];
  /** The declared dependencies of each tool (same positions), held in the resolution cache. */
  dependencies: DeclaredDependency[][];
  /** Topology version this agent last received in a full heartbeat. */
  seenVersion: number;
}

/**
 * The registry service logic. Create it with a store, then call
 * {@linkcode MeshRegistry.start} to load stored agents and start the monitor.
 *
 * @example
 * ```ts
 * import { MeshRegistry } from "./registry.ts";
 * import { SqliteStore } from "./sqlite_store.ts";
 * const registry = new MeshRegistry(new SqliteStore(":memory:"), {
 *   healthCheckIntervalMs: 10_000, timeoutThresholdMs: 20_000, evictionThresholdMs: 60_000,
 * });
 * await registry.start();
 * await registry.close();
 * ```
 */
export class MeshRegistry {
  readonly #store: RegistryStore;
  readonly #timing: HealthTiming;
  readonly #agents = new Map<string, AgentEntry>();
  readonly #index = new CapabilityIndex();
  /** Changes `#index` and keeps the declared dependencies' resolutions up to date. */
  readonly #resolutions = new ResolutionCache(this.#index);
  readonly #pendingLastSeen = new Map<string, number>();
  #version = 1;
  #availability: { version: number; check: AvailabilityCheck } | undefined;
  #storeHealthy = true;
  readonly #jobs: Job[] = [];
  #draining: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #startedAt = Date.now();
  #closed: Promise<void> | undefined;

  /**
   * @param store Durable storage; the registry closes it on {@linkcode MeshRegistry.close}.
   * @param timing Health monitor timing.
   */
  constructor(store: RegistryStore, timing: HealthTiming) {
    this.#store = store;
    this.#timing = timing;
  }

  /** Loads the stored agents and starts the health monitor. */
  async start(): Promise<void> {
    this.#startedAt = Date.now();
    for (const agent of await this.#store.loadAgents()) this.#put(agent, 0);
    this.#timer = setInterval(() => {
      this.checkHealth().catch(() => {/* recorded in storeHealthy; retried next tick */});
    }, this.#timing.healthCheckIntervalMs);
  }

  /** When the registry started, in milliseconds since the epoch. */
  get startedAt(): number {
    return this.#startedAt;
  }

  /** False after a store operation failed, until one succeeds again. */
  get storeHealthy(): boolean {
    return this.#storeHealthy;
  }

  /**
   * Registration and full heartbeat: stores the agent (healthy, seen now)
   * and resolves its dependencies. Answers the JSON text of the response.
   *
   * @throws {StoreUnavailableError} when the store fails (nothing changed).
   */
  heartbeat(
    incoming: AgentContent,
    warnings: string[],
  ): Promise<JsonText<MeshRegistrationResponse>> {
    const { promise, resolve, reject } = Promise.withResolvers<
      JsonText<MeshRegistrationResponse>
    >();
    this.#enqueue({ kind: "heartbeat", incoming, warnings, resolve, reject });
    return promise;
  }

  /**
   * Stores a batch of full heartbeats (distinct agents) in one transaction,
   * then answers each against the resulting topology. A heartbeat that
   * changes nothing but the time is not written: its `last_seen` reaches the
   * store with the next batch of fast heartbeats.
   */
  async #storeHeartbeats(batch: HeartbeatJob[]): Promise<void> {
    const now = Date.now();
    const plans = batch.map((job) =>
      planHeartbeat(job.incoming, this.#agents.get(job.incoming.id), now)
    );
    const changed = plans.filter((plan) => plan.topologyChanged);
    if (changed.length > 0 || !this.#storeHealthy) {
      try {
        await this.#commit({
          writes: changed.map(({ agent }) => ({ agent, replaceTools: true })),
          events: changed.flatMap((plan) => plan.events),
        });
      } catch (error) {
        for (const job of batch) job.reject(error);
        return;
      }
    }
    for (const { agent, existing, topologyChanged } of plans) {
      if (existing === undefined || topologyChanged) {
        this.#pendingLastSeen.delete(agent.id);
        this.#put(agent, 0);
      } else {
        this.#pendingLastSeen.set(agent.id, now);
        existing.agent = { ...agent, tools: existing.agent.tools };
      }
    }
    if (changed.length > 0) this.#version++;
    const timestamp = new Date(now).toISOString();
    for (const [position, { agent, existing }] of plans.entries()) {
      const entry = this.#agents.get(agent.id)!;
      entry.seenVersion = this.#version;
      const { warnings, resolve } = batch[position];
      resolve(registrationResponseJson(
        {
          status: "success",
          timestamp,
          message: existing === undefined
            ? "Agent registered via heartbeat"
            : "Agent updated via heartbeat",
          agent_id: agent.id,
          ...(warnings.length > 0 ? { warnings } : {}),
        },
        this.#resolveForResponse(entry),
      ));
    }
  }

  /**
   * Fast heartbeat: 200 when nothing changed since the agent's last full
   * heartbeat, 202 when the topology changed, 410 when the agent is unknown
   * or unhealthy, 503 while the store is failing. Costs O(1).
   */
  fastHeartbeat(agentId: string): FastHeartbeatStatus {
    if (!this.#storeHealthy) return 503;
    const entry = this.#agents.get(agentId);
    if (entry === undefined || entry.agent.status !== "healthy") return 410;
    const now = Date.now();
    entry.agent.last_seen = now;
    this.#pendingLastSeen.set(agentId, now);
    return entry.seenVersion === this.#version ? 200 : 202;
  }

  /**
   * Graceful unregistration; unknown ids are a no-op. Unregistrations queued
   * together share one transaction.
   *
   * @throws {StoreUnavailableError} when the store fails (nothing changed).
   */
  unregister(agentId: string): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#enqueue({ kind: "unregister", agentId, resolve, reject });
    return promise;
  }

  /** Removes a batch of agents (ids may repeat or be unknown) in one transaction. */
  async #storeUnregisters(batch: UnregisterJob[]): Promise<void> {
    const now = Date.now();
    const entries = new Map<string, AgentEntry>();
    for (const { agentId } of batch) {
      const entry = this.#agents.get(agentId);
      if (entry !== undefined) entries.set(agentId, entry);
    }
    if (entries.size > 0) {
      await this.#commit({
        deletes: [...entries.keys()],
        events: [...entries.values()].map(({ agent }) => newEvent("unregister", agent, now)),
      });
      for (const agentId of entries.keys()) {
        this.#pendingLastSeen.delete(agentId);
        this.#remove(agentId);
      }
      this.#version++;
    }
    for (const job of batch) job.resolve();
  }

  /**
   * One health-monitor pass: persists pending `last_seen` times, marks
   * silent agents unhealthy, evicts long-silent ones and lets the store do
   * its housekeeping. Runs on a timer;
   * callable directly.
   */
  checkHealth(): Promise<void> {
    return this.#serialized(async () => {
      const now = Date.now();
      const lastSeen = new Map(this.#pendingLastSeen);
      const statuses = new Map<string, AgentStatus>();
      const deletes: string[] = [];
      const events: NewEvent[] = [];
      for (const { agent } of this.#agents.values()) {
        // Time spent while the registry was down does not count against agents.
        const silence = now - Math.max(agent.last_seen, this.#startedAt);
        if (silence > this.#timing.evictionThresholdMs) {
          deletes.push(agent.id);
          events.push(newEvent("expire", agent, now, { reason: "heartbeat_timeout" }));
        } else if (silence > this.#timing.timeoutThresholdMs && agent.status === "healthy") {
          statuses.set(agent.id, "unhealthy");
          events.push(
            newEvent("unhealthy", agent, now, {
              reason: "heartbeat_timeout",
              old_status: agent.status,
              new_status: "unhealthy",
            }),
          );
        }
      }
      // Commits even when empty: a success is what clears a past store failure.
      await this.#commit({ lastSeen, statuses, deletes, events });
      for (const id of lastSeen.keys()) this.#pendingLastSeen.delete(id);
      for (const id of deletes) this.#remove(id);
      for (const [id, status] of statuses) {
        const entry = this.#agents.get(id)!;
        this.#put({ ...entry.agent, status, updated_at: now }, entry.seenVersion);
      }
      if (deletes.length > 0 || statuses.size > 0) this.#version++;
      if (events.length > 0) await this.#store.pruneEvents(MAX_STORED_EVENTS);
      await this.#store.maintain?.();
    });
  }

  /** Agents matching `filter`, ordered by id. */
  listAgents(filter: AgentFilter = {}): AgentInfo[] {
    const check = this.#availabilityCheck();
    const agents: AgentInfo[] = [];
    for (const entry of this.#agents.values()) {
      if (filter.status !== undefined && entry.agent.status !== filter.status) continue;
      if (
        filter.capability !== undefined &&
        !entry.agent.tools.some((tool) => tool.capability === filter.capability)
      ) continue;
      agents.push(this.#agentInfo(entry, check));
    }
    return agents.sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  }

  /** One agent, or undefined when unknown. */
  getAgent(agentId: string): AgentInfo | undefined {
    const entry = this.#agents.get(agentId);
    return entry === undefined ? undefined : this.#agentInfo(entry, this.#availabilityCheck());
  }

  /** Number of registered agents. */
  get agentCount(): number {
    return this.#agents.size;
  }

  /**
   * Events matching `query`, newest first.
   *
   * @throws {StoreUnavailableError} when the store fails.
   */
  async listEvents(query: EventQuery): Promise<RegistryEventInfo[]> {
    try {
      return await this.#store.listEvents(query);
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }

  /** Stops the monitor, waits for pending writes, persists `last_seen` times, closes the store. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#timer);
      await this.#draining;
      if (this.#pendingLastSeen.size > 0) {
        await this.#store.commit({ lastSeen: this.#pendingLastSeen }).catch(() => {});
      }
      await this.#store.close();
    })();
    return this.#closed;
  }

  /** Runs `work` alone, after every mutation queued before it. */
  #serialized<T>(work: () => Promise<T>): Promise<T> {
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.#enqueue({ kind: "exclusive", run: () => work().then(resolve, reject) });
    return promise;
  }

  #enqueue(job: Job): void {
    this.#jobs.push(job);
    this.#draining ??= this.#drain();
  }

  /**
   * Runs queued mutations in order. Consecutive full heartbeats of distinct
   * agents share one transaction (group commit), and so do consecutive
   * unregistrations; the short yield first lets concurrent requests join the
   * batch. It lets go of `#draining` in the same step that finds the queue
   * empty, so a job queued later starts a new run.
   */
  async #drain(): Promise<void> {
    try {
      while (this.#jobs.length > 0) {
        await new Promise((resolve) => setImmediate(resolve));
        const first = this.#jobs[0];
        if (first.kind === "exclusive") {
          this.#jobs.shift();
          await first.run();
        } else if (first.kind === "unregister") {
          const batch = this.#takeBatch((job): job is UnregisterJob => job.kind === "unregister");
          await this.#storeUnregisters(batch).catch((error) => {
            for (const job of batch) job.reject(error);
          });
        } else {
          // A batch holds one heartbeat per agent: a second one waits for the next batch.
          const ids = new Set<string>();
          const batch = this.#takeBatch((job): job is HeartbeatJob => {
            if (job.kind !== "heartbeat" || ids.has(job.incoming.id)) return false;
            ids.add(job.incoming.id);
            return true;
          });
          await this.#storeHeartbeats(batch).catch((error) => {
            for (const job of batch) job.reject(error);
          });
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }

  /** Takes the longest run of queued jobs (at most {@linkcode MAX_BATCH}) that `fits` accepts. */
  #takeBatch<T extends Job>(fits: (job: Job) => job is T): T[] {
    const batch: T[] = [];
    for (const job of this.#jobs) {
      if (batch.length >= MAX_BATCH || !fits(job)) break;
      batch.push(job);
    }
    this.#jobs.splice(0, batch.length);
    return batch;
  }

  async #commit(changes: StoreChanges): Promise<void> {
    try {
      await this.#store.commit(changes);
      this.#storeHealthy = true;
    } catch (error) {
      this.#storeHealthy = false;
      throw new StoreUnavailableError(error);
    }
  }

  /** Adds or replaces an agent in memory. */
  #put(agent: StoredAgent, seenVersion: number): void {
    // Acquired before the old entry releases them: a re-registration keeps its rankings.
    const dependencies = agent.tools.map((tool) =>
      tool.dependencies.map((dependency) => this.#resolutions.acquire(dependency))
    );
    const providers = providersOfAgent(agent);
    this.#remove(agent.id);
    this.#agents.set(agent.id, { agent, providers, dependencies, seenVersion });
    this.#resolutions.add(providers);
  }

  #remove(agentId: string): void {
    const entry = this.#agents.get(agentId);
    if (entry === undefined) return;
    this.#resolutions.remove(entry.providers);
    for (const declared of entry.dependencies.flat()) this.#resolutions.release(declared);
    this.#agents.delete(agentId);
  }

  #availabilityCheck(): AvailabilityCheck {
    if (this.#availability?.version !== this.#version) {
      this.#availability = { version: this.#version, check: createAvailabilityCheck(this.#index) };
    }
    return this.#availability.check;
  }

  /**
   * JSON of the agent's `dependencies_resolved` by function. Each declared
   * dependency's providers come ranked from the resolution cache (kept up
   * to date as providers change); only the text is put together here.
   */
  #resolveForResponse(entry: AgentEntry): Map<string, JsonText<unknown>[]> {
    const resolved = new Map<string, JsonText<unknown>[]>();
    for (const [position, tool] of entry.agent.tools.entries()) {
      const dependencies = entry.dependencies[position];
      if (dependencies.length === 0) continue;
      resolved.set(
        tool.function_name,
        dependencies.map((declared) => this.#resolutions.json(declared)),
      );
    }
    return resolved;
  }

  #agentInfo(entry: AgentEntry, check: AvailabilityCheck): AgentInfo {
    const { agent } = entry;
    const capabilities: CapabilityInfo[] = agent.tools.map((tool, position) => {
      const availability = check(entry.providers[position]);
      const capability: CapabilityInfo = {
        name: tool.capability,
        version: tool.version,
        function_name: tool.function_name,
        tags: tool.tags,
        available: availability.available,
      };
      if (tool.description !== undefined) capability.description = tool.description;
      if (tool.inputSchema !== undefined) capability.inputSchema = tool.inputSchema;
      if (tool.outputSchema !== undefined) capability.outputSchema = tool.outputSchema;
      if (tool.kwargs !== undefined) capability.kwargs = tool.kwargs;
      if (availability.reason !== undefined) capability.unavailable_reason = availability.reason;
      return capability;
    });
    const resolutions: DependencyResolutionInfo[] = [];
    for (const tool of agent.tools) {
      for (const dependency of tool.dependencies) {
        const { spec, provider } = resolveEntry(dependency, this.#index, check);
        const info: DependencyResolutionInfo = {
          function_name: tool.function_name,
          capability: spec.capability,
          tags: spec.tags ?? [],
          status: provider === undefined ? "unresolved" : "available",
        };
        if (provider !== undefined) {
          info.mcp_tool = provider.functionName;
          info.provider_agent_id = provider.agentId;
          info.endpoint = provider.endpoint;
        }
        resolutions.push(info);
      }
    }
    const info: AgentInfo = {
      id: agent.id,
      name: agent.name,
      agent_type: agent.agent_type,
      status: agent.status,
      endpoint: endpointOf(agent.http_host, agent.http_port),
      capabilities,
      total_dependencies: resolutions.length,
      dependencies_resolved: resolutions.filter((r) => r.status === "available").length,
      dependency_resolutions: resolutions,
      created_at: new Date(agent.created_at).toISOString(),
      last_seen: new Date(agent.last_seen).toISOString(),
      version: agent.version,
      namespace: agent.namespace,
    };
    if (agent.runtime !== undefined) info.runtime = agent.runtime;
    if (agent.description !== undefined) info.description = agent.description;
    return info;
  }
}

/** What storing a full heartbeat changes, decided from the agent's current entry. */
function planHeartbeat(
  incoming: AgentContent,
  existing: AgentEntry | undefined,
  now: number,
): HeartbeatPlan {
  const changed = existing !== undefined && !sameContent(existing.agent, incoming);
  const recovered = existing !== undefined && existing.agent.status !== "healthy";
  const topologyChanged = existing === undefined || changed || recovered;
  const agent: StoredAgent = {
    ...incoming,
    status: "healthy",
    created_at: existing?.agent.created_at ?? now,
    updated_at: topologyChanged ? now : existing.agent.updated_at,
    last_seen: now,
  };
  const events: NewEvent[] = [];
  if (existing === undefined) events.push(newEvent("register", agent, now));
  else if (recovered) {
    events.push(
      newEvent("register", agent, now, { reason: "recovered", old_status: existing.agent.status }),
    );
  }
  if (changed) events.push(newEvent("update", agent, now, { reason: "content_changed" }));
  return { agent, existing, topologyChanged, events };
}

/** Whether two agents declare the same content (a plain heartbeat, not a change). */
function sameContent(a: AgentContent, b: AgentContent): boolean {
  return a.name === b.name && a.agent_type === b.agent_type && a.runtime === b.runtime &&
    a.description === b.description && a.version === b.version &&
    a.http_host === b.http_host && a.http_port === b.http_port && a.namespace === b.namespace &&
    jsonEqual(a.tools, b.tools);
}

/** Deep equality of JSON values (object key order does not matter). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length &&
      a.every((item, index) => jsonEqual(item, b[index]));
  }
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) =>
    Object.hasOwn(b, key) &&
    jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])
  );
}

function newEvent(
  type: NewEvent["event_type"],
  agent: StoredAgent,
  timestamp: number,
  data?: Record<string, unknown>,
): NewEvent {
  const event: NewEvent = {
    event_type: type,
    agent_id: agent.id,
    agent_name: agent.name,
    timestamp,
  };
  if (data !== undefined) event.data = data;
  return event;
}
