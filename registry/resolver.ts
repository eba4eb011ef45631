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
 * - only available providers qualify: healthy, with every `required`
 *   dependency resolved to an available provider (transitively; a cycle of
 *   required edges makes its members unavailable);
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
  /** The tool's dependencies that are `required` (they gate its availability). */
  requiredDependencies: readonly MeshDependencyEntry[];
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

/** Tells whether a provider is available. */
export type AvailabilityCheck = (provider: Provider) => Availability;

/** Outcome of resolving one declared dependency. */
export interface EntryResolution {
  /** The spec that resolved, or the first spec of the entry when none did. */
  spec: MeshToolDependencyRegistration;
  /** The chosen provider, when one resolved. */
  provider?: Provider;
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
  return semver.parse(version) ?? semver.coerce(version);
}

const rangeCache = new Map<string, semver.Range | null>();
const RANGE_CACHE_LIMIT = 1000;

function rangeOf(constraint: string): semver.Range | null {
  let range = rangeCache.get(constraint);
  if (range !== undefined) return range;
  try {
    range = new semver.Range(constraint);
  } catch {
    range = null;
  }
  if (rangeCache.size >= RANGE_CACHE_LIMIT) rangeCache.clear();
  rangeCache.set(constraint, range);
  return range;
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
      if (tags.includes(spec.slice(1))) score++;
    } else if (spec.startsWith("-")) {
      if (tags.includes(spec.slice(1))) return -1;
    } else if (!tags.includes(spec)) {
      return -1;
    }
  }
  return score;
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
  const namespace = spec.namespace || "default";
  const bestPossible = preferredCount(spec.tags);
  let best: Provider | undefined;
  let bestScore = -1;
  // Candidates come in preference order: on equal scores the first one wins.
  for (const candidate of index.providersOf(spec.capability)) {
    if (candidate.namespace !== namespace) continue;
    const score = tagScore(candidate.tags, spec.tags);
    if (score <= bestScore) continue;
    if (!versionSatisfies(candidate.version, candidate.semver, spec.version)) continue;
    if (!isAvailable(candidate).available) continue;
    best = candidate;
    bestScore = score;
    if (score === bestPossible) break;
  }
  return best;
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
  const specs = specsOf(entry);
  for (const spec of specs) {
    const provider = pickProvider(spec, index, isAvailable);
    if (provider !== undefined) return { spec, provider };
  }
  return { spec: specs[0] };
}

/** Whether a declared dependency is `required` (a chain is when any of its specs is). */
export function isRequired(entry: MeshDependencyEntry): boolean {
  return specsOf(entry).some((spec) => spec.required === true);
}

/**
 * Creates a memoized availability check over `index`. Build a new one
 * whenever the topology changes. Cycles of required dependencies terminate:
 * a provider met again while its own availability is being decided counts as
 * unavailable.
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
  const deciding = new Set<Provider>();
  const check: AvailabilityCheck = (provider) => {
    const known = decided.get(provider);
    if (known !== undefined) return known;
    if (!provider.healthy) {
      return remember(provider, { available: false, reason: "agent unhealthy" });
    }
    if (provider.requiredDependencies.length === 0) return { available: true };
    if (deciding.has(provider)) {
      return { available: false, reason: "cycle of required dependencies" };
    }
    deciding.add(provider);
    let result: Availability = { available: true };
    for (const entry of provider.requiredDependencies) {
      if (resolveEntry(entry, index, check).provider === undefined) {
        result = {
          available: false,
          reason: `required dep '${specsOf(entry)[0].capability}' unresolved`,
        };
        break;
      }
    }
    deciding.delete(provider);
    return remember(provider, result);
  };
  const remember = (provider: Provider, result: Availability): Availability => {
    decided.set(provider, result);
    return result;
  };
  return check;
}
