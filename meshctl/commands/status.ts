/**
 * `meshctl status [agent]`: registry health, or one agent's tools and
 * dependency wiring.
 *
 * @module
 */

import type { Command } from "commander";
import type { AgentInfo } from "@mesh/sdk/protocol";
import { commandContext } from "../context.ts";
import { CliError } from "../errors.ts";
import { formatAgentStatus, paintStatus } from "../format_agents.ts";
import { formatDuration, toJson } from "../output.ts";
import type { RegistryClient } from "../registry_client.ts";
import { unknownAgentHint } from "../tool_target.ts";

/** Adds `status` to the program. */
export function registerStatus(program: Command): void {
  program
    .command("status")
    .argument("[agent]", "agent id or name")
    .summary("registry health, or one agent's tools and dependencies")
    .description(
      "Without an argument: the registry's health, version, uptime and agent counts.\n" +
        "With an agent id (or name): its tools and, for each dependency, the provider\n" +
        "agent, tool and endpoint it resolved to.",
    )
    .option("--json", "print JSON instead of text")
    .addHelpText(
      "after",
      `
Examples:
  $ meshctl status                    is the registry up? how many agents?
  $ meshctl status hello-1a2b3c4d     tools and dependency wiring of one agent
  $ meshctl status hello --json       the same as JSON (a unique name also works)`,
    )
    .action(async (agentRef: string | undefined, options: { json?: boolean }, command: Command) => {
      const { registry, paint } = await commandContext(command);
      if (agentRef) {
        const agent = await findAgent(registry, agentRef);
        console.log(options.json ? toJson(agent) : formatAgentStatus(agent, Date.now(), paint));
        return;
      }
      const [health, { agents }] = await Promise.all([registry.health(), registry.listAgents()]);
      const counts: Record<string, number> = {};
      for (const agent of agents) counts[agent.status] = (counts[agent.status] ?? 0) + 1;
      if (options.json) {
        console.log(toJson({ registry_url: registry.url, ...health, agents: counts }));
        return;
      }
      const summary = Object.entries(counts).map(([status, count]) =>
        `${count} ${paintStatus(status, paint)}`
      ).join(", ") || "none";
      console.log(
        [
          `${paint("bold", "Registry")}  ${registry.url}`,
          `${paint("bold", "Status")}    ${paintStatus(health.status, paint)}`,
          `${paint("bold", "Version")}   ${health.version} (${health.service})`,
          `${paint("bold", "Uptime")}    ${formatDuration(health.uptime_seconds * 1000)}`,
          `${paint("bold", "Agents")}    ${summary}`,
        ].join("\n"),
      );
    });
}

/**
 * The agent with this id or, failing that, the only agent with this name;
 * a {@linkcode CliError} suggesting close ids or names (else listing the
 * agent ids) otherwise.
 */
export async function findAgent(registry: RegistryClient, ref: string): Promise<AgentInfo> {
  const exact = await registry.getAgent(ref);
  if (exact) return exact;
  const { agents } = await registry.listAgents();
  const named = agents.filter((agent) => agent.name === ref);
  if (named.length === 1) return named[0];
  if (named.length > 1) {
    const ids = named.map((agent) => agent.id).join(", ");
    throw new CliError(`several agents are named "${ref}": ${ids}; give the agent id`);
  }
  throw new CliError(`no agent "${ref}" at ${registry.url}${unknownAgentHint(ref, agents)}`);
}
