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

/**
 * The candidates closest to `target`, best first, without duplicates.
 *
 * Comparison ignores case. Candidates further than `maxDistance` (default:
 * half the target's length, at least 2) are dropped, except that a candidate
 * containing the target (or contained in it) always qualifies.
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
    const related = needle.length > 0 && (hay.includes(needle) || needle.includes(hay));
    if (distance <= maxDistance || related) scored.push({ name, score: distance });
  }
  scored.sort((x, y) => x.score - y.score || x.name.localeCompare(y.name));
  return scored.slice(0, limit).map((entry) => entry.name);
}
