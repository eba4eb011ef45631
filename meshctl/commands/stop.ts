/**
 * `meshctl stop [names…]`: stop a detached mesh, or some of its agents.
 *
 * @module
 */

import type { Command } from "commander";
import { basename } from "node:path";
import { parseSeconds } from "../arg_parsers.ts";
import { CliError } from "../errors.ts";
import {
  agentPidFile,
  type DetachedState,
  type MeshPaths,
  meshPaths,
  readPidFile,
  readState,
  removeFile,
} from "../home.ts";
import { isAlive, runsWith, terminatePid } from "../pids.ts";
import { RegistryClient } from "../registry_client.ts";
import { unknownNameHint } from "../closest.ts";

interface StopOptions {
  keepRegistry?: boolean;
  grace: number;
}

/** Adds `stop` to the program. */
export function registerStop(program: Command): void {
  program
    .command("stop")
    .argument("[names...]", "agents to stop (default: all, and the registry meshctl started)")
    .summary("stop a detached mesh (`meshctl start -d`) or some of its agents")
    .description(
      "Stop agents started with `meshctl start --detach`: each gets SIGTERM (it\n" +
        "unregisters and exits) and SIGKILL if it is still running after --grace.\n" +
        "Without names, stops every agent and then the registry meshctl started,\n" +
        "unless --keep-registry is given. If the background meshctl itself is gone\n" +
        "(killed), stops the agents it left running and unregisters them.",
    )
    .option("--keep-registry", "stop the agents but leave the registry running")
    .option("--grace <seconds>", "how long to wait before SIGKILL", parseSeconds, 15)
    .addHelpText(
      "after",
      `
Examples:
  $ meshctl stop                  everything started by \`meshctl start -d\`
  $ meshctl stop hello            just the hello agent
  $ meshctl stop --keep-registry  all agents, the registry stays up`,
    )
    .action(async (names: string[], options: StopOptions) => {
      const mesh = await readRunFiles(meshPaths());
      const graceMs = options.grace * 1000;
      const supervisor = await readPidFile(mesh.paths.supervisorPid);
      if (supervisor === undefined || !(await runsWith(supervisor, "--supervise"))) {
        await stopOrphans(mesh, names, graceMs);
        return;
      }
      if (names.length || options.keepRegistry) {
        await stopAgents(mesh, names.length ? names : mesh.names, graceMs);
        return;
      }
      console.log(`Stopping the mesh (pid ${supervisor})…`);
      const agentPids = await Promise.all(mesh.names.map((name) => liveAgentPid(mesh, name)));
      // The supervisor stops its agents itself: give it their grace period and some.
      const outcome = await terminatePid(supervisor, graceMs + 5_000);
      for (const pid of agentPids) {
        if (pid !== undefined && isAlive(pid)) await terminatePid(pid, 1_000);
      }
      console.log(
        outcome === "killed"
          ? `Mesh killed after ${options.grace + 5}s (it did not stop in time).`
          : "Mesh stopped: agents unregistered, registry closed.",
      );
    });
}

/** What a detached mesh left in `run/`: its state (if written) and its agents' names. */
interface RunFiles {
  paths: MeshPaths;
  state: DetachedState | undefined;
  /** The agents of the state, else those with a pid file. */
  names: string[];
}

async function readRunFiles(paths: MeshPaths): Promise<RunFiles> {
  const state = await readState(paths);
  if (state) return { paths, state, names: state.agents.map((agent) => agent.name) };
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(paths.run)) {
      if (entry.name.endsWith(".pid") && entry.name !== basename(paths.supervisorPid)) {
        names.push(entry.name.slice(0, -".pid".length));
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error; // no run directory yet
  }
  return { paths, state, names };
}

/**
 * `stop` when no supervisor runs (it was killed, or crashed): stops the
 * agents it left behind directly, unregisters them (best effort) and removes
 * the run files; with nothing left behind, says that no mesh is running.
 */
async function stopOrphans(mesh: RunFiles, names: string[], graceMs: number): Promise<void> {
  const { paths, state } = mesh;
  const live: { name: string; pid: number }[] = [];
  for (const name of names.length ? names : mesh.names) {
    const pid = mesh.names.includes(name) ? await liveAgentPid(mesh, name) : undefined;
    if (pid !== undefined) live.push({ name, pid });
  }
  if (live.length === 0) {
    if (names.length) throw new CliError(`no detached mesh is running (nothing in ${paths.run})`);
    await removeRunFiles(mesh);
    console.log(`No detached mesh is running (nothing in ${paths.run}).`);
    return;
  }
  console.log(
    `The mesh supervisor${state ? ` (pid ${state.pid})` : ""} is gone; ` +
      `stopping the agents it left running: ${live.map((agent) => agent.name).join(", ")}`,
  );
  const registry = state && new RegistryClient(state.registryUrl, { timeoutMs: 3_000 });
  for (const { name, pid } of live) {
    await stopAgent(name, pid, graceMs);
    await removeFile(agentPidFile(paths, name));
    const agentId = state?.agents.find((agent) => agent.name === name)?.agentId;
    if (registry && agentId) await unregisterGone(registry, name, agentId);
  }
  if (!names.length) await removeRunFiles(mesh);
}

/** Removes a stopped agent's registry entry if it is still there; a failure is only reported. */
async function unregisterGone(
  registry: RegistryClient,
  name: string,
  agentId: string,
): Promise<void> {
  try {
    if (!(await registry.getAgent(agentId))) return;
    await registry.unregisterAgent(agentId);
    console.log(`${name}: unregistered ${agentId} from the registry`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.log(
      `${name}: could not unregister ${agentId} (${reason}); the registry drops it later`,
    );
  }
}

/**
 * The pid of a detached agent if its pid file names a live process running
 * its file (a supervisor killed before it wrote its state leaves pid files
 * only: then liveness is all there is to check).
 */
async function liveAgentPid(mesh: RunFiles, name: string): Promise<number | undefined> {
  const pid = await readPidFile(agentPidFile(mesh.paths, name));
  if (pid === undefined) return undefined;
  const file = mesh.state?.agents.find((agent) => agent.name === name)?.file;
  const live = file === undefined ? isAlive(pid) : await runsWith(pid, file);
  return live ? pid : undefined;
}

async function removeRunFiles({ paths, names }: RunFiles): Promise<void> {
  for (const name of names) await removeFile(agentPidFile(paths, name));
  await removeFile(paths.state);
  await removeFile(paths.supervisorPid);
}

/** SIGTERM, then SIGKILL after `graceMs`; says which it took. */
async function stopAgent(name: string, pid: number, graceMs: number): Promise<void> {
  const outcome = await terminatePid(pid, graceMs);
  console.log(`${name}: ${outcome === "killed" ? "killed (did not stop in time)" : "stopped"}`);
}

async function stopAgents(mesh: RunFiles, names: string[], graceMs: number): Promise<void> {
  for (const name of names) {
    if (!mesh.names.includes(name)) {
      throw new CliError(
        `no detached agent "${name}"${unknownNameHint(name, mesh.names, "agents")}`,
      );
    }
  }
  for (const name of names) {
    const pid = await liveAgentPid(mesh, name);
    if (pid === undefined) console.log(`${name}: not running`);
    else await stopAgent(name, pid, graceMs);
  }
}
