/**
 * `meshctl stop [names…]`: stop a detached mesh, or some of its agents.
 *
 * @module
 */

import type { Command } from "commander";
import { basename } from "node:path";
import { parseSeconds } from "../arg_parsers.ts";
import { CliError } from "../errors.ts";
import { agentPidFile, type MeshPaths, meshPaths, readPidFile, readState } from "../home.ts";
import { isAlive, terminatePid } from "../pids.ts";
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
        "unless --keep-registry is given.",
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
      const paths = meshPaths();
      const supervisor = await readPidFile(paths.supervisorPid);
      if (supervisor === undefined || !isAlive(supervisor)) {
        if (names.length) {
          throw new CliError(`no detached mesh is running (nothing in ${paths.run})`);
        }
        console.log(`No detached mesh is running (nothing in ${paths.run}).`);
        return;
      }
      const graceMs = options.grace * 1000;
      if (names.length || options.keepRegistry) {
        const targets = names.length ? names : await agentNames(paths);
        await stopAgents(paths, targets, graceMs);
        return;
      }
      console.log(`Stopping the mesh (pid ${supervisor})…`);
      const agentPids = await Promise.all(
        (await agentNames(paths)).map((name) => readPidFile(agentPidFile(paths, name))),
      );
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

async function agentNames(paths: MeshPaths): Promise<string[]> {
  const state = await readState(paths);
  if (state) return state.agents.map((agent) => agent.name);
  const names: string[] = [];
  for await (const entry of Deno.readDir(paths.run)) {
    if (entry.name.endsWith(".pid") && entry.name !== basename(paths.supervisorPid)) {
      names.push(entry.name.slice(0, -".pid".length));
    }
  }
  return names;
}

async function stopAgents(paths: MeshPaths, names: string[], graceMs: number): Promise<void> {
  const known = await agentNames(paths);
  for (const name of names) {
    if (!known.includes(name)) {
      throw new CliError(`no detached agent "${name}"${unknownNameHint(name, known, "agents")}`);
    }
  }
  for (const name of names) {
    const pid = await readPidFile(agentPidFile(paths, name));
    if (pid === undefined || !isAlive(pid)) {
      console.log(`${name}: not running`);
      continue;
    }
    const outcome = await terminatePid(pid, graceMs);
    console.log(`${name}: ${outcome === "killed" ? "killed (did not stop in time)" : "stopped"}`);
  }
}
