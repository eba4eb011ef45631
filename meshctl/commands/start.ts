/**
 * `meshctl start [agent files…]`: a registry plus agents, attached to the
 * terminal or detached in the background.
 *
 * @module
 */

import { type Command, Option } from "commander";
import { extname, resolve } from "node:path";
import { parsePort, parseSeconds } from "../arg_parsers.ts";
import { commandContext, resolveRegistryUrl } from "../context.ts";
import { CliError, UsageError } from "../errors.ts";
import {
  agentPidFile,
  type AgentState,
  type MeshPaths,
  meshPaths,
  readPidFile,
  readState,
  removeFile,
  writeState,
} from "../home.ts";
import { logFileOutput, type MeshOutput, terminalOutput } from "../mesh_output.ts";
import { MeshRunner } from "../mesh_runner.ts";
import { colorEnabled } from "../output.ts";
import { agentName, uniqueNames } from "../permissions.ts";
import { isAlive } from "../pids.ts";
import { delay } from "../delay.ts";

/** Options of `meshctl start`. */
interface StartOptions {
  registryPort?: number;
  dbPath?: string;
  registryOnly?: boolean;
  watch?: boolean;
  detach?: boolean;
  allowWriteDir: string[];
  allowSys?: boolean;
  wait: number;
  grace: number;
  supervise?: boolean;
}

/** Adds `start` to the program. */
export function registerStart(program: Command): void {
  program
    .command("start")
    .argument("[agents...]", "agent files to run (e.g. examples/hello/main.ts)")
    .summary("start a registry (if none is running) and agents")
    .description(
      "Join the registry at --registry-url, or start one embedded (SQLite, by default\n" +
        "in $MCP_MESH_HOME/registry.db), then run each agent file as a child process\n" +
        "with only the permissions an agent needs: --allow-net, --allow-env and\n" +
        "--allow-read of its own directory (never -A; add --allow-write-dir or\n" +
        "--allow-sys to grant more). Each agent's output is prefixed with its name\n" +
        "(its directory's name for main.ts/mod.ts, else its file name).\n\n" +
        "Waits until every agent has registered, then keeps running until Ctrl-C,\n" +
        "which stops the agents gracefully (they unregister) and then the registry.",
    )
    .option(
      "--registry-port <port>",
      "start the embedded registry on this port (0 = any)",
      parsePort,
    )
    .option("--db-path <path>", "SQLite file of the embedded registry")
    .option("--registry-only", "start just the registry and keep it running")
    .option("-w, --watch", "restart an agent when files in its directory change")
    .option("-d, --detach", "run in the background; see `meshctl logs` and `meshctl stop`")
    .addOption(
      new Option("--allow-write-dir <dir>", "let agents write to <dir> (repeatable)")
        .argParser((dir: string, dirs: string[]) => [...dirs, dir])
        .default([], "none"),
    )
    .option("--allow-sys", "let agents read system information (hostname, OS, memory)")
    .option("--wait <seconds>", "how long to wait for agents to register", parseSeconds, 30)
    .option(
      "--grace <seconds>",
      "how long a stopping agent may take before SIGKILL",
      parseSeconds,
      10,
    )
    .addOption(new Option("--supervise", "run as the detached supervisor").hideHelp())
    .addHelpText(
      "after",
      `
Examples:
  $ meshctl start --registry-only                       just a registry on :8000
  $ meshctl start --allow-sys examples/hello/main.ts examples/system/main.ts
  $ meshctl start -w examples/hello/main.ts             restart hello on every edit
  $ meshctl start -d --allow-sys examples/*/main.ts     in the background
  $ meshctl start --registry-port 0 --db-path /tmp/mesh.db agent.ts
  $ meshctl --registry-url http://10.0.0.5:8000 start agent.ts   join a remote registry

Files of a detached mesh live in $MCP_MESH_HOME (default ~/.mcp-mesh):
  logs/<agent>.log, logs/meshctl.log, run/meshctl.pid, run/<agent>.pid, run/state.json`,
    )
    .action(async (files: string[], options: StartOptions, command: Command) => {
      const context = await commandContext(command);
      await checkFiles(files);
      if (files.length === 0 && !options.registryOnly) {
        throw new UsageError(
          "give agent files to start, or --registry-only for just the registry " +
            "(see meshctl start --help)",
        );
      }
      if (options.supervise) {
        Deno.exitCode = await supervise(files, options, context.registryUrl);
      } else if (options.detach) {
        Deno.exitCode = await detach(files, options, context.registryUrl, context.debug);
      } else {
        Deno.exitCode = await runAttached(files, options, context.registryUrl);
      }
    });
}

