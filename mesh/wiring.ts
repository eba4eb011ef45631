/**
 * The agent's current dependency wiring: proxies built from the registry's
 * `dependencies_resolved`, rebuilt only when that topology changes.
 *
 * @module
 */

import type { CallToolResult } from "@modelcontextprotocol/sdk/types";
import type { DependencyResolution, ResolvedDependency } from "./protocol.ts";
import { LocalTool, type McpMeshTool, RemoteTool } from "./proxy.ts";

/** Runs a tool of this agent in-process. */
export type LocalInvoker = (
  functionName: string,
  args: Record<string, unknown>,
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

/** Dependency proxies per function, in declared order. */
export class DependencyWiring {
  #selfId: string;
  #selfEndpoint: string;
  #invokeLocal: LocalInvoker;
  #authToken?: string;
  #fingerprint = fingerprint({});
  #proxies = new Map<string, (McpMeshTool | undefined)[]>();

  /** `selfId`/`selfEndpoint` identify this agent so self-dependencies stay in-process. */
  constructor(options: {
    selfId: string;
    selfEndpoint: string;
    invokeLocal: LocalInvoker;
    authToken?: string;
  }) {
    this.#selfId = options.selfId;
    this.#selfEndpoint = options.selfEndpoint;
    this.#invokeLocal = options.invokeLocal;
    this.#authToken = options.authToken;
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
      ) => [name, entries.map((entry) => this.#proxy(entry))]),
    );
    return true;
  }

  /** The proxies of one function, `count` long, `undefined` where unresolved. */
  get(functionName: string, count: number): (McpMeshTool | undefined)[] {
    const proxies = this.#proxies.get(functionName) ?? [];
    return Array.from({ length: count }, (_, i) => proxies[i]);
  }

  #proxy(entry: DependencyResolution): McpMeshTool | undefined {
    if (entry.status !== "available") return undefined;
    const resolved = entry as ResolvedDependency;
    if (resolved.agent_id !== this.#selfId) return new RemoteTool(resolved, this.#authToken);
    return new LocalTool(
      {
        capability: resolved.capability,
        agentId: resolved.agent_id,
        endpoint: this.#selfEndpoint,
        functionName: resolved.function_name,
      },
      (args) => this.#invokeLocal(resolved.function_name, args),
    );
  }
}
