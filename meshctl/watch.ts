/**
 * Debounced directory watching for `meshctl start --watch`.
 *
 * @module
 */

import { relative, sep } from "node:path";

/** A running watcher; `close()` stops it. */
export interface DirectoryWatcher {
  /** Stops watching and cancels a pending notification. */
  close(): void;
}

/** Editor backup and swap files, temporary files and lock files. */
const IGNORED_FILE = /(\.tmp|~|\.swp|\.swx|\.lock)$|^\.#|^4913$/;

/**
 * Whether a change of `path` (inside `dir`) should not restart anything:
 * lock files (`deno.lock`, written by Deno itself when an agent starts),
 * temporary and editor files (`*.tmp`, `*~`, `.*.swp`, `.#*`, vim's `4913`)
 * and hidden files and directories with all they hold (`.git/`, `.vscode/`).
 */
export function isIgnoredChange(dir: string, path: string): boolean {
  const parts = relative(dir, path).split(sep);
  const name = parts.at(-1) ?? "";
  return IGNORED_FILE.test(name) || parts.some((part) => part.startsWith(".") && part !== "..");
}

/**
 * Watches `dir` recursively and calls `onChange` with the changed paths once
 * no further change arrived for `debounceMs` (file reads and
 * {@linkcode isIgnoredChange} paths are ignored).
 */
export function watchDirectory(
  dir: string,
  debounceMs: number,
  onChange: (paths: string[]) => void,
): DirectoryWatcher {
  const watcher = Deno.watchFs(dir, { recursive: true });
  const pending = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  (async () => {
    for await (const event of watcher) {
      if (event.kind === "access" || event.kind === "any") continue;
      const relevant = event.paths.filter((path) => !isIgnoredChange(dir, path));
      if (relevant.length === 0) continue;
      for (const path of relevant) pending.add(path);
      clearTimeout(timer);
      timer = setTimeout(() => {
        const paths = [...pending];
        pending.clear();
        onChange(paths);
      }, debounceMs);
    }
  })();
  return {
    close() {
      clearTimeout(timer);
      try {
        watcher.close();
      } catch {
        // already closed
      }
    },
  };
}
