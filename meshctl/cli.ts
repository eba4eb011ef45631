/**
 * The meshctl program: global options, commands, and error reporting.
 *
 * @module
 */

import { Command, CommanderError, Option } from "commander";
import { registerCall } from "./commands/call.ts";
import { registerEvents } from "./commands/events.ts";
import { registerList } from "./commands/list.ts";
import { registerLogs } from "./commands/logs.ts";
import { registerStart } from "./commands/start.ts";
import { registerStatus } from "./commands/status.ts";
import { registerStop } from "./commands/stop.ts";
import { CliError, EXIT_FAILURE, EXIT_USAGE } from "./errors.ts";
import { colorEnabled, createPaint } from "./output.ts";
import { DEFAULT_REGISTRY_URL } from "./registry_client.ts";
import denoConfig from "./deno.json" with { type: "json" };

/** Builds the commander program with every command registered. */
export function createProgram(): Command {
  const program = new Command("meshctl")
    .version(denoConfig.version, "-V, --version")
    .description(
      "Operate an MCP Mesh: start a registry and agents, see what is registered and\n" +
        "how it is wired, call tools through the mesh, and stop it again.",
    )
    .addOption(
      new Option("--registry-url <url>", "registry to talk to")
        .env("MCP_MESH_REGISTRY_URL")
        .default(
          DEFAULT_REGISTRY_URL,
          `the registry of the mesh \`start -d\` runs from MCP_MESH_HOME, else ${DEFAULT_REGISTRY_URL}`,
        ),
    )
    .option("--debug", "print stack traces and internal details on errors", false)
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(createPaint(colorEnabled(Deno.stderr))("red", text)),
    })
    .addHelpText(
      "after",
      `
Environment:
  MCP_MESH_REGISTRY_URL  default for --registry-url (over a detached mesh's registry)
  MCP_MESH_HOME          where detached runs keep pid files and logs (default ~/.mcp-mesh)
  NO_COLOR               disable colours (they are also off when output is not a terminal)

Examples:
  $ meshctl start --watch --allow-sys examples/hello/main.ts examples/system/main.ts
  $ meshctl list
  $ meshctl call say_hello '{"name": "World"}'
  $ meshctl status hello
  $ meshctl start -d --allow-sys examples/*/main.ts && meshctl logs hello -f
  $ meshctl stop

Run 'meshctl <command> --help' for the options of a command.`,
    );
  registerStart(program);
  registerList(program);
  registerStatus(program);
  registerCall(program);
  registerEvents(program);
  registerStop(program);
  registerLogs(program);
  return program;
}

/**
 * Runs meshctl with `args` (without the program name) and returns the exit
 * code. Errors are printed as one line on stderr, with the stack trace only
 * under `--debug`.
 */
export async function runCli(args: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(args, { from: "user" });
    return typeof Deno.exitCode === "number" ? Deno.exitCode : 0;
  } catch (error) {
    // Help and --version exit 0; every other commander error is a usage error.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    const debug = args.includes("--debug");
    const paint = createPaint(colorEnabled(Deno.stderr));
    const message = error instanceof Error ? error.message : String(error);
    console.error(`${paint("red", "error:")} ${message.split("\n")[0]}`);
    if (debug && error instanceof Error) console.error(error.stack);
    if (debug && error instanceof Error && error.cause) console.error("cause:", error.cause);
    return error instanceof CliError ? error.exitCode : EXIT_FAILURE;
  }
}