function runnerFor(
  files: string[],
  options: StartOptions,
  registryUrl: string,
  output: MeshOutput,
  paths: MeshPaths,
  agentColors: boolean,
  onChange?: () => void,
): MeshRunner {
  return new MeshRunner({
    files,
    registryUrl,
    registryPort: options.registryPort,
    databasePath: options.dbPath ?? paths.database,
    registryOnly: options.registryOnly ?? false,
    watch: options.watch ?? false,
    debounceMs: 500,
    grants: { writeDirs: options.allowWriteDir, sys: options.allowSys },
    graceMs: options.grace * 1000,
    output,
    agentColors,
    onChange,
  });
}

/** Runs the mesh in the foreground until Ctrl-C/SIGTERM or until every agent has exited. */
async function runAttached(
  files: string[],
  options: StartOptions,
  registryUrl: string,
): Promise<number> {
  const output = terminalOutput(uniqueNames(files.map(agentName)));
  const colors = colorEnabled(Deno.stdout);
  const runner = runnerFor(files, options, registryUrl, output, meshPaths(), colors);
  const stop = stopSignal();
  try {
    await runner.start();
    const settled = runner.waitUntilSettled(options.wait * 1000).then(async (states) => {
      if (!runner.stopping) {
        await reportSettled(states, runner.registryUrl, output, "Ctrl-C to stop");
      }
    });
    const code = await Promise.race([stop.promise.then(() => 0), runner.idle]);
    await runner.shutdown();
    await settled;
    return code;
  } finally {
    stop.dispose();
    await runner.shutdown();
    output.close();
  }
}

/** The body of a detached mesh: like {@linkcode runAttached}, logging to files and keeping state. */
async function supervise(
  files: string[],
  options: StartOptions,
  registryUrl: string,
): Promise<number> {
  const paths = meshPaths();
  await Deno.mkdir(paths.run, { recursive: true });
  await Deno.writeTextFile(paths.supervisorPid, `${Deno.pid}\n`);
  const output = logFileOutput(paths);
  let settled = false;
  let writing = Promise.resolve();
  const sync = (error?: string): Promise<void> => {
    writing = writing.then(() => syncState(paths, runner, settled, error));
    return writing;
  };
  const runner: MeshRunner = runnerFor(
    files,
    options,
    registryUrl,
    output,
    paths,
    false,
    () => sync(),
  );
  const stop = stopSignal();
  try {
    try {
      await runner.start();
    } catch (error) {
      await sync(error instanceof Error ? error.message : String(error));
      throw error;
    }
    await sync();
    const states = await runner.waitUntilSettled(options.wait * 1000);
    await reportSettled(states, runner.registryUrl, output, "`meshctl stop` to stop");
    settled = true;
    await sync();
    const code = await Promise.race([stop.promise.then(() => 0), runner.idle]);
    output.info(code === 0 ? "shutting down" : "every agent exited; shutting down");
    return code;
  } finally {
    stop.dispose();
    await runner.shutdown();
    await writing;
    for (const agent of runner.agents) await removeFile(agentPidFile(paths, agent.name));
    await removeFile(paths.state);
    await removeFile(paths.supervisorPid);
    output.info("stopped");
    output.close();
  }
}

