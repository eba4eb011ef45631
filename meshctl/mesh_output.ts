/**
 * Where a running mesh writes: the terminal (each agent's lines prefixed by
 * its name in its colour) or, for a detached mesh, one log file per agent.
 *
 * @module
 */

import { colorEnabled, type ColorName, createPaint } from "./output.ts";
import { logFile, type MeshPaths } from "./home.ts";

/** Sink for agent output and meshctl's own progress messages. */
export interface MeshOutput {
  /** One line printed by an agent. */
  agentLine(agent: { name: string; color: ColorName }, line: string): void;
  /** A new run of an agent began (its first start or a restart), before any of its lines. */
  agentStarted(agent: { name: string; file: string; pid: number }): void;
  /** A progress message of meshctl itself. */
  info(message: string): void;
  /** A warning of meshctl itself. */
  warn(message: string): void;
  /** Flushes and closes whatever the sink holds open. */
  close(): void;
}

/**
 * Terminal output: `hello   | line` with the name in the agent's colour,
 * meshctl's own messages as `meshctl | message`.
 */
export function terminalOutput(names: string[]): MeshOutput {
  const paint = createPaint(colorEnabled(Deno.stdout));
  const width = Math.max("meshctl".length, ...names.map((name) => name.length));
  const prefix = (name: string, color: ColorName): string =>
    paint(color, `${name.padEnd(width)} |`);
  return {
    agentLine: (agent, line) => console.log(`${prefix(agent.name, agent.color)} ${line}`),
    // meshctl's own "<agent>: started <file> (pid N)" line already separates the runs here.
    agentStarted: () => {},
    info: (message) => console.log(`${prefix("meshctl", "bold")} ${message}`),
    warn: (message) => console.log(`${prefix("meshctl", "bold")} ${paint("yellow", message)}`),
    close: () => {},
  };
}

/**
 * Log-file output of a detached mesh: each agent appends to `logs/<name>.log`
 * (each run after a line `--- <time> started <file> (pid N) ---`), meshctl's
 * own messages go to `logs/meshctl.log` with a timestamp.
 */
export function logFileOutput(paths: MeshPaths): MeshOutput {
  Deno.mkdirSync(paths.logs, { recursive: true });
  const files = new Map<string, Deno.FsFile>();
  const encoder = new TextEncoder();
  const append = (name: string, text: string): void => {
    let file = files.get(name);
    if (!file) {
      file = Deno.openSync(logFile(paths, name), { append: true, create: true });
      files.set(name, file);
    }
    const bytes = encoder.encode(`${text}\n`);
    let written = 0;
    while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
  };
  const stamped = (message: string): string => `${new Date().toISOString()} ${message}`;
  return {
    agentLine: (agent, line) => append(agent.name, line),
    agentStarted: ({ name, file, pid }) =>
      append(name, `--- ${new Date().toISOString()} started ${file} (pid ${pid}) ---`),
    info: (message) => append("meshctl", stamped(message)),
    warn: (message) => append("meshctl", stamped(`warning: ${message}`)),
    close: () => {
      for (const file of files.values()) file.close();
      files.clear();
    },
  };
}
