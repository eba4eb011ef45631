/**
 * What every command needs from the global options: the registry to talk
 * to, whether to debug, and how to print.
 *
 * @module
 */

import type { Command } from "commander";
import { type MeshPaths, meshPaths, readState } from "./home.ts";
import { colorEnabled, createPaint, type Paint } from "./output.ts";
import { isAlive } from "./pids.ts";
import { DEFAULT_REGISTRY_URL, normalizeRegistryUrl, RegistryClient } from "./registry_client.ts";

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

/**
 * Builds the {@linkcode CommandContext} from a command's own and inherited
 * options, resolving the registry with {@linkcode resolveRegistryUrl}.
 */
export async function commandContext(command: Command): Promise<CommandContext> {
  const options = command.optsWithGlobals<GlobalOptions>();
  const source = command.getOptionValueSourceWithGlobals("registryUrl");
  const registryUrl = await resolveRegistryUrl(
    source === "cli" || source === "env" ? options.registryUrl : undefined,
  );
  return {
    registryUrl,
    debug: options.debug,
    registry: new RegistryClient(registryUrl),
    paint: createPaint(colorEnabled(Deno.stdout)),
    paintError: createPaint(colorEnabled(Deno.stderr)),
  };
}

/**
 * The registry to talk to: `given` (from `--registry-url` or
 * `MCP_MESH_REGISTRY_URL`) when set, else the registry of the detached mesh
 * this `MCP_MESH_HOME` runs (while its supervisor is alive), else
 * {@linkcode DEFAULT_REGISTRY_URL}.
 */
export async function resolveRegistryUrl(
  given: string | undefined,
  paths: MeshPaths = meshPaths(),
): Promise<string> {
  if (given !== undefined) return normalizeRegistryUrl(given);
  return (await runningMeshRegistry(paths)) ?? DEFAULT_REGISTRY_URL;
}

/** The registry URL of the detached mesh whose supervisor is alive, if any. */
async function runningMeshRegistry(paths: MeshPaths): Promise<string | undefined> {
  const state = await readState(paths);
  if (!state || state.error || !isAlive(state.pid)) return undefined;
  return state.registryUrl;
}
