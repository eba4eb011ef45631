/**
 * Dependency resolution: pure functions over the providers of a capability.
 *
 * Rules (mcp-mesh semantics):
 * - the capability must match exactly, and the namespace too (default `"default"`);
 * - tags: `"tag"` required, `"+tag"` preferred (raises the score), `"-tag"`
 *   excluded, a nested array is an OR group of plain tag names;
 * - versions: a semver range (`=`, `>=`, `^`, `~`, `1.x`, `>=1 <2`, …) checked
 *   with `semver`; empty or `*` means any; a constraint semver cannot parse is
 *   compared as an exact string;
 * - a dependency given as an array of specs is a fallback chain: the first
 *   spec that resolves wins;
 * - only available providers qualify: healthy, reachable over HTTP (an agent
 *   with `http_port` 0 serves stdio only), with every `required` dependency
 *   resolved to an available provider (transitively; the members of a cycle
 *   of required edges are unavailable unless a provider outside the cycle
 *   carries it);
 * - among candidates the choice is deterministic: higher tag score, then
 *   highest version, then agent id and function name ascending.
 *
 * @module
 */

import * as semver from "semver";
import type {
  MeshDependencyEntry,
  MeshToolDependencyRegistration,
  MeshToolKwargs,
  TagSpec,
} from "@mesh/sdk/protocol";

/** One tool of one agent, as a candidate for dependencies. */
export interface Provider {
  /** Provider agent id. */
  agentId: string;
  /** Tool name to call. */
  functionName: string;
  /** Capability provided. */
  capability: string;
  /** Capability version as declared. */
  version: string;
  /** The version parsed (or coerced) by semver; null when it is not a version. */
  semver: semver.SemVer | null;
  /** Capability tags. */
  tags: readonly string[];
  /** Namespace of the provider agent. */
  namespace: string;
  /** Base URL of the provider agent. */
  endpoint: string;
  /** Producer kwargs, when declared. */
  kwargs?: MeshToolKwargs;
  /** Whether the provider agent is healthy. */
  healthy: boolean;
  /** True when the agent has no HTTP endpoint (`http_port` 0: it serves stdio only). */
  stdioOnly?: boolean;
  /** The tool's dependencies that are `required` (they gate its availability). */
  requiredDependencies: readonly MeshDependencyEntry[];
  /** JSON of this provider as a chosen one, minus its `}` (a memo `response_json.ts` fills). */
  chosenJson?: string;
  /** JSON of this provider in a `providers` list (a memo `response_json.ts` fills). */
  listedJson?: string;
}

/** Looks up the providers of a capability. */
export interface ProviderIndex {
  /** Every provider of `capability` (any health), sorted by {@linkcode compareProviders}. */
  providersOf(capability: string): readonly Provider[];
}

/** Whether a provider can serve, and why not. */
export interface Availability {
  /** True when healthy and every required dependency resolves. */
  available: boolean;
  /** Why it is unavailable (absent when available). */
  reason?: string;
}

const AVAILABLE: Availability = Object.freeze({ available: true });
const UNHEALTHY: Availability = Object.freeze({ available: false, reason: "agent unhealthy" });
const NO_ENDPOINT: Availability = Object.freeze({
  available: false,
  reason: "no HTTP endpoint (http_port 0: stdio only)",
});

/** Tells whether a provider is available. */
export type AvailabilityCheck = (provider: Provider) => Availability;

/**
 * Availability of a provider without `required` dependencies: its health and
 * its HTTP endpoint alone (the topology cannot change them). Do not use it on
 * other providers.
 */
export function healthAvailability(provider: Provider): Availability {
  return !provider.healthy ? UNHEALTHY : provider.stdioOnly ? NO_ENDPOINT : AVAILABLE;
}

/** Outcome of resolving one declared dependency. */
export interface EntryResolution {
  /** The spec that resolved, or the first spec of the entry when none did. */
  spec: MeshToolDependencyRegistration;
  /** The chosen provider, when one resolved. */
  provider?: Provider;
}

