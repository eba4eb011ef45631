/**
 * `meshctl logs <agent>`: output of a detached agent.
 *
 * @module
 */

import type { Command } from "commander";
import { basename } from "node:path";
import { parseCount } from "../arg_parsers.ts";
import { unknownNameHint } from "../closest.ts";
import { delay } from "../delay.ts";
import { CliError } from "../errors.ts";
import { logFile, type MeshPaths, meshPaths } from "../home.ts";

interface LogsOptions {
  follow?: boolean;
  lines: number;
}

/** Adds `logs` to the program. */
export function registerLogs(program: Command): void {
  program
    .command("logs")
    .argument("<agent>", "agent name (as in `meshctl start` output), or meshctl for its own log")
    .summary("show the output of a detached agent")
    .description(
      "Print the last lines of the log of an agent started with `meshctl start -d`\n" +
        "(files in $MCP_MESH_HOME/logs). Each run of the agent begins with a line\n" +
        "`--- <time> started <file> (pid N) ---`. The name `meshctl` shows the\n" +
        "supervisor's own log: registry start, registrations, restarts and exits.",
    )
    .option("-f, --follow", "keep printing new lines as they are written (Ctrl-C to stop)")
    .option("-n, --lines <count>", "how many lines to show", parseCount, 20)
    .addHelpText(
      "after",
      `
Examples:
  $ meshctl logs hello            the last 20 lines of hello
  $ meshctl logs hello -f -n 100  the last 100, then follow
  $ meshctl logs meshctl          what the background supervisor did`,
    )
    .action(async (name: string, options: LogsOptions) => {
      const paths = meshPaths();
      const path = logFile(paths, name);
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(path);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        const hint = unknownNameHint(name, await logNames(paths), "logs");
        throw new CliError(`no log for "${name}" in ${paths.logs}${hint}`);
      }
      const lines = new TextDecoder().decode(bytes).split("\n");
      if (lines.at(-1) === "") lines.pop();
      const tail = options.lines === 0 ? [] : lines.slice(-options.lines);
      if (tail.length) await write(tail.join("\n") + "\n");
      if (!options.follow) return;
      using file = await Deno.open(path);
      await file.seek(bytes.length, Deno.SeekMode.Start);
      await follow(file);
    });
}

async function follow(file: Deno.FsFile): Promise<never> {
  const buffer = new Uint8Array(64 * 1024);
  while (true) {
    const read = await file.read(buffer);
    if (read === null) await delay(200);
    else await write(buffer.subarray(0, read));
  }
}

async function write(data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let written = 0;
  while (written < bytes.length) written += await Deno.stdout.write(bytes.subarray(written));
}

async function logNames(paths: MeshPaths): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(paths.logs)) {
      if (entry.name.endsWith(".log")) names.push(basename(entry.name, ".log"));
    }
  } catch {
    // no logs directory yet
  }
  return names;
}
