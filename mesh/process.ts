/**
 * Agents as subprocesses: the start line an agent prints and a spawner that
 * waits for it (used by the demo, the tests, and anything that launches agents).
 *
 * @example
 * ```ts ignore
 * import { spawnAgent } from "@mesh/sdk/process";
 *
 * const hello = await spawnAgent("examples/hello/main.ts", {
 *   env: { MCP_MESH_REGISTRY_URL: "http://127.0.0.1:8000" },
 * });
 * console.log(hello.agentId, hello.url);
 * await hello.stop(); // SIGTERM: the agent unregisters and exits 0
 * ```
 *
 * @module
 */

const START_LINE = /^agent (\S+) (\S+) listening on (\S+)$/m;

/** The line an agent prints on stdout once it serves. */
export function formatStartLine(name: string, agentId: string, url: string): string {
  return `agent ${name} ${agentId} listening on ${url}`;
}

/** What {@linkcode runUntilSignal} needs of a started agent. */
export interface RunningAgent {
  /** Agent name. */
  readonly name: string;
  /** Agent id. */
  readonly agentId: string;
  /** Base URL. */
  readonly url: string;
  /** Stops it (it unregisters). */
  close(): Promise<void>;
}

/**
 * The agent side of {@linkcode spawnAgent}: prints the start line of a
 * started agent, then on SIGINT or SIGTERM closes it and exits 0.
 */
export function runUntilSignal(agent: RunningAgent): void {
  console.log(formatStartLine(agent.name, agent.agentId, agent.url));
  const stop = async () => {
    await agent.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

/** Options of {@linkcode spawnAgent}. */
export interface SpawnAgentOptions {
  /** Extra environment variables (the parent's environment is inherited). */
  env?: Record<string, string>;
  /** Working directory (default: the current one). */
  cwd?: string | URL;
  /** Where the agent's stderr goes (default `"inherit"`). */
  stderr?: "inherit" | "null";
}

/** An agent running as a subprocess. */
export interface AgentProcess {
  /** Agent name from its start line. */
  readonly name: string;
  /** Agent id from its start line. */
  readonly agentId: string;
  /** Base URL from its start line. */
  readonly url: string;
  /** Process id. */
  readonly pid: number;
  /** Sends `signal` (default SIGTERM) unless it already exited, and awaits the exit. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * Runs `deno run -A <script>` and resolves once the agent printed its start
 * line; rejects if it exits first.
 */
export async function spawnAgent(
  script: string,
  options: SpawnAgentOptions = {},
): Promise<AgentProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script],
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: options.stderr ?? "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  let match: RegExpMatchArray | null = null;
  while (!match) {
    const { value, done } = await reader.read();
    if (done) {
      const { code } = await child.status;
      throw new Error(`${script} exited with code ${code} before serving; output: ${output}`);
    }
    output += value;
    match = output.match(START_LINE);
  }
  const drained = (async () => {
    while (!(await reader.read()).done) { /* keep the pipe flowing */ }
  })();
  let stopped: Promise<Deno.CommandStatus> | undefined;
  return {
    name: match[1],
    agentId: match[2],
    url: match[3],
    pid: child.pid,
    stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
      stopped ??= (async () => {
        try {
          child.kill(signal);
        } catch {
          // Already exited.
        }
        const status = await child.status;
        await drained;
        return status;
      })();
      return stopped;
    },
  };
}