/** Outcome of resolving one declared dependency, with every qualifying provider. */
export interface RankedResolution extends EntryResolution {
  /** Available providers of the winning spec, best first (empty when unresolved). */
  providers: readonly Provider[];
}

/**
 * Parses a provider version, coercing loose forms such as `"1.2"` or `"v2"`.
 *
 * @example
 * ```ts
 * import { parseVersion } from "./resolver.ts";
 * parseVersion("1.2")?.version; // "1.2.0"
 * parseVersion("latest"); // null
 * ```
 */
export function parseVersion(version: string): semver.SemVer | null {
  return cached(versionCache, version, () => semver.parse(version) ?? semver.coerce(version));
}

/** Most entries of each parse cache; a full cache starts over. */
const PARSE_CACHE_LIMIT = 1000;
const versionCache = new Map<string, semver.SemVer | null>();
const rangeCache = new Map<string, semver.Range | null>();

function cached<T>(cache: Map<string, T>, text: string, parse: () => T): T {
  let value = cache.get(text);
  if (value !== undefined || cache.has(text)) return value as T;
  value = parse();
  if (cache.size >= PARSE_CACHE_LIMIT) cache.clear();
  cache.set(text, value);
  return value;
}

function rangeOf(constraint: string): semver.Range | null {
  return cached(rangeCache, constraint, () => {
    try {
      return new semver.Range(constraint);
    } catch {
      return null;
    }
  });
}

/**
 * Whether a provider version satisfies a constraint. Never throws: a
 * constraint semver cannot parse (or an unparsable provider version) falls
 * back to exact string equality.
 *
 * @example
 * ```ts
 * import { parseVersion, versionSatisfies } from "./resolver.ts";
 * versionSatisfies("1.4.2", parseVersion("1.4.2"), "~1.4"); // true
 * versionSatisfies("2.0.0", parseVersion("2.0.0"), "^1"); // false
 * ```
 */
export function versionSatisfies(
  version: string,
  parsed: semver.SemVer | null,
  constraint: string | undefined,
): boolean {
  const wanted = constraint?.trim() ?? "";
  if (wanted === "" || wanted === "*") return true;
  const range = rangeOf(wanted);
  if (range === null || parsed === null) return version === wanted;
  return range.test(parsed);
}

/**
 * Scores provider tags against tag requirements: -1 when they do not match,
 * otherwise the number of preferred (`+tag`) tags the provider carries.
 *
 * @example
 * ```ts
 * import { tagScore } from "./resolver.ts";
 * tagScore(["fast", "eu"], ["eu", "+fast", "-beta"]); // 1
 * tagScore(["beta"], ["-beta"]); // -1
 * tagScore(["py"], [["py", "ts"]]); // 0
 * ```
 */
export function tagScore(tags: readonly string[], wanted: readonly TagSpec[] | undefined): number {
  if (wanted === undefined || wanted.length === 0) return 0;
  let score = 0;
  for (const spec of wanted) {
    if (Array.isArray(spec)) {
      if (!spec.some((tag) => tags.includes(tag))) return -1;
    } else if (spec.startsWith("+")) {
      if (hasPrefixedTag(tags, spec)) score++;
    } else if (spec.startsWith("-")) {
      if (hasPrefixedTag(tags, spec)) return -1;
    } else if (!tags.includes(spec)) {
      return -1;
    }
  }
  return score;
}

/** Whether `tags` holds `prefixed` minus its one-character prefix (without slicing it). */
function hasPrefixedTag(tags: readonly string[], prefixed: string): boolean {
  for (const tag of tags) {
    if (tag.length === prefixed.length - 1 && prefixed.endsWith(tag)) return true;
  }
  return false;
}

