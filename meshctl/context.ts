/**
 * What every command needs from the global options: the registry to talk
 * to, whether to debug, and how to print.
 *
 * @module
 */

import type { Command } from "commander";
import { colorEnabled, createPaint, type Paint } from "./output.ts";
import { RegistryClient } from "./registry_client.ts";

/** Global options shared by all commands. */
export interface GlobalOptions {
  /** Registry base URL. */
  registryUrl: string;
  /** Print stack traces and extra diagnostics. */
  debug: boolean;
}

/** Resolved context of one command invocation. */
export interface CommandContext extends GlobalOptions {
  /** A client for the registry at `registryUrl`. */
  registry: RegistryClient;
  /** Colours for standard output. */
  paint: Paint;
  /** Colours for standard error. */
  paintError: Paint;
}

/** Builds the {@linkcode CommandContext} from a command's own and inherited options. */
export function commandContext(command: Command): CommandContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  return {
    registryUrl: options.registryUrl,
    debug: options.debug,
    registry: new RegistryClient(options.registryUrl),
    paint: createPaint(colorEnabled(Deno.stdout)),
    paintError: createPaint(colorEnabled(Deno.stderr)),
  };
}
