/**
 * Debounced directory watching for `meshctl start --watch`.
 *
 * @module
 */

/** A running watcher; `close()` stops it. */
export interface DirectoryWatcher {
  /** Stops watching and cancels a pending notification. */
  close(): void;
}

/**
 * Watches `dir` recursively and calls `onChange` with the changed paths once
 * no further change arrived for `debounceMs` (file reads are ignored).
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
      for (const path of event.paths) pending.add(path);
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
