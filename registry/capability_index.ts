/**
 * In-memory index of providers by capability, updated per agent.
 *
 * @module
 */

import {
  compareProviders,
  isRequired,
  parseVersion,
  type Provider,
  type ProviderIndex,
} from "./resolver.ts";
import type { StoredAgent } from "./store.ts";

const LOOPBACK = "127.0.0.1";

/**
 * Base URL of an agent. A wildcard or missing host (`0.0.0.0`, `::`, `""`)
 * is reported as `127.0.0.1`: the agent listens on every interface, so
 * loopback reaches it from the registry's machine. IPv6 hosts get brackets.
 *
 * @example
 * ```ts
 * import { endpointOf } from "./capability_index.ts";
 * endpointOf("0.0.0.0", 9090); // "http://127.0.0.1:9090"
 * endpointOf("::1", 9090); // "http://[::1]:9090"
 * ```
 */
export function endpointOf(host: string, port: number): string {
  const reachable = host === "" || host === "0.0.0.0" || host === "::" ? LOOPBACK : host;
  const bracketed = reachable.includes(":") && !reachable.startsWith("[")
    ? `[${reachable}]`
    : reachable;
  return `http://${bracketed}:${port}`;
}

/**
 * The providers (one per tool) of an agent.
 *
 * @example
 * ```ts
 * import { providersOfAgent } from "./capability_index.ts";
 * const providers = providersOfAgent({
 *   id: "a", name: "a", agent_type: "mcp_agent", version: "1.0.0", http_host: "",
 *   http_port: 9000, namespace: "default", status: "healthy", created_at: 0,
 *   updated_at: 0, last_seen: 0,
 *   tools: [{ function_name: "f", capability: "c", version: "1.0.0", tags: [], dependencies: [] }],
 * });
 * providers[0].endpoint; // "http://127.0.0.1:9000"
 * ```
 */
export function providersOfAgent(agent: StoredAgent): Provider[] {
  const endpoint = endpointOf(agent.http_host, agent.http_port);
  const healthy = agent.status === "healthy";
  const stdioOnly = agent.http_port === 0;
  return agent.tools.map((tool) => {
    const provider: Provider = {
      agentId: agent.id,
      functionName: tool.function_name,
      capability: tool.capability,
      version: tool.version,
      semver: parseVersion(tool.version),
      tags: tool.tags,
      namespace: agent.namespace,
      endpoint,
      healthy,
      stdioOnly,
      requiredDependencies: tool.dependencies.filter(isRequired),
      // Declared now, even when undefined, so that every provider has the same shape.
      kwargs: tool.kwargs,
      chosenJson: undefined,
      listedJson: undefined,
    };
    return provider;
  });
}

/**
 * Providers by capability, each list sorted by preference. Adding or removing an agent costs the number of
 * its tools times the providers of each of their capabilities, never a scan
 * of the whole mesh.
 *
 * @example
 * ```ts
 * import { CapabilityIndex } from "./capability_index.ts";
 * const index = new CapabilityIndex();
 * index.providersOf("time_service"); // []
 * ```
 */
export class CapabilityIndex implements ProviderIndex {
  readonly #byCapability = new Map<string, Provider[]>();

  /** Every provider of `capability`. */
  providersOf(capability: string): readonly Provider[] {
    return this.#byCapability.get(capability) ?? [];
  }

  /** Adds providers, keeping each list in preference order. */
  add(providers: readonly Provider[]): void {
    for (const provider of providers) {
      const list = this.#byCapability.get(provider.capability);
      if (list === undefined) {
        this.#byCapability.set(provider.capability, [provider]);
        continue;
      }
      let low = 0;
      let high = list.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (compareProviders(list[middle], provider) <= 0) low = middle + 1;
        else high = middle;
      }
      list.splice(low, 0, provider);
    }
  }

  /** Removes providers previously added (by identity). */
  remove(providers: readonly Provider[]): void {
    for (const provider of providers) {
      const list = this.#byCapability.get(provider.capability);
      if (list === undefined) continue;
      const position = list.indexOf(provider);
      if (position >= 0) list.splice(position, 1);
      if (list.length === 0) this.#byCapability.delete(provider.capability);
    }
  }
}
