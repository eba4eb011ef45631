/**
 * The agent's current dependency wiring: proxies built from the registry's
 * `dependencies_resolved`, rebuilt only when that topology changes.
 *
 * @module
 */

import type { CallToolResult } from "@modelcontextprotocol/sdk/types";
import { SessionRoutes } from "./affinity.ts";
import type { SelectionStrategy } from "./balancer.ts";
import { BreakerBoard, type CircuitBreakerOptions } from "./circuit_breaker.ts";
import type { HttpClient } from "./http_client.ts";
import type { DependencyResolution, ResolvedDependency } from "./protocol.ts";
import {
  type LocalCall,
  LocalTool,
  type McpMeshTool,
  type ProxyObserver,
  RemoteTool,
} from "./proxy.ts";

/** Runs a tool of this agent in-process (`call` says how: the caller's options, progress). */
export type LocalInvoker = (
  functionName: string,
  args: Record<string, unknown>,
  call: LocalCall,
) => Promise<CallToolResult>;

/** Stable JSON text of a value: object keys sorted at every level. */
export function fingerprint(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, item) =>
      item && typeof item === "object" && !Array.isArray(item)
        ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
        : item,
  );
}

/** How the consuming tool wants one of its dependencies called. */
export interface ConsumerSettings {
  /** Selection strategy among the providers. */
  strategy?: SelectionStrategy;
  /** Circuit breaker settings for the providers' endpoints. */
  circuitBreaker?: CircuitBreakerOptions;
}

/** What {@linkcode DependencyWiring} needs to know about its agent. */
export interface WiringOptions {
  /** This agent's id: a dependency it provides itself stays in-process. */
  selfId: string;
  /** This agent's base URL. */
  selfEndpoint: string;
  /** Runs one of this agent's tools in-process. */
  invokeLocal: LocalInvoker;
  /** Bearer token for providers that require one. */
  authToken?: string;
  /** Settings of dependency `index` of tool `functionName`. */
  settings?: (functionName: string, index: number) => ConsumerSettings;
  /** Receives the outcome of every remote attempt. */
  observer?: ProxyObserver;
  /** Connection pool for `http:` providers (default: `fetch`). */
  http?: HttpClient;
}

/** Dependency proxies per function, in declared order. */
export class DependencyWiring {
  /** Breakers of every provider endpoint, kept across rewiring. */
  readonly breakers: BreakerBoard = new BreakerBoard();
  #options: WiringOptions;
  #sessions = new SessionRoutes();
  #fingerprint = fingerprint({});
  #proxies = new Map<string, (McpMeshTool | undefined)[]>();

  /** Wires nothing until the first {@linkcode DependencyWiring.update}. */
  constructor(options: WiringOptions) {
    this.#options = options;
  }

  /**
   * Adopts a registry answer. Returns true when the topology changed and the
   * proxies were rebuilt, false when it is the same as before (nothing touched).
   */
  update(resolved: Record<string, DependencyResolution[]>): boolean {
    const next = fingerprint(resolved);
    if (next === this.#fingerprint) return false;
    this.#fingerprint = next;
    this.#proxies = new Map(
      Object.entries(resolved).map((
        [name, entries],
      ) => [name, entries.map((entry, i) => this.#proxy(name, i, entry))]),
    );
    return true;
  }

  /** The proxies of one function, `count` long, `undefined` where unresolved. */
  get(functionName: string, count: number): (McpMeshTool | undefined)[] {
    const proxies = this.#proxies.get(functionName);
    // Built per call (tools may keep or change their array); a loop is ~10× cheaper than Array.from.
    const list: (McpMeshTool | undefined)[] = [];
    for (let i = 0; i < count; i++) list.push(proxies?.[i]);
    return list;
  }

  /** Resolved dependencies currently wired, with the proxy each became. */
  *wired(): IterableIterator<McpMeshTool> {
    for (const proxies of this.#proxies.values()) {
      for (const proxy of proxies) if (proxy) yield proxy;
    }
  }

  #proxy(
    functionName: string,
    index: number,
    entry: DependencyResolution,
  ): McpMeshTool | undefined {
    if (entry.status !== "available") return undefined;
    const resolved = entry as ResolvedDependency;
    const { selfId, selfEndpoint, invokeLocal } = this.#options;
    // A replica of our own is the cheapest provider: no network at all.
    const self = resolved.agent_id === selfId
      ? resolved
      : resolved.providers?.find((provider) => provider.agent_id === selfId);
    if (self) {
      return new LocalTool(
        {
          capability: resolved.capability,
          agentId: selfId,
          endpoint: selfEndpoint,
          functionName: self.function_name,
        },
        (args, call) => invokeLocal(self.function_name, args, call),
      );
    }
    const settings = this.#options.settings?.(functionName, index) ?? {};
    return new RemoteTool(resolved, {
      authToken: this.#options.authToken,
      strategy: settings.strategy,
      circuitBreaker: settings.circuitBreaker,
      breakers: this.breakers,
      sessions: this.#sessions,
      observer: this.#options.observer,
      http: this.#options.http,
    });
  }
}
