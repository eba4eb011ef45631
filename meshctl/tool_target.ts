/**
 * Finding which agent provides a tool: `[agent:]tool` references resolved
 * against the registry's agent list, by tool name or capability.
 *
 * @module
 */

import type { AgentInfo, AgentStatus, CapabilityInfo } from "@mesh/sdk/protocol";
import { unknownNameHint } from "./closest.ts";
import { CliError, UsageError } from "./errors.ts";

/** A parsed `[agent:]tool` reference. */
export interface ToolRef {
  /** Agent id or name, when given. */
  agent?: string;
  /** Tool name or capability. */
  tool: string;
}

/** A provider chosen for a call. */
export interface ToolTarget {
  /** The providing agent. */
  agent: AgentInfo;
  /** The capability entry whose `function_name` is the MCP tool to call. */
  capability: CapabilityInfo;
}

/**
 * Splits `agent:tool` (or just `tool`) into its parts.
 *
 * @throws {UsageError} when either part is empty.
 */
export function parseToolRef(ref: string): ToolRef {
  const colon = ref.lastIndexOf(":");
  const agent = colon >= 0 ? ref.slice(0, colon) : undefined;
  const tool = ref.slice(colon + 1);
  if (!tool || agent === "") {
    throw new UsageError(`invalid tool reference "${ref}": expected tool or agent-id:tool`);
  }
  return agent === undefined ? { tool } : { agent, tool };
}

const STATUS_RANK: Record<AgentStatus, number> = {
  healthy: 0,
  degraded: 1,
  unhealthy: 2,
  offline: 3,
};

/**
 * The best provider of `ref` among `agents`: an exact tool-name match beats
 * a capability match, a healthy agent beats a degraded one, and the most
 * recently seen wins ties. Unhealthy and offline agents are never chosen.
 *
 * @throws {CliError} naming the closest agents or tools when nothing matches.
 */
export function chooseProvider(agents: AgentInfo[], ref: ToolRef): ToolTarget {
  const scoped = ref.agent
    ? agents.filter((agent) => agent.id === ref.agent || agent.name === ref.agent)
    : agents;
  if (ref.agent && scoped.length === 0) {
    throw new CliError(
      `no agent "${ref.agent}" in the registry${unknownAgentHint(ref.agent, agents)}`,
    );
  }
  const matches: (ToolTarget & { rank: number })[] = [];
  for (const agent of scoped) {
    for (const capability of agent.capabilities) {
      const byTool = capability.function_name === ref.tool;
      if (!byTool && capability.name !== ref.tool) continue;
      matches.push({ agent, capability, rank: (byTool ? 0 : 10) + STATUS_RANK[agent.status] });
    }
  }
  const usable = matches.filter((match) =>
    match.agent.status === "healthy" || match.agent.status === "degraded"
  );
  if (usable.length === 0) {
    if (matches.length > 0) {
      const owners = [
        ...new Set(matches.map((match) => `${match.agent.id} (${match.agent.status})`)),
      ];
      throw new CliError(
        `"${ref.tool}" is provided only by agents that are not healthy: ${owners.join(", ")}; ` +
          "use --agent-url to call one anyway",
      );
    }
    const capabilities = scoped.flatMap((agent) => agent.capabilities);
    const hint = unknownNameHint(
      ref.tool,
      capabilities.flatMap((capability) => [capability.function_name, capability.name]),
      "tools",
      capabilities.map((capability) => capability.function_name),
    );
    const where = ref.agent ? ` on agent "${ref.agent}"` : "";
    throw new CliError(`unknown tool "${ref.tool}"${where}${hint}`);
  }
  usable.sort((a, b) =>
    a.rank - b.rank || Date.parse(b.agent.last_seen) - Date.parse(a.agent.last_seen)
  );
  const { agent, capability } = usable[0];
  return { agent, capability };
}

/**
 * The tail of a "no agent" message: the ids or names of `agents` close to
 * `ref`, else every agent id (see {@linkcode unknownNameHint}).
 */
export function unknownAgentHint(ref: string, agents: AgentInfo[]): string {
  return unknownNameHint(
    ref,
    agents.flatMap((agent) => [agent.id, agent.name]),
    "agents",
    agents.map((agent) => agent.id),
  );
}

/** The MCP endpoint of an agent base URL (`{endpoint}/mcp`), left alone if it already ends so. */
export function mcpUrl(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(`invalid agent URL "${endpoint}" (expected e.g. http://127.0.0.1:9000)`);
  }
  if (!url.pathname.replace(/\/+$/, "").endsWith("/mcp")) {
    url.pathname = `${url.pathname.replace(/\/+$/, "")}/mcp`;
  }
  return url;
}
