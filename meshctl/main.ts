/**
 * meshctl, the MCP Mesh operator CLI.
 *
 * Run it with `deno task meshctl <command>` or install it with
 * `deno install -g -A -n meshctl meshctl/main.ts`. See `meshctl --help`.
 *
 * @example
 * ```ts
 * import { runCli } from "@mesh/meshctl";
 * Deno.exit(await runCli(["list", "--json"]));
 * ```
 *
 * @module
 */

import { runCli } from "./cli.ts";

export { runCli } from "./cli.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