async function syncState(
  paths: MeshPaths,
  runner: MeshRunner,
  settled: boolean,
  error: string | undefined,
): Promise<void> {
  for (const agent of runner.agents) {
    const pidFile = agentPidFile(paths, agent.name);
    if (agent.pid !== undefined && agent.running) {
      await Deno.writeTextFile(pidFile, `${agent.pid}\n`);
    } else await removeFile(pidFile);
  }
  await writeState(paths, {
    pid: Deno.pid,
    registryUrl: runner.registryUrl,
    ownsRegistry: runner.ownsRegistry,
    settled,
    agents: runner.states(),
    ...(error ? { error } : {}),
  });
}

/** Starts a supervisor in the background and reports its progress until the mesh is up. */
async function detach(
  files: string[],
  options: StartOptions,
  registryUrl: string,
  debug: boolean,
): Promise<number> {
  const paths = meshPaths();
  const running = await readPidFile(paths.supervisorPid);
  if (running !== undefined && isAlive(running)) {
    throw new CliError(
      `a detached mesh is already running (pid ${running}); stop it first with \`meshctl stop\``,
    );
  }
  await Deno.mkdir(paths.run, { recursive: true });
  await removeFile(paths.state);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../main.ts", import.meta.url).href,
      ...supervisorArgs(
        files,
        options,
        registryUrl,
        debug,
      ),
    ],
    env: { MCP_MESH_HOME: paths.home },
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  const output = terminalOutput([]);
  output.info(`starting the mesh in the background (pid ${child.pid})`);
  let exited = false;
  child.status.then(() => exited = true);
  const reported = new Map<string, string>();
  const deadline = Date.now() + (options.wait + 30) * 1000;
  while (Date.now() < deadline) {
    const state = await readState(paths);
    for (const agent of state?.agents ?? []) {
      const line = describeAgentState(agent);
      if (reported.get(agent.name) !== line && agent.status !== "starting") {
        output.info(line);
        reported.set(agent.name, line);
      }
    }
    if (state?.error) throw new CliError(`the background mesh failed: ${state.error}`);
    if (state?.settled) {
      const failed = state.agents.filter((agent) => agent.status !== "registered");
      console.log(await nextSteps(state.registryUrl, paths, state.agents, child.pid));
      child.unref();
      return failed.length ? 1 : 0;
    }
    if (exited) {
      throw new CliError(
        `the background mesh exited during start-up; see ${paths.logs}/meshctl.log ` +
          "(or `meshctl logs meshctl`)",
      );
    }
    await delay(200);
  }
  child.unref();
  throw new CliError(`the background mesh did not come up in time; see \`meshctl logs meshctl\``);
}

/** The command line of the detached supervisor, rebuilt from the parsed options. */
function supervisorArgs(
  files: string[],
  options: StartOptions,
  registryUrl: string,
  debug: boolean,
): string[] {
  const args = ["--registry-url", registryUrl, ...(debug ? ["--debug"] : []), "start"];
  args.push(...files.map((file) => resolve(file)));
  args.push("--supervise", "--wait", String(options.wait), "--grace", String(options.grace));
  if (options.registryPort !== undefined) {
    args.push("--registry-port", String(options.registryPort));
  }
  if (options.dbPath) args.push("--db-path", options.dbPath);
  if (options.registryOnly) args.push("--registry-only");
  if (options.watch) args.push("--watch");
  if (options.allowSys) args.push("--allow-sys");
  for (const dir of options.allowWriteDir) args.push("--allow-write-dir", dir);
  return args;
}

function describeAgentState(agent: AgentState): string {
  switch (agent.status) {
    case "registered":
      return `${agent.name}: registered as ${agent.agentId}`;
    case "exited":
      return `${agent.name}: exited with code ${
        agent.exitCode ?? "?"
      } (see \`meshctl logs ${agent.name}\`)`;
    default:
      return `${agent.name}: starting`;
  }
}