/**
 * Preference order of providers with equal tag score: highest version first
 * (unparsable versions last), then agent id and function name ascending.
 * {@linkcode ProviderIndex} lists are sorted by it.
 *
 * @example
 * ```ts
 * import { compareProviders, parseVersion, type Provider } from "./resolver.ts";
 * const at = (agentId: string, version: string): Provider => ({
 *   agentId, functionName: "f", capability: "c", version, semver: parseVersion(version),
 *   tags: [], namespace: "default", endpoint: "", healthy: true, requiredDependencies: [],
 * });
 * compareProviders(at("b", "2.0.0"), at("a", "1.0.0")); // < 0: the higher version first
 * ```
 */
export function compareProviders(a: Provider, b: Provider): number {
  if (a.semver !== null && b.semver !== null) {
    const order = b.semver.compare(a.semver);
    if (order !== 0) return order;
  } else if (a.semver !== b.semver) {
    return a.semver === null ? 1 : -1;
  }
  if (a.agentId !== b.agentId) return a.agentId < b.agentId ? -1 : 1;
  if (a.functionName !== b.functionName) return a.functionName < b.functionName ? -1 : 1;
  return 0;
}

function preferredCount(wanted: readonly TagSpec[] | undefined): number {
  let count = 0;
  for (const spec of wanted ?? []) if (typeof spec === "string" && spec.startsWith("+")) count++;
  return count;
}

/**
 * Tag score of `candidate` for `spec` when it qualifies (namespace, tags,
 * version, availability), else -1. Candidates scoring at most `atLeast` are
 * rejected before the costlier version and availability checks.
 *
 * @example
 * ```ts
 * import { healthAvailability, parseVersion, qualifyingScore } from "./resolver.ts";
 * const time = {
 *   agentId: "a", functionName: "f", capability: "time", version: "1.0.0",
 *   semver: parseVersion("1.0.0"), tags: ["fast"], namespace: "default", endpoint: "",
 *   healthy: true, requiredDependencies: [],
 * };
 * qualifyingScore(time, { capability: "time", tags: ["+fast"] }, healthAvailability); // 1
 * qualifyingScore(time, { capability: "time", version: "^2" }, healthAvailability); // -1
 * ```
 */
export function qualifyingScore(
  candidate: Provider,
  spec: MeshToolDependencyRegistration,
  isAvailable: AvailabilityCheck,
  atLeast = -1,
): number {
  if (candidate.namespace !== (spec.namespace || "default")) return -1;
  const score = tagScore(candidate.tags, spec.tags);
  if (score <= atLeast) return -1;
  if (!satisfiesMemoized(candidate, spec.version)) return -1;
  return isAvailable(candidate).available ? score : -1;
}

/**
 * Results of {@linkcode versionSatisfies} by constraint, then by provider
 * version (a provider's parsed version follows from its version text).
 * Bounded like the parse caches: a full level starts over.
 */
const satisfiesCache = new Map<string, Map<string, boolean>>();

/** {@linkcode versionSatisfies} for a provider, remembered per constraint and version. */
function satisfiesMemoized(provider: Provider, constraint: string | undefined): boolean {
  if (constraint === undefined || constraint === "") return true;
  let byVersion = satisfiesCache.get(constraint);
  if (byVersion === undefined) {
    if (satisfiesCache.size >= PARSE_CACHE_LIMIT) satisfiesCache.clear();
    byVersion = new Map();
    satisfiesCache.set(constraint, byVersion);
  }
  let matches = byVersion.get(provider.version);
  if (matches === undefined) {
    matches = versionSatisfies(provider.version, provider.semver, constraint);
    if (byVersion.size >= PARSE_CACHE_LIMIT) byVersion.clear();
    byVersion.set(provider.version, matches);
  }
  return matches;
}

/**
 * The best available provider for one spec, or undefined.
 *
 * @example
 * ```ts
 * import { pickProvider, type ProviderIndex } from "./resolver.ts";
 * const index: ProviderIndex = { providersOf: () => [] };
 * pickProvider({ capability: "time" }, index, () => ({ available: true })); // undefined
 * ```
 */
