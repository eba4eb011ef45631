/**
 * Registry answers built in code for the unit tests of pure formatting and
 * selection functions.
 *
 * @module
 */

import type { AgentInfo, CapabilityInfo } from "@mesh/sdk/protocol";

/** A capability providing `name` through tool `functionName`. */
export function capability(
  functionName: string,
  name: string,
  extra: Partial<CapabilityInfo> = {},
): CapabilityInfo {
  return {
    name,
    version: "1.0.0",
    function_name: functionName,
    tags: [],
    available: true,
    ...extra,
  };
}

/** An agent with sensible defaults, overridable per field. */
export function agentInfo(id: string, extra: Partial<AgentInfo> = {}): AgentInfo {
  return {
    id,
    name: id.replace(/-[0-9a-f]{8}$/, ""),
    agent_type: "mcp_agent",
    status: "healthy",
    endpoint: "http://127.0.0.1:9000",
    capabilities: [],
    total_dependencies: 0,
    dependencies_resolved: 0,
    dependency_resolutions: [],
    created_at: "2025-01-01T00:00:00Z",
    last_seen: "2025-01-01T00:00:50Z",
    version: "1.0.0",
    namespace: "default",
    ...extra,
  };
}
