/**
 * Choosing a provider among the replicas of a dependency: the built-in
 * `round-robin` and `least-inflight` strategies, or a custom function
 * (the extension point for one's own dependency resolver).
 *
 * @module
 */

import type { CircuitBreaker } from "./circuit_breaker.ts";

/** What a strategy sees of one provider. */
export interface ProviderView {
  /** Provider agent id. */
  readonly agentId: string;
  /** Provider base URL. */
  readonly endpoint: string;
  /** Tool name on the provider. */
  readonly functionName: string;
  /** Provider version, when the registry reports it. */
  readonly version?: string;
  /** Calls this proxy currently has in flight to it. */
  readonly inflight: number;
}

/**
 * Picks one of `providers` (all healthy: circuit not open, not excluded) for a
 * call, or `undefined` to refuse them all.
 */
export type SelectionFunction = (providers: readonly ProviderView[]) => ProviderView | undefined;

/** How a dependency spreads its calls over its providers. */
export type SelectionStrategy = "round-robin" | "least-inflight" | SelectionFunction;

/** A provider with the live state the balancer keeps for it. */
export interface Provider extends ProviderView {
  /** Calls in flight (mutated by the caller around each call). */
  inflight: number;
  /** The breaker of its endpoint. */
  readonly breaker: CircuitBreaker;
}

/** Chooses providers for calls according to a {@linkcode SelectionStrategy}. */
export class Balancer<P extends Provider> {
  readonly providers: readonly P[];
  #strategy: SelectionStrategy;
  #next = 0;

  /** `providers` must not be empty; the first is the registry's chosen one. */
  constructor(providers: readonly P[], strategy: SelectionStrategy = "round-robin") {
    this.providers = providers;
    this.#strategy = strategy;
  }

  /**
   * The provider for the next attempt, skipping `excluded` endpoints and open
   * circuits and preferring providers out of cool-down; `preferred` (a
   * session's owner) wins when it is eligible. Throws when none is eligible.
   */
  pick(excluded: ReadonlySet<string>, preferred?: string): P {
    const admitted = this.providers.filter((p) => !excluded.has(p.endpoint) && p.breaker.admits);
    if (admitted.length === 0) throw new NoProviderError(this.providers, excluded);
    const owner = preferred === undefined
      ? undefined
      : admitted.find((p) => p.endpoint === preferred);
    if (owner) return owner;
    const rested = admitted.filter((p) => !p.breaker.coolingDown);
    return this.#choose(rested.length ? rested : admitted);
  }

  #choose(candidates: P[]): P {
    if (candidates.length === 1 && typeof this.#strategy === "string") return candidates[0];
    if (this.#strategy === "round-robin") return candidates[this.#next++ % candidates.length];
    if (this.#strategy === "least-inflight") {
      // Ties rotate so equal load still spreads.
      const offset = this.#next++;
      let best = candidates[offset % candidates.length];
      for (let i = 1; i < candidates.length; i++) {
        const candidate = candidates[(i + offset) % candidates.length];
        if (candidate.inflight < best.inflight) best = candidate;
      }
      return best;
    }
    const chosen = this.#strategy(candidates);
    const match = candidates.find((p) => p === chosen || p.endpoint === chosen?.endpoint);
    if (!match) throw new Error("the dependency's selection strategy chose no eligible provider");
    return match;
  }
}

/** No provider may take the call: all excluded for this call or behind open circuits. */
export class NoProviderError extends Error {
  /** Names the providers and why each is ineligible. */
  constructor(providers: readonly Provider[], excluded: ReadonlySet<string>) {
    const reasons = providers.map((p) =>
      `${p.endpoint} (${
        excluded.has(p.endpoint) ? "failed this call" : `circuit ${p.breaker.state}`
      })`
    );
    super(`no provider available: ${reasons.join(", ")}`);
    this.name = "NoProviderError";
  }
}
