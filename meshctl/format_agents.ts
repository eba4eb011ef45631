/**
 * Text renderings of registry answers: agent tables, tool tables, schema
 * summaries and dependency lists. Pure functions, so tests can pin them down.
 *
 * @module
 */

import type { AgentInfo, AgentStatus, CapabilityInfo } from "@mesh/sdk/protocol";
import { type ColorName, formatAgo, formatDuration, formatTable, type Paint } from "./output.ts";

const STATUS_COLORS: Record<AgentStatus, ColorName> = {
  healthy: "green",
  degraded: "yellow",
  unhealthy: "red",
  offline: "gray",
};

const plain: Paint = (_color, text) => text;

/** A status word in its colour (green healthy, yellow degraded, red unhealthy, gray offline). */
export function paintStatus(status: string, paint: Paint): string {
  return paint(STATUS_COLORS[status as AgentStatus] ?? "bold", status);
}

/**
 * Whether an agent matches a case-insensitive substring filter on its id,
 * name, endpoint, capabilities or tool names.
 */
export function agentMatches(agent: AgentInfo, filter: string): boolean {
  const needle = filter.toLowerCase();
  const fields = [
    agent.id,
    agent.name,
    agent.endpoint,
    ...agent.capabilities.flatMap((capability) => [capability.name, capability.function_name]),
  ];
  return fields.some((field) => field?.toLowerCase().includes(needle));
}

/**
 * The agents table of `meshctl list`: name (id when it differs), status,
 * dependencies resolved/total, capabilities, endpoint, age, last seen.
 */
export function formatAgentTable(agents: AgentInfo[], now: number, paint: Paint = plain): string {
  const rows = agents.map((agent) => {
    const deps = `${agent.dependencies_resolved}/${agent.total_dependencies}`;
    const depsColor: ColorName = agent.dependencies_resolved < agent.total_dependencies
      ? "yellow"
      : "green";
    return [
      paint("bold", agent.id),
      paintStatus(agent.status, paint),
      agent.total_dependencies ? paint(depsColor, deps) : deps,
      agent.capabilities.map((capability) => capability.name).join(",") || "-",
      agent.endpoint,
      formatDuration(now - Date.parse(agent.created_at)),
      formatAgo(agent.last_seen, now),
    ];
  });
  return formatTable(
    ["AGENT", "STATUS", "DEPS", "CAPABILITIES", "ENDPOINT", "AGE", "LAST SEEN"],
    rows,
  );
}

/** One tool of one agent, as listed by `meshctl list --tools --json`. */
export interface ToolRow {
  /** Agent id. */
  agent_id: string;
  /** Tool (function) name. */
  tool: string;
  /** Capability it provides. */
  capability: string;
  /** Capability version. */
  version: string;
  /** Capability tags. */
  tags: string[];
  /** Tool description. */
  description?: string;
  /** Whether the tool streams progress. */
  streaming: boolean;
  /** Input JSON Schema. */
  inputSchema?: Record<string, unknown>;
}

/** Every tool of the given agents, in agent order. */
export function toolRows(agents: AgentInfo[]): ToolRow[] {
  return agents.flatMap((agent) =>
    agent.capabilities.map((capability: CapabilityInfo) => ({
      agent_id: agent.id,
      tool: capability.function_name,
      capability: capability.name,
      version: capability.version,
      tags: capability.tags ?? [],
      description: capability.description,
      streaming: capability.kwargs?.streaming === true,
      inputSchema: capability.inputSchema,
    }))
  );
}

/** The tools table of `meshctl list --tools`; `showAgent: false` drops the agent column. */
export function formatToolTable(
  rows: ToolRow[],
  paint: Paint = plain,
  options: { showAgent?: boolean } = {},
): string {
  const showAgent = options.showAgent ?? true;
  const headers = ["TOOL", "CAPABILITY", "VERSION", "TAGS", "INPUT"];
  return formatTable(
    showAgent ? ["AGENT", ...headers] : headers,
    rows.map((row) => {
      const cells = [
        paint("bold", row.tool) + (row.streaming ? paint("cyan", " (streaming)") : ""),
        row.capability,
        row.version,
        row.tags.join(",") || "-",
        summarizeSchema(row.inputSchema),
      ];
      return showAgent ? [row.agent_id, ...cells] : cells;
    }),
  );
}

/**
 * A one-line summary of an object JSON Schema: `{name: string, count?: integer}`;
 * `{}` for no properties; `-` when there is no schema.
 *
 * @example
 * ```ts
 * import { summarizeSchema } from "./format_agents.ts";
 * summarizeSchema({
 *   type: "object",
 *   properties: { name: { type: "string" } },
 *   required: ["name"],
 * }); // "{name: string}"
 * ```
 */
export function summarizeSchema(schema: Record<string, unknown> | undefined): string {
  if (!schema) return "-";
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set(Array.isArray(schema.required) ? schema.required as string[] : []);
  const fields = Object.entries(properties).map(([name, property]) =>
    `${name}${required.has(name) ? "" : "?"}: ${typeName(property)}`
  );
  return `{${fields.join(", ")}}`;
}

function typeName(property: Record<string, unknown>): string {
  if (Array.isArray(property.enum)) {
    return property.enum.map((value) => JSON.stringify(value)).join("|");
  }
  if (Array.isArray(property.type)) return property.type.join("|");
  if (typeof property.type === "string") {
    if (property.type === "array" && property.items && typeof property.items === "object") {
      return `${typeName(property.items as Record<string, unknown>)}[]`;
    }
    return property.type;
  }
  for (const key of ["anyOf", "oneOf"]) {
    const options = property[key];
    if (Array.isArray(options)) {
      return options.map((option) => typeName(option as Record<string, unknown>)).join("|");
    }
  }
  return "any";
}

/** The `meshctl status <agent>` report: header, tools, and each dependency's resolution. */
export function formatAgentStatus(agent: AgentInfo, now: number, paint: Paint = plain): string {
  const facts: [string, string][] = [
    ["Agent", agent.name !== agent.id ? `${agent.id} (${agent.name})` : agent.id],
    ["Status", paintStatus(agent.status, paint)],
    ["Endpoint", agent.endpoint],
    ["Version", agent.runtime ? `${agent.version} (${agent.runtime})` : agent.version],
    ["Age", `${formatDuration(now - Date.parse(agent.created_at))}`],
    ["Last seen", formatAgo(agent.last_seen, now)],
    ["Deps", `${agent.dependencies_resolved}/${agent.total_dependencies} resolved`],
  ];
  const lines = facts.map(([key, value]) => `${paint("bold", key.padEnd(10))} ${value}`);
  lines.push("", paint("bold", "Tools"));
  lines.push(
    agent.capabilities.length
      ? indent(formatToolTable(toolRows([agent]), paint, { showAgent: false }))
      : "  (none)",
  );
  lines.push("", paint("bold", "Dependencies"));
  if (agent.dependency_resolutions.length === 0) {
    lines.push("  (none)");
  } else {
    const rows = agent.dependency_resolutions.map((dependency) => [
      dependency.function_name,
      dependency.capability,
      paint(dependency.status === "available" ? "green" : "yellow", dependency.status),
      dependency.provider_agent_id
        ? `${dependency.provider_agent_id}:${dependency.mcp_tool ?? "?"}`
        : "-",
      dependency.endpoint ?? "-",
    ]);
    lines.push(
      indent(formatTable(["TOOL", "NEEDS", "STATUS", "RESOLVED TO", "ENDPOINT"], rows)),
    );
  }
  return lines.join("\n");
}

function indent(text: string): string {
  return text.split("\n").map((line) => `  ${line}`).join("\n");
}