export function pickProvider(
  spec: MeshToolDependencyRegistration,
  index: ProviderIndex,
  isAvailable: AvailabilityCheck,
): Provider | undefined {
  const bestPossible = preferredCount(spec.tags);
  let best: Provider | undefined;
  let bestScore = -1;
  // Candidates come in preference order: on equal scores the first one wins.
  for (const candidate of index.providersOf(spec.capability)) {
    const score = qualifyingScore(candidate, spec, isAvailable, bestScore);
    if (score < 0) continue;
    best = candidate;
    bestScore = score;
    if (score === bestPossible) break;
  }
  return best;
}

/** Available providers of one spec, best first, with their tag scores. */
export interface RankedProviders {
  /** The providers, best first. */
  readonly providers: Provider[];
  /** Tag score of each provider (same positions), non-increasing. */
  readonly scores: number[];
}

/**
 * Every available provider for one spec, best first, with its tag score:
 * the one {@linkcode pickProvider} chooses, then the others by tag score and
 * {@linkcode compareProviders} order.
 *
 * @example
 * ```ts
 * import { rankScored, type ProviderIndex } from "./resolver.ts";
 * const index: ProviderIndex = { providersOf: () => [] };
 * rankScored({ capability: "time" }, index, () => ({ available: true })).providers; // []
 * ```
 */
export function rankScored(
  spec: MeshToolDependencyRegistration,
  index: ProviderIndex,
  isAvailable: AvailabilityCheck,
): RankedProviders {
  const providers: Provider[] = [];
  const scores: number[] = [];
  let mixedScores = false;
  for (const candidate of index.providersOf(spec.capability)) {
    const score = qualifyingScore(candidate, spec, isAvailable);
    if (score < 0) continue;
    if (scores.length > 0 && scores[0] !== score) mixedScores = true;
    providers.push(candidate);
    scores.push(score);
  }
  if (!mixedScores) return { providers, scores };
  // A stable sort keeps the preference order among equal scores.
  const order = providers.map((_, position) => position)
    .sort((a, b) => scores[b] - scores[a]);
  return {
    providers: order.map((position) => providers[position]),
    scores: order.map((position) => scores[position]),
  };
}

/**
 * Where `provider` with tag score `score` belongs in `ranked` (after every
 * provider that ranks before it or equal to it), found by binary search.
 *
 * @example
 * ```ts
 * import { rankPosition, parseVersion } from "./resolver.ts";
 * const time = {
 *   agentId: "a", functionName: "f", capability: "time", version: "1.0.0",
 *   semver: parseVersion("1.0.0"), tags: [], namespace: "default", endpoint: "",
 *   healthy: true, requiredDependencies: [],
 * };
 * rankPosition({ providers: [], scores: [] }, time, 0); // 0
 * ```
 */
