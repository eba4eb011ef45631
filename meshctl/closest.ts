/**
 * "Did you mean …?" suggestions by edit distance.
 *
 * @module
 */

/**
 * Levenshtein distance between two strings (insertions, deletions and
 * substitutions each cost 1), case-sensitive.
 *
 * @example
 * ```ts
 * import { editDistance } from "./closest.ts";
 * editDistance("kitten", "sitting"); // 3
 * ```
 */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}

/** How long a name contained in another must be to count as related ("c" in "nosuch_tool" is not). */
export const MIN_CONTAINED_LENGTH = 3;

/**
 * The candidates closest to `target`, best first, without duplicates.
 *
 * Comparison ignores case. Candidates further than `maxDistance` (default:
 * half the target's length, at least 2) are dropped, except that a candidate
 * containing the target (or contained in it) qualifies when the shorter of the
 * two has at least {@linkcode MIN_CONTAINED_LENGTH} characters.
 *
 * @example
 * ```ts
 * import { closestNames } from "./closest.ts";
 * closestNames("say_helo", ["say_hello", "get_current_time"]); // ["say_hello"]
 * ```
 */
export function closestNames(
  target: string,
  candidates: Iterable<string>,
  options: { limit?: number; maxDistance?: number } = {},
): string[] {
  const limit = options.limit ?? 3;
  const needle = target.toLowerCase();
  const maxDistance = options.maxDistance ?? Math.max(2, Math.floor(needle.length / 2));
  const scored: { name: string; score: number }[] = [];
  for (const name of new Set(candidates)) {
    const hay = name.toLowerCase();
    const distance = editDistance(needle, hay);
    const shorter = Math.min(needle.length, hay.length);
    const related = shorter >= MIN_CONTAINED_LENGTH &&
      (hay.includes(needle) || needle.includes(hay));
    if (distance <= maxDistance || related) scored.push({ name, score: distance });
  }
  scored.sort((x, y) => x.score - y.score || x.name.localeCompare(y.name));
  return scored.slice(0, limit).map((entry) => entry.name);
}

/** How many names {@linkcode availableNames} lists at most. */
const LISTED_NAMES = 10;

/**
 * The tail of an "unknown name" message: `"; did you mean a, b?"` when some
 * of `candidates` are close to `target`, else {@linkcode availableNames} of
 * `listed` (default: the candidates).
 *
 * @example
 * ```ts
 * import { unknownNameHint } from "./closest.ts";
 * unknownNameHint("say_helo", ["say_hello"], "tools"); // "; did you mean say_hello?"
 * unknownNameHint("nosuch", ["say_hello"], "tools"); // "; available tools: say_hello"
 * ```
 */
export function unknownNameHint(
  target: string,
  candidates: Iterable<string>,
  noun: string,
  listed?: Iterable<string>,
): string {
  const suggestions = closestNames(target, candidates);
  if (suggestions.length) return `; did you mean ${suggestions.join(", ")}?`;
  return availableNames(listed ?? candidates, noun);
}

/**
 * `"; available <noun>: a, b"` (sorted, at most ten, then a count of the
 * rest), or `"; no <noun> available"`.
 */
export function availableNames(names: Iterable<string>, noun: string): string {
  const sorted = [...new Set(names)].sort();
  if (sorted.length === 0) return `; no ${noun} available`;
  const more = sorted.length > LISTED_NAMES ? `, … (${sorted.length - LISTED_NAMES} more)` : "";
  return `; available ${noun}: ${sorted.slice(0, LISTED_NAMES).join(", ")}${more}`;
}
