/**
 * Reports the dependencies the registry leaves unresolved: a warning naming
 * each unresolved dependency and its tool (again only when that set changes),
 * and an info line for each one that becomes resolved.
 *
 * @module
 */

import type { Logger } from "./log.ts";
import type { DependencyResolution, ResolvedDependency } from "./protocol.ts";

/** Tracks which dependencies are unresolved across registry answers. */
export class DependencyLog {
  #logger: Logger;
  /** `{tool}#{index}` → description of the unresolved dependency. */
  #unresolved = new Map<string, string>();

  /** Logs through `logger`. */
  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Adopts a registry answer's `dependencies_resolved` and logs what changed. */
  update(resolved: Record<string, DependencyResolution[]>): void {
    const unresolved = new Map<string, string>();
    for (const [tool, entries] of Object.entries(resolved)) {
      entries.forEach((entry, index) => {
        const key = `${tool}#${index}`;
        if (entry.status !== "available") {
          unresolved.set(key, `"${entry.capability}" of tool ${tool}`);
        } else if (this.#unresolved.has(key)) {
          const provider = entry as ResolvedDependency;
          this.#logger.log(
            "info",
            `dependency ${this.#unresolved.get(key)} resolved: ${provider.function_name} of ` +
              `${provider.agent_id} at ${provider.endpoint}`,
          );
        }
      });
    }
    const changed = unresolved.size !== this.#unresolved.size ||
      [...unresolved.keys()].some((key) => !this.#unresolved.has(key));
    this.#unresolved = unresolved;
    if (changed && unresolved.size > 0) {
      this.#logger.log(
        "warn",
        `unresolved dependencies (no healthy agent provides them): ${
          [...unresolved.values()].join(", ")
        }`,
      );
    }
  }
}
