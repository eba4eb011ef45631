/**
 * Where meshctl keeps its state: `MCP_MESH_HOME` (default `~/.mcp-mesh`)
 * with the embedded registry's database, `logs/` and `run/` (pid files and
 * the state of a detached mesh).
 *
 * @module
 */

import { join } from "node:path";
import { CliError } from "./errors.ts";

/** Paths under the meshctl home directory. */
export interface MeshPaths {
  /** The home directory itself. */
  home: string;
  /** Log files of a detached mesh: `<agent>.log` and `meshctl.log`. */
  logs: string;
  /** Pid files and `state.json` of a detached mesh. */
  run: string;
  /** Default SQLite database of the embedded registry. */
  database: string;
  /** Pid file of the background meshctl supervisor. */
  supervisorPid: string;
  /** State of the detached mesh, see {@linkcode DetachedState}. */
  state: string;
}

/** The home directory: `MCP_MESH_HOME`, else `~/.mcp-mesh`. */
export function meshHome(): string {
  const configured = Deno.env.get("MCP_MESH_HOME");
  if (configured) return configured;
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  if (!home) throw new CliError("cannot find a home directory: set MCP_MESH_HOME");
  return join(home, ".mcp-mesh");
}

/** The {@linkcode MeshPaths} of `home` (default {@linkcode meshHome}). */
export function meshPaths(home: string = meshHome()): MeshPaths {
  const run = join(home, "run");
  return {
    home,
    logs: join(home, "logs"),
    run,
    database: join(home, "registry.db"),
    supervisorPid: join(run, "meshctl.pid"),
    state: join(run, "state.json"),
  };
}

/** Pid file of one detached agent. */
export function agentPidFile(paths: MeshPaths, name: string): string {
  return join(paths.run, `${name}.pid`);
}

/** Log file of one detached agent (or `meshctl` for the supervisor itself). */
export function logFile(paths: MeshPaths, name: string): string {
  return join(paths.logs, `${name}.log`);
}

/** Progress of one agent of a detached mesh, as the supervisor reports it. */
export interface AgentState {
  /** Agent name (prefix, log and pid file name). */
  name: string;
  /** The agent file. */
  file: string;
  /** `starting` until registered; `exited` once its process ended. */
  status: "starting" | "registered" | "exited";
  /** Registry agent id once registered. */
  agentId?: string;
  /** Exit code once exited. */
  exitCode?: number;
  /** HTTP status (401, 403) with which the registry refused it, per its own output. */
  registryRefusal?: number;
}

/** What a detached supervisor writes to `run/state.json`. */
export interface DetachedState {
  /** Pid of the supervisor. */
  pid: number;
  /** Registry the mesh uses. */
  registryUrl: string;
  /** Whether the supervisor runs that registry itself. */
  ownsRegistry: boolean;
  /** True once every agent registered or exited. */
  settled: boolean;
  /** Per-agent progress. */
  agents: AgentState[];
  /** Fatal start-up error, when the supervisor gave up. */
  error?: string;
}

/** Reads `state.json`; `undefined` when absent or being rewritten. */
export async function readState(paths: MeshPaths): Promise<DetachedState | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(paths.state)) as DetachedState;
  } catch {
    return undefined;
  }
}

/** Writes `state.json` atomically (write then rename). */
export async function writeState(paths: MeshPaths, state: DetachedState): Promise<void> {
  const temporary = `${paths.state}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(temporary, JSON.stringify(state, null, 2));
  await Deno.rename(temporary, paths.state);
}

/** Reads a pid file; `undefined` when absent or not a number. */
export async function readPidFile(path: string): Promise<number | undefined> {
  try {
    const pid = Number((await Deno.readTextFile(path)).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Removes a file; one that is already gone is fine. */
export async function removeFile(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