async function reportSettled(
  states: AgentState[],
  registryUrl: string,
  output: MeshOutput,
  howToStop: string,
): Promise<void> {
  const registered = states.filter((state) => state.status === "registered");
  for (const state of states.filter((state) => state.status === "starting")) {
    output.warn(
      state.registryRefusal
        ? `${state.name}: not registered: the registry at ${registryUrl} refused its token ` +
          `(HTTP ${state.registryRefusal}); set MCP_MESH_REGISTRY_TOKEN to the registry's token`
        : `${state.name}: still not registered with ${registryUrl}; is it a mesh agent?`,
    );
  }
  if (states.length === 0) {
    output.info(`registry ready at ${registryUrl}; ${howToStop}`);
    return;
  }
  if (registered.length === 0) return;
  const flag = await registryFlag(registryUrl);
  output.info(`ready: ${registered.length}/${states.length} agents registered with ${registryUrl}`);
  output.info(
    `next: \`meshctl${flag} list --tools\`, \`meshctl${flag} call <tool> '{…}'\`; ${howToStop}`,
  );
}

async function nextSteps(
  registryUrl: string,
  paths: MeshPaths,
  agents: AgentState[],
  pid: number,
): Promise<string> {
  const flag = await registryFlag(registryUrl);
  const steps = [
    [`meshctl${flag} list`, "see the agents"],
    [`meshctl logs ${agents[0]?.name ?? "meshctl"} -f`, "follow an agent's output"],
    ["meshctl stop", "stop agents and registry"],
  ];
  const width = Math.max(...steps.map(([command]) => command.length));
  return [
    `Mesh running in the background (pid ${pid}), registry ${registryUrl}.`,
    ...steps.map(([command, what]) => `  ${command.padEnd(width)}  ${what}`),
    `Logs and pid files: ${paths.logs}, ${paths.run}`,
  ].join("\n");
}

/**
 * The `--registry-url` a next-step hint needs so that a later command run
 * from this `MCP_MESH_HOME` finds `registryUrl`: none when the registry that
 * command would resolve by itself ({@linkcode resolveRegistryUrl}: the
 * environment, else a live detached mesh's registry, else the default) is
 * this one.
 */
async function registryFlag(registryUrl: string): Promise<string> {
  const flag = ` --registry-url ${registryUrl}`;
  try {
    const implicit = await resolveRegistryUrl(Deno.env.get("MCP_MESH_REGISTRY_URL"));
    return implicit === registryUrl ? "" : flag;
  } catch (error) {
    if (error instanceof CliError) return flag; // an invalid MCP_MESH_REGISTRY_URL
    throw error;
  }
}

/** Resolves on the first SIGINT or SIGTERM; `dispose` removes the listeners. */
function stopSignal(): { promise: Promise<Deno.Signal>; dispose(): void } {
  const { promise, resolve } = Promise.withResolvers<Deno.Signal>();
  const listeners = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const listener = () => resolve(signal);
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  return {
    promise,
    dispose() {
      for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    },
  };
}

/** File extensions `deno run` can start as an agent. */
const AGENT_EXTENSIONS = [".ts", ".tsx", ".mts", ".js", ".mjs"];

/** Checks every agent file before anything starts: it must exist and be a script. */
async function checkFiles(files: string[]): Promise<void> {
  for (const file of files) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(file);
    } catch {
      throw new UsageError(`agent file not found: ${file}`);
    }
    if (!info.isFile) {
      throw new UsageError(`not a file: ${file} (give the agent's .ts file)`);
    }
    if (!AGENT_EXTENSIONS.includes(extname(file).toLowerCase())) {
      throw new UsageError(`not an agent file: ${file} (expected ${AGENT_EXTENSIONS.join(", ")})`);
    }
  }
}
