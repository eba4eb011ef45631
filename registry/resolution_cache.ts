/**
 * Resolutions of declared dependencies, kept up to date as providers come
 * and go instead of ranked from scratch on every answer.
 *
 * Each declared spec (shared by every agent declaring the same one) keeps its
 * ranking: the available providers, best first, with their tag scores. A
 * provider added to or removed from capability C is inserted into or removed
 * from the rankings of the specs on C only (binary insertion in
 * {@linkcode rankScored} order). Each ranking also keeps the JSON of the
 * resolution it gives until it changes, so agents heartbeating into an
 * unchanged mesh get answers joined from a few ready strings.
 *
 * Availability makes the exception: a provider with `required` dependencies
 * is available only while they resolve, which a change anywhere in the mesh
 * may affect. The rankings of a capability that has (or just had) such a
 * provider are therefore ranked from scratch again after any change.
 *
 * @module
 */

import type {
  MeshDependencyEntry,
  MeshToolDependencyRegistration,
  ResolvedDependency,
  TagSpec,
  UnresolvedDependency,
} from "@mesh/sdk/protocol";
import type { CapabilityIndex } from "./capability_index.ts";
import {
  type AvailabilityCheck,
  createAvailabilityCheck,
  healthAvailability,
  type Provider,
  qualifyingScore,
  type RankedProviders,
  type RankedResolution,
  rankPosition,
  rankScored,
  specsOf,
} from "./resolver.ts";
import { dependencyResolutionJson, type JsonText } from "./response_json.ts";

/** A declared dependency held in a {@linkcode ResolutionCache}. */
export interface DeclaredDependency {
  /** The dependency as declared (one spec or a fallback chain). */
  readonly entry: MeshDependencyEntry;
}

/** The ranking of one declared spec. */
interface SpecRanking {
  readonly spec: MeshToolDependencyRegistration;
  /** Undefined until ranked, and again after a change it cannot follow. */
  ranked: RankedProviders | undefined;
  /** Change count when ranked from scratch. */
  rankedAt: number;
  /** JSON of a resolution by this ranking while it stays as it is (a memo). */
  json: JsonText<ResolvedDependency | UnresolvedDependency> | undefined;
  /** Declared dependencies with this spec. */
  users: number;
}

/** The cache's state of a {@linkcode DeclaredDependency}. */
interface Declared extends DeclaredDependency {
  readonly specs: readonly SpecRanking[];
  /** Agents' tools declaring it. */
  users: number;
}

/**
 * Providers by capability (a {@linkcode CapabilityIndex} it updates) and the
 * resolutions of the dependencies agents declare. Agents
 * {@linkcode ResolutionCache.acquire} their declared dependencies and
 * {@linkcode ResolutionCache.release} them when they go; equal declarations
 * share one entry (found among those on the same capability).
 *
 * @example
 * ```ts
 * import { CapabilityIndex, providersOfAgent } from "./capability_index.ts";
 * import { ResolutionCache } from "./resolution_cache.ts";
 * const cache = new ResolutionCache(new CapabilityIndex());
 * const time = cache.acquire({ capability: "time" });
 * cache.add(providersOfAgent({
 *   id: "clock", name: "clock", agent_type: "mcp_agent", version: "1.0.0", http_host: "",
 *   http_port: 9000, namespace: "default", status: "healthy", created_at: 0,
 *   updated_at: 0, last_seen: 0,
 *   tools: [{ function_name: "now", capability: "time", version: "1.0.0", tags: [], dependencies: [] }],
 * }));
 * cache.resolve(time).provider?.agentId; // "clock"
 * cache.release(time);
 * ```
 */
export class ResolutionCache {
  readonly #index: CapabilityIndex;
  /** Declared dependencies by the capability of their first spec. */
  readonly #declared = new Map<string, Declared[]>();
  /** Rankings by the capability of their spec. */
  readonly #rankings = new Map<string, SpecRanking[]>();
  /** Providers with `required` dependencies, by capability. */
  readonly #gated = new Map<string, number>();
  /** Count of changes (each add or remove). */
  #changes = 0;
  #availability: { changes: number; check: AvailabilityCheck } | undefined;

