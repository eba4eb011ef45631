/**
 * How meshctl runs an agent file: its display name and the `deno run`
 * command line with only the permissions an agent needs.
 *
 * @module
 */

import { basename, dirname, extname, resolve } from "node:path";

/** Extra permissions an operator grants to the agents of one `start`. */
export interface AgentGrants {
  /** Directories agents may write to (`--allow-write=<dirs>`); none by default. */
  writeDirs?: string[];
  /** Allow reading system information (`--allow-sys`): hostname, OS release, memory. */
  sys?: boolean;
}

const ENTRY_FILE_NAMES = new Set(["main", "mod", "index", "agent"]);

/**
 * The display name of an agent file: its directory name for entry files
 * (`examples/hello/main.ts` → `hello`), else the file name without extension
 * (`agents/weather.ts` → `weather`).
 */
export function agentName(file: string): string {
  const stem = basename(file, extname(file));
  const parent = basename(dirname(resolve(file)));
  return ENTRY_FILE_NAMES.has(stem) && parent ? parent : stem;
}

/** Names made unique by appending `-2`, `-3`, … to repeats, in order. */
export function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    return count === 1 ? name : `${name}-${count}`;
  });
}

/**
 * The `deno run` arguments for an agent file: network, environment, read
 * access to the agent's own directory, writes only to granted directories,
 * no prompts (a denied access fails at once), and never `-A`.
 *
 * @example
 * ```ts
 * import { agentRunArgs } from "./permissions.ts";
 * agentRunArgs("/srv/agents/hello/main.ts");
 * // ["run", "--no-prompt", "--allow-net", "--allow-env",
 * //  "--allow-read=/srv/agents/hello", "/srv/agents/hello/main.ts"]
 * ```
 */
export function agentRunArgs(file: string, grants: AgentGrants = {}): string[] {
  const path = resolve(file);
  const args = [
    "run",
    "--no-prompt",
    "--allow-net",
    "--allow-env",
    `--allow-read=${dirname(path)}`,
  ];
  if (grants.writeDirs?.length) {
    args.push(`--allow-write=${grants.writeDirs.map((dir) => resolve(dir)).join(",")}`);
  }
  if (grants.sys) args.push("--allow-sys");
  args.push(path);
  return args;
}
