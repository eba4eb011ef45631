/**
 * Builds the `POST /heartbeat` body from an agent's configuration, its MCP
 * tool list and the mesh options of each tool.
 *
 * @module
 */

import type { Tool } from "@modelcontextprotocol/sdk/types";
import type { AgentConfig } from "./config.ts";
import type { DependencyFilter, DependencySpec, MeshToolOptions } from "./options.ts";
import type {
  MeshAgentRegistration,
  MeshDependencyEntry,
  MeshToolDependencyRegistration,
  MeshToolKwargs,
  MeshToolRegistration,
} from "./protocol.ts";

function toFilter(ref: string | DependencyFilter): MeshToolDependencyRegistration {
  if (typeof ref === "string") return { capability: ref };
  const { strategy: _consumerSide, ...filter } = ref;
  return filter;
}

/** Wire form of one declared dependency (an array stays a fallback chain). */
export function toDependencyEntry(spec: DependencySpec): MeshDependencyEntry {
  return Array.isArray(spec) ? spec.map(toFilter) : toFilter(spec);
}

/**
 * The `kwargs` consumers' proxies use, or undefined when the tool sets none;
 * `idempotentHint` (the MCP annotation) is the default of `idempotent`.
 */
export function toKwargs(
  options: MeshToolOptions,
  idempotentHint?: boolean,
): MeshToolKwargs | undefined {
  const kwargs: MeshToolKwargs = {
    timeout: options.timeout === undefined ? undefined : options.timeout / 1000,
    retry_count: options.retryCount,
    custom_headers: options.customHeaders,
    streaming: options.streaming,
    auth_required: options.authRequired,
    session_required: options.sessionRequired,
    idempotent: options.idempotent ?? idempotentHint,
  };
  const set = Object.entries(kwargs).filter(([, value]) => value !== undefined);
  return set.length ? Object.fromEntries(set) : undefined;
}

/** One tool's registration: its MCP listing merged with its mesh options. */
export function toToolRegistration(tool: Tool, options: MeshToolOptions): MeshToolRegistration {
  return {
    function_name: tool.name,
    capability: options.capability ?? tool.name,
    version: options.version ?? "1.0.0",
    tags: options.tags ?? [],
    description: tool.description,
    inputSchema: tool.inputSchema,
    outputSchema: tool.outputSchema,
    dependencies: (options.dependencies ?? []).map(toDependencyEntry),
    kwargs: toKwargs(options, tool.annotations?.idempotentHint),
  };
}

/** The full registration body of an agent. */
export function toAgentRegistration(
  config: AgentConfig,
  agentId: string,
  host: string,
  port: number,
  tools: MeshToolRegistration[],
): MeshAgentRegistration {
  return {
    agent_id: agentId,
    agent_type: "mcp_agent",
    runtime: "typescript",
    name: config.name,
    version: config.version,
    description: config.description,
    http_host: host,
    http_port: port,
    namespace: config.namespace,
    timestamp: new Date().toISOString(),
    tools,
  };
}
