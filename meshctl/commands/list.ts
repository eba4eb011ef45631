/**
 * `meshctl list`: the agents (or tools) the registry knows.
 *
 * @module
 */

import type { Command } from "commander";
import { commandContext } from "../context.ts";
import { agentMatches, formatAgentTable, formatToolTable, toolRows } from "../format_agents.ts";
import { toJson } from "../output.ts";

interface ListOptions {
  all?: boolean;
  json?: boolean;
  tools?: boolean;
  filter?: string;
}

/** Adds `list` to the program. */
export function registerList(program: Command): void {
  program
    .command("list")
    .alias("ls")
    .summary("list agents (or their tools) known to the registry")
    .description(
      "List the agents registered with the registry: name, health, dependencies\n" +
        "resolved/total, capabilities, endpoint, age and time since the last heartbeat.\n" +
        "Only healthy agents are shown unless --all is given.",
    )
    .option("-a, --all", "include degraded, unhealthy and offline agents")
    .option("-t, --tools", "list every tool with its capability and input schema")
    .option(
      "-f, --filter <text>",
      "only agents whose id, name, endpoint, capability or tool contains <text>",
    )
    .option("--json", "print the registry's JSON instead of a table")
    .addHelpText(
      "after",
      `
Examples:
  $ meshctl list                      healthy agents as a table
  $ meshctl list --all                every agent, whatever its state
  $ meshctl list --tools              every tool with its input schema
  $ meshctl list --filter time --json matching agents as JSON (for jq)`,
    )
    .action(async (options: ListOptions, command: Command) => {
      const { registry, paint } = await commandContext(command);
      const { agents } = await registry.listAgents(options.all ? {} : { status: "healthy" });
      const shown = options.filter
        ? agents.filter((agent) => agentMatches(agent, options.filter!))
        : agents;
      if (options.tools) {
        const rows = toolRows(shown);
        console.log(options.json ? toJson(rows) : formatToolTable(rows, paint));
      } else if (options.json) {
        console.log(toJson(shown));
      } else if (shown.length === 0) {
        const scope = options.all ? "" : " healthy";
        const hint = options.all ? "" : " (try --all)";
        console.log(`No${scope} agents registered at ${registry.url}${hint}.`);
      } else {
        console.log(formatAgentTable(shown, Date.now(), paint));
      }
    });
}
