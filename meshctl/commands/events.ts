/**
 * `meshctl events`: what happened in the mesh, newest first.
 *
 * @module
 */

import type { Command } from "commander";
import type { RegistryEventInfo } from "@mesh/sdk/protocol";
import { countParser } from "../arg_parsers.ts";
import { commandContext } from "../context.ts";
import { formatAgo, formatTable, type Paint, toJson } from "../output.ts";

interface EventsOptions {
  type?: string;
  agent?: string;
  limit: number;
  json?: boolean;
}

const EVENT_COLORS: Record<string, Parameters<Paint>[0]> = {
  register: "green",
  unregister: "yellow",
  unhealthy: "red",
  expire: "red",
};

/** The events as a table: when, what, which agent, details. */
export function formatEventTable(
  events: RegistryEventInfo[],
  now: number,
  paint: Paint,
): string {
  const rows = events.map((event) => [
    formatAgo(event.timestamp, now),
    paint(EVENT_COLORS[event.event_type] ?? "blue", event.event_type),
    event.agent_id,
    event.data && Object.keys(event.data).length ? JSON.stringify(event.data) : "",
  ]);
  return formatTable(["WHEN", "EVENT", "AGENT", "DETAILS"], rows);
}

/** Adds `events` to the program. */
export function registerEvents(program: Command): void {
  program
    .command("events")
    .summary("show the registry's events, newest first")
    .description(
      "Show what happened in the mesh: agents registering, changing, going unhealthy,\n" +
        "expiring and unregistering, newest first.",
    )
    .option("--type <type>", "only events of this type (register, unhealthy, expire, …)")
    .option("--agent <agent-id>", "only events about this agent")
    .option("-n, --limit <count>", "most events to show (1-500)", countParser(1, 500), 20)
    .option("--json", "print the registry's JSON instead of a table")
    .addHelpText(
      "after",
      `
Examples:
  $ meshctl events                       the last 20 events
  $ meshctl events --type unhealthy      which agents went silent
  $ meshctl events --agent hello-1a2b3c4d -n 100 --json`,
    )
    .action(async (options: EventsOptions, command: Command) => {
      const { registry, paint } = await commandContext(command);
      const { events } = await registry.events({
        type: options.type,
        agentId: options.agent,
        limit: options.limit,
      });
      if (options.json) console.log(toJson(events));
      else if (events.length === 0) console.log(`No events at ${registry.url}.`);
      else console.log(formatEventTable(events, Date.now(), paint));
    });
}