export function rankPosition(ranked: RankedProviders, provider: Provider, score: number): number {
  const { providers, scores } = ranked;
  let low = 0;
  let high = providers.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const before = scores[middle] > score ||
      (scores[middle] === score && compareProviders(providers[middle], provider) <= 0);
    if (before) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The specs of a declared dependency: one spec, or a fallback chain. */
export function specsOf(entry: MeshDependencyEntry): readonly MeshToolDependencyRegistration[] {
  return Array.isArray(entry) ? entry : [entry];
}

/**
 * Resolves one declared dependency (a spec or a fallback chain).
 *
 * @example
 * ```ts
 * import { resolveEntry, type ProviderIndex } from "./resolver.ts";
 * const index: ProviderIndex = { providersOf: () => [] };
 * resolveEntry([{ capability: "a" }, { capability: "b" }], index, () => ({ available: true }))
 *   .spec.capability; // "a"
 * ```
 */
export function resolveEntry(
  entry: MeshDependencyEntry,
  index: ProviderIndex,
  isAvailable: AvailabilityCheck,
): EntryResolution {
  return firstResolving(entry, (spec) => {
    const provider = pickProvider(spec, index, isAvailable);
    return provider === undefined ? undefined : { spec, provider };
  });
}

/**
 * Resolves one declared dependency with every provider of the spec that
 * wins, best first (see {@linkcode rankScored}).
 *
 * @example
 * ```ts
 * import { rankEntry, type ProviderIndex } from "./resolver.ts";
 * const index: ProviderIndex = { providersOf: () => [] };
 * rankEntry({ capability: "a" }, index, () => ({ available: true })).providers; // []
 * ```
 */
export function rankEntry(
  entry: MeshDependencyEntry,
  index: ProviderIndex,
  isAvailable: AvailabilityCheck,
): RankedResolution {
  const resolution = firstResolving<RankedResolution>(entry, (spec) => {
    const { providers } = rankScored(spec, index, isAvailable);
    return providers.length === 0 ? undefined : { spec, provider: providers[0], providers };
  });
  return { providers: [], ...resolution };
}

/** The first spec of `entry` that `attempt` resolves, else the first spec unresolved. */
function firstResolving<T extends EntryResolution>(
  entry: MeshDependencyEntry,
  attempt: (spec: MeshToolDependencyRegistration) => T | undefined,
): T | EntryResolution {
  const specs = specsOf(entry);
  for (const spec of specs) {
    const resolved = attempt(spec);
    if (resolved !== undefined) return resolved;
  }
  return { spec: specs[0] };
}

/** Whether a declared dependency is `required` (a chain is when any of its specs is). */
export function isRequired(entry: MeshDependencyEntry): boolean {
  return specsOf(entry).some((spec) => spec.required === true);
}

/**
 * Creates a memoized availability check over `index`. Build a new one
 * whenever the topology changes.
 *
 * Availability is the least fixed point of the rule "healthy, and every
 * required dependency resolves to an available provider": a cycle of
 * required edges makes its members unavailable unless a provider outside the
 * cycle carries it, and the answers do not depend on the order of the
 * questions. A question about an undecided provider runs a depth-first search
 * over required dependencies (Tarjan's strongly connected components, with an
 * explicit stack: no recursion however long the chains): each cycle is
 * settled as a whole, by iteration from "all unavailable".
 *
 * @example
 * ```ts
 * import { createAvailabilityCheck, type ProviderIndex } from "./resolver.ts";
 * const index: ProviderIndex = { providersOf: () => [] };
 * const isAvailable = createAvailabilityCheck(index);
 * ```
 */
export function createAvailabilityCheck(index: ProviderIndex): AvailabilityCheck {
  const decided = new Map<Provider, Availability>();
  return (provider) => {
    const fixed = fixedAvailability(provider);
    if (fixed !== undefined) return fixed;
    let known = decided.get(provider);
    if (known === undefined) {
      decideFrom(provider, index, decided);
      known = decided.get(provider)!;
    }
    return known;
  };
}

/**
 * A provider's availability when no other provider can change it (unhealthy,
 * without an HTTP endpoint, or without required dependencies); undefined for
 * a healthy provider whose required dependencies decide it.
 */
function fixedAvailability(provider: Provider): Availability | undefined {
  const own = healthAvailability(provider);
  return own !== AVAILABLE || provider.requiredDependencies.length === 0 ? own : undefined;
}

/** Depth-first search state of a provider being decided. */
interface Visit {
  readonly provider: Provider;
  /** When it was met. */
  readonly order: number;
  /** The earliest provider still being decided that its dependencies lead to. */
  low: number;
  /** Position in its required dependencies, their specs and candidates. */
  entry: number;
  spec: number;
  candidate: number;
  /** The first required dependency found unresolved, if any. */
  unresolved?: MeshDependencyEntry;
  /** Its availability so far (unavailable until shown otherwise). */
  shown: Availability;
}

const UNDECIDED: Availability = Object.freeze({
  available: false,
  reason: "cycle of required dependencies",
});

/** Any candidate counts as available: qualifyingScore then checks only names, tags and versions. */
const ANY_AVAILABLE: AvailabilityCheck = () => AVAILABLE;

/**
 * Decides `start` and every undecided provider its required dependencies
 * lead to. Each visit walks its dependencies' candidates in order and, for
 * every dependency, stops at the first available one; it walks all of its
 * dependencies even after one failed, so that settling a cycle never meets a
 * candidate the search has not decided.
 */
function decideFrom(
  start: Provider,
  index: ProviderIndex,
  decided: Map<Provider, Availability>,
): void {
  const path: Visit[] = [];
  const open: Visit[] = [];
  const visits = new Map<Provider, Visit>();
  let count = 0;
  const enter = (provider: Provider) => {
    const visit: Visit = {
      provider,
      order: count,
      low: count,
      entry: 0,
      spec: 0,
      candidate: 0,
      shown: UNDECIDED,
    };
    count++;
    visits.set(provider, visit);
    path.push(visit);
    open.push(visit);
  };
  enter(start);
  while (path.length > 0) {
    const visit = path.at(-1)!;
    const entries = visit.provider.requiredDependencies;
    if (visit.entry === entries.length) {
      leave(visit);
      continue;
    }
    const specs = specsOf(entries[visit.entry]);
    if (visit.spec === specs.length) {
      visit.unresolved ??= entries[visit.entry];
      nextEntry(visit);
      continue;
    }
    const spec = specs[visit.spec];
    const candidates = index.providersOf(spec.capability);
    if (visit.candidate === candidates.length) {
      visit.spec++;
      visit.candidate = 0;
      continue;
    }
    const candidate = candidates[visit.candidate];
    if (qualifyingScore(candidate, spec, ANY_AVAILABLE) < 0) {
      visit.candidate++;
      continue;
    }
    let availability = fixedAvailability(candidate);
    if (availability === undefined) {
      const known = decided.get(candidate);
      const met = visits.get(candidate);
      if (known !== undefined) availability = known;
      else if (met === undefined) {
        enter(candidate);
        continue;
      } else {
        visit.low = Math.min(visit.low, met.order);
        availability = met.shown;
      }
    }
    if (availability.available) nextEntry(visit);
    else visit.candidate++;
  }

  function nextEntry(visit: Visit): void {
    visit.entry++;
    visit.spec = 0;
    visit.candidate = 0;
  }

  function leave(visit: Visit): void {
    visit.shown = visit.unresolved === undefined ? AVAILABLE : unresolvedBy(visit.unresolved);
    path.pop();
    const parent = path.at(-1);
    if (parent !== undefined) parent.low = Math.min(parent.low, visit.low);
    if (visit.low !== visit.order) return;
    // The root of a cycle (or a provider on none): settle it with its members.
    const shown = new Map<Provider, Availability>();
    for (const member of open.splice(open.indexOf(visit))) {
      shown.set(member.provider, member.shown);
      visits.delete(member.provider);
    }
    settleCycle(shown, index, decided);
  }
}

function unresolvedBy(entry: MeshDependencyEntry): Availability {
  return { available: false, reason: `required dep '${specsOf(entry)[0].capability}' unresolved` };
}

/**
 * Settles the members of a cycle of required dependencies (or a lone
 * provider), given their availability as the search showed it: those shown
 * available are (more available providers only help); the others become
 * available, by iteration, once their dependencies resolve through members
 * known to be. Every other provider they lead to is decided already.
 */
function settleCycle(
  shown: Map<Provider, Availability>,
  index: ProviderIndex,
  decided: Map<Provider, Availability>,
): void {
  const within: AvailabilityCheck = (provider) =>
    fixedAvailability(provider) ?? shown.get(provider) ?? decided.get(provider) ?? UNDECIDED;
  let grew = shown.size > 1;
  while (grew) {
    grew = false;
    for (const [member, availability] of shown) {
      if (availability === AVAILABLE) continue;
      const unresolved = member.requiredDependencies.find((entry) =>
        resolveEntry(entry, index, within).provider === undefined
      );
      if (unresolved !== undefined) {
        shown.set(member, unresolvedBy(unresolved));
        continue;
      }
      shown.set(member, AVAILABLE);
      grew = true;
    }
  }
  for (const [member, availability] of shown) decided.set(member, availability);
}
