/**
 * What the benchmarks share: servers in subprocesses (so the client load
 * stays out of their process) and the median of repeated measurements.
 *
 * @module
 */

/** A server running in a subprocess. */
export interface ServerProcess {
  /** What it printed when ready: its URL, or several separated by spaces. */
  readonly line: string;
  /** Process id. */
  readonly pid: number;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<void>;
}

/** Options of {@linkcode spawnServer}. */
export interface SpawnOptions {
  /** Working directory. */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** The output that means "serving"; its first group (or the line) is `line`. Default: a line. */
  ready?: RegExp;
}

/**
 * Runs `deno <args>` and resolves once its stdout shows it serves (by default:
 * its first line); the rest of its output is drained.
 */
export async function spawnServer(
  args: string[],
  what: string,
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const ready = options.ready ?? /^(.*)\n/;
  let text = "";
  let match: RegExpMatchArray | null = null;
  while (!match) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${what} exited before serving: ${text}`);
    text += value;
    match = text.match(ready);
  }
  const drained = (async () => {
    while (!(await reader.read()).done) { /* keep the pipe flowing */ }
  })();
  return {
    line: (match[1] ?? match[0]).trim(),
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await drained;
    },
  };
}

/** The median of `values` (the upper one of an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Clock ticks per second of `/proc/{pid}/stat` times (`getconf CLK_TCK`, 100 on Linux). */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system, all threads) process `pid` used so far; NaN off Linux. */
export function cpuSeconds(pid: number | "self"): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