  /**
   * Starts with no declared dependencies.
   *
   * @param index The providers; change it only through this cache from now on.
   */
  constructor(index: CapabilityIndex) {
    this.#index = index;
  }

  /** Adds providers to the index and to the rankings of the specs on their capabilities. */
  add(providers: readonly Provider[]): void {
    this.#changes++;
    for (const provider of providers) {
      if (isGated(provider)) this.#countGated(provider.capability, 1);
    }
    this.#index.add(providers);
    for (const provider of providers) this.#follow(provider, insertProvider);
  }

  /** Removes providers (previously added) from the index and from the rankings. */
  remove(providers: readonly Provider[]): void {
    this.#changes++;
    for (const provider of providers) this.#follow(provider, removeProvider);
    this.#index.remove(providers);
    for (const provider of providers) {
      if (isGated(provider)) this.#countGated(provider.capability, -1);
    }
  }

  /**
   * Applies `update` to each ranking of a spec on the provider's capability.
   * The rankings of a gated capability are dropped instead, to be ranked
   * from scratch.
   */
  #follow(
    provider: Provider,
    update: (
      ranked: RankedProviders,
      spec: MeshToolDependencyRegistration,
      provider: Provider,
    ) => boolean,
  ): void {
    const rankings = this.#rankings.get(provider.capability);
    if (rankings === undefined) return;
    const gated = this.#gated.has(provider.capability);
    for (const ranking of rankings) {
      if (ranking.ranked === undefined) continue;
      if (gated) ranking.ranked = undefined;
      else if (update(ranking.ranked, ranking.spec, provider)) ranking.json = undefined;
    }
  }

  #countGated(capability: string, delta: number): void {
    const count = (this.#gated.get(capability) ?? 0) + delta;
    if (count === 0) this.#gated.delete(capability);
    else this.#gated.set(capability, count);
  }

  /** Holds a declared dependency for one more declaring tool; answers its handle. */
  acquire(entry: MeshDependencyEntry): DeclaredDependency {
    const specs = specsOf(entry);
    const bucket = bucketOf(this.#declared, specs[0].capability);
    let declared: Declared | undefined;
    for (const known of bucket) {
      if (sameEntry(known.entry, entry)) {
        declared = known;
        break;
      }
    }
    if (declared === undefined) {
      declared = { entry, specs: specs.map((spec) => this.#acquireRanking(spec)), users: 0 };
      bucket.push(declared);
    }
    declared.users++;
    return declared;
  }

  /** Lets go of a handle from {@linkcode ResolutionCache.acquire}; the last release forgets it. */
  release(dependency: DeclaredDependency): void {
    const declared = dependency as Declared;
    if (--declared.users > 0) return;
    dropFrom(this.#declared, specsOf(declared.entry)[0].capability, declared);
    for (const ranking of declared.specs) {
      if (--ranking.users === 0) dropFrom(this.#rankings, ranking.spec.capability, ranking);
    }
  }

  #acquireRanking(spec: MeshToolDependencyRegistration): SpecRanking {
    const bucket = bucketOf(this.#rankings, spec.capability);
    let ranking = bucket.find((known) => sameSpec(known.spec, spec));
    if (ranking === undefined) {
      ranking = { spec, ranked: undefined, rankedAt: 0, json: undefined, users: 0 };
      bucket.push(ranking);
    }
    ranking.users++;
    return ranking;
  }

  /** The current resolution of a declared dependency, with every available provider. */
  resolve(dependency: DeclaredDependency): RankedResolution {
    const ranking = this.#winning(dependency);
    return ranking === undefined ? unresolved(dependency) : resolutionBy(ranking);
  }

  /**
   * JSON of the current resolution (an entry of `dependencies_resolved[function]`),
   * kept on the ranking that resolves it until that ranking changes.
   */
  json(dependency: DeclaredDependency): JsonText<ResolvedDependency | UnresolvedDependency> {
    const ranking = this.#winning(dependency);
    if (ranking === undefined) return dependencyResolutionJson(unresolved(dependency));
    return ranking.json ??= dependencyResolutionJson(resolutionBy(ranking));
  }

  /** The first ranking of a declared dependency's specs that has a provider (current). */
  #winning(dependency: DeclaredDependency): SpecRanking | undefined {
    return (dependency as Declared).specs.find((ranking) =>
      this.#current(ranking).providers.length > 0
    );
  }

  /** The ranking of a spec, ranked from scratch when missing or possibly stale. */
  #current(ranking: SpecRanking): RankedProviders {
    const stale = ranking.ranked === undefined ||
      (this.#gated.has(ranking.spec.capability) && ranking.rankedAt !== this.#changes);
    if (stale) {
      ranking.ranked = rankScored(ranking.spec, this.#index, this.#availabilityCheck());
      ranking.rankedAt = this.#changes;
      ranking.json = undefined;
    }
    return ranking.ranked!;
  }

  #availabilityCheck(): AvailabilityCheck {
    if (this.#availability?.changes !== this.#changes) {
      this.#availability = { changes: this.#changes, check: createAvailabilityCheck(this.#index) };
    }
    return this.#availability.check;
  }
}

/**
 * Inserts a provider of an ungated capability where it ranks, when it
 * qualifies; answers whether it did.
 */
function insertProvider(
  ranked: RankedProviders,
  spec: MeshToolDependencyRegistration,
  provider: Provider,
): boolean {
  // Not gated: the provider's availability is its health.
  const score = qualifyingScore(provider, spec, healthAvailability);
  if (score < 0) return false;
  const position = rankPosition(ranked, provider, score);
  ranked.providers.splice(position, 0, provider);
  ranked.scores.splice(position, 0, score);
  return true;
}

/** Removes a provider from a ranking, when it is there; answers whether it was. */
function removeProvider(
  ranked: RankedProviders,
  _spec: MeshToolDependencyRegistration,
  provider: Provider,
): boolean {
  const position = ranked.providers.indexOf(provider);
  if (position < 0) return false;
  ranked.providers.splice(position, 1);
  ranked.scores.splice(position, 1);
  return true;
}

/** The resolution a ranking gives (it has providers, and is current). */
function resolutionBy({ spec, ranked }: SpecRanking): RankedResolution {
  const { providers } = ranked!;
  return { spec, provider: providers[0], providers };
}

/** The resolution of a declared dependency that no spec resolves. */
function unresolved(dependency: DeclaredDependency): RankedResolution {
  return { spec: (dependency as Declared).specs[0].spec, providers: [] };
}

/** Whether a provider's availability depends on other capabilities. */
function isGated(provider: Provider): boolean {
  return provider.requiredDependencies.length > 0;
}

function bucketOf<T>(map: Map<string, T[]>, capability: string): T[] {
  let bucket = map.get(capability);
  if (bucket === undefined) {
    bucket = [];
    map.set(capability, bucket);
  }
  return bucket;
}

function dropFrom<T>(map: Map<string, T[]>, capability: string, item: T): void {
  const bucket = map.get(capability)!;
  bucket.splice(bucket.indexOf(item), 1);
  if (bucket.length === 0) map.delete(capability);
}

/** Whether two declared dependencies are the same (spec by spec). */
function sameEntry(a: MeshDependencyEntry, b: MeshDependencyEntry): boolean {
  if (!Array.isArray(a) || !Array.isArray(b)) {
    return !Array.isArray(a) && !Array.isArray(b) && sameSpec(a, b);
  }
  if (a.length !== b.length) return false;
  for (let position = 0; position < a.length; position++) {
    if (!sameSpec(a[position], b[position])) return false;
  }
  return true;
}

/** Whether two specs are the same (capability, version, namespace, required, tags). */
function sameSpec(a: MeshToolDependencyRegistration, b: MeshToolDependencyRegistration): boolean {
  return a.capability === b.capability && a.version === b.version &&
    a.namespace === b.namespace && a.required === b.required && sameTags(a.tags, b.tags);
}

function sameTags(a: readonly TagSpec[] | undefined, b: readonly TagSpec[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let position = 0; position < a.length; position++) {
    const tag = a[position];
    const other = b[position];
    if (typeof tag === "string" || typeof other === "string") {
      if (tag !== other) return false;
    } else if (tag.length !== other.length || tag.some((name, at) => name !== other[at])) {
      return false;
    }
  }
  return true;
}
