/**
 * The registry process (`deno task registry`). Configured by `HOST`,
 * `PORT`, `DATABASE_URL`, `HEALTH_CHECK_INTERVAL`,
 * `DEFAULT_TIMEOUT_THRESHOLD`, `DEFAULT_EVICTION_THRESHOLD`,
 * `MCP_MESH_REGISTRY_TOKEN` and the flags `--host`, `--port`, `--db`,
 * `--token` (`--help` lists them). Prints one line with its URL and
 * database, shuts down cleanly on SIGINT/SIGTERM (and says so), exits 2 on
 * invalid configuration.
 *
 * @example
 * ```sh
 * PORT=0 deno run --allow-net --allow-env --allow-read --allow-write registry/main.ts --db /tmp/mesh.db
 * ```
 *
 * @module
 */

import { resolve } from "node:path";
import { ConfigError, parseConfig, type RegistryConfig, USAGE, wantsHelp } from "./config.ts";
import { serveRegistry } from "./mod.ts";

/** Exit status on invalid configuration. */
export const EXIT_CONFIG = 2;

/** Exit status when the registry cannot start (port in use, unusable database). */
export const EXIT_START = 1;

/**
 * Runs the registry until SIGINT or SIGTERM; resolves to the exit status.
 *
 * @param args Command-line flags.
 * @param env Environment lookup.
 */
export async function main(
  args: string[],
  env: (name: string) => string | undefined,
): Promise<number> {
  if (wantsHelp(args)) {
    console.log(USAGE);
    return 0;
  }
  let config: RegistryConfig;
  try {
    config = parseConfig(args, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`registry: invalid configuration: ${error.message} (see --help)`);
    return EXIT_CONFIG;
  }
  let registry;
  try {
    registry = serveRegistry(config);
  } catch (error) {
    console.error(`registry: cannot start: ${(error as Error).message}`);
    return EXIT_START;
  }
  const database = config.databaseUrl === ":memory:" ? ":memory:" : resolve(config.databaseUrl);
  console.log(`mcp-mesh registry listening on ${registry.url} (database: ${database})`);
  const { promise: stopped, resolve: stop } = Promise.withResolvers<Deno.Signal>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const listeners = signals.map((signal) => [signal, () => stop(signal)] as const);
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  const signal = await stopped;
  for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  console.log(`mcp-mesh registry stopping (${signal})`);
  await registry.close();
  console.log("mcp-mesh registry stopped");
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args, (name) => Deno.env.get(name)));
}
