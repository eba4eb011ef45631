/**
 * Validation and normalization of `POST /heartbeat` bodies.
 *
 * Unknown fields are ignored (the mcp-mesh spec evolves); wrong types,
 * missing required fields, bad agent ids and too many tools are reported with
 * the path of the offending field, such as `tools[2].capability`.
 *
 * @module
 */

import { z } from "zod";
import {
  AGENT_ID_PATTERN,
  MAX_TOOLS_PER_AGENT,
  type MeshAgentRegistration,
  type MeshDependencyEntry,
  type MeshToolDependencyRegistration,
  type MeshToolKwargs,
  type MeshToolRegistration,
} from "@mesh/sdk/protocol";
import type { AgentContent, StoredTool } from "./store.ts";

/** Longest agent description kept; longer ones are truncated with a warning. */
export const MAX_DESCRIPTION_LENGTH = 256;

const jsonObject = z.record(z.string(), z.unknown());

const kwargsSchema: z.ZodType<MeshToolKwargs> = z.looseObject({
  timeout: z.number().nonnegative().optional(),
  retry_count: z.int().nonnegative().optional(),
  custom_headers: z.record(z.string(), z.string()).optional(),
  streaming: z.boolean().optional(),
  auth_required: z.boolean().optional(),
  session_required: z.boolean().optional(),
});

const dependencySchema: z.ZodType<MeshToolDependencyRegistration> = z.object({
  capability: z.string().min(1),
  tags: z.array(z.union([z.string(), z.array(z.string())])).optional(),
  version: z.string().optional(),
  namespace: z.string().optional(),
  required: z.boolean().optional(),
});

const dependencyEntrySchema: z.ZodType<MeshDependencyEntry> = z.union([
  dependencySchema,
  z.array(dependencySchema).min(1),
]);

const toolSchema: z.ZodType<MeshToolRegistration> = z.object({
  function_name: z.string().min(1),
  capability: z.string().min(1),
  version: z.string().optional(),
  tags: z.array(z.string()).optional(),
  dependencies: z.array(dependencyEntrySchema).optional(),
  description: z.string().optional(),
  inputSchema: jsonObject.optional(),
  outputSchema: jsonObject.optional(),
  kwargs: kwargsSchema.optional(),
});

const registrationSchema: z.ZodType<MeshAgentRegistration> = z.object({
  agent_id: z.string().regex(AGENT_ID_PATTERN, {
    error: `must match ${AGENT_ID_PATTERN.source}`,
  }),
  agent_type: z.enum(["mcp_agent", "api", "a2a"]).optional(),
  runtime: z.string().optional(),
  name: z.string().min(1).optional(),
  version: z.string().optional(),
  description: z.string().optional(),
  http_host: z.string().optional(),
  http_port: z.int().min(0).max(65535).optional(),
  timestamp: z.string().optional(),
  namespace: z.string().min(1).optional(),
  tools: z.array(toolSchema).max(MAX_TOOLS_PER_AGENT, {
    error: `at most ${MAX_TOOLS_PER_AGENT} tools per agent`,
  }),
});

/** A rejected body: the first offending field and a one-line message. */
export interface ValidationFailure {
  /** Always false. */
  ok: false;
  /** Path of the offending field (`"body"` for the body itself). */
  field: string;
  /** What is wrong with it. */
  message: string;
}

/** An accepted body, normalized. */
export interface ValidationSuccess {
  /** Always true. */
  ok: true;
  /** The agent's content with defaults filled in. */
  content: AgentContent;
  /** Non-fatal advisories (for example a truncated description). */
  warnings: string[];
}

/** Outcome of {@linkcode validateRegistration}. */
export type ValidationResult = ValidationSuccess | ValidationFailure;

/**
 * Validates a parsed JSON body of `POST /heartbeat` and normalizes it.
 *
 * @example
 * ```ts
 * import { validateRegistration } from "./validate.ts";
 * const result = validateRegistration({ agent_id: "a", tools: [] });
 * if (result.ok) console.log(result.content.namespace); // "default"
 * ```
 */
export function validateRegistration(body: unknown): ValidationResult {
  const parsed = registrationSchema.safeParse(body);
  if (!parsed.success) return failure(parsed.error.issues[0]);
  const registration = parsed.data;
  const seen = new Set<string>();
  for (const [index, tool] of registration.tools.entries()) {
    if (seen.has(tool.function_name)) {
      return {
        ok: false,
        field: `tools[${index}].function_name`,
        message: `duplicate function_name "${tool.function_name}"`,
      };
    }
    seen.add(tool.function_name);
  }
  const warnings: string[] = [];
  return { ok: true, content: normalize(registration, warnings), warnings };
}

function normalize(registration: MeshAgentRegistration, warnings: string[]): AgentContent {
  const content: AgentContent = {
    id: registration.agent_id,
    name: registration.name ?? registration.agent_id,
    agent_type: registration.agent_type ?? "mcp_agent",
    version: registration.version ?? "1.0.0",
    http_host: registration.http_host ?? "",
    http_port: registration.http_port ?? 0,
    namespace: registration.namespace ?? "default",
    tools: registration.tools.map(normalizeTool),
  };
  if (registration.runtime !== undefined) content.runtime = registration.runtime;
  if (registration.description !== undefined) {
    const trimmed = registration.description.trim();
    if (trimmed.length > MAX_DESCRIPTION_LENGTH) {
      warnings.push(
        `description truncated from ${trimmed.length} to ${MAX_DESCRIPTION_LENGTH} chars`,
      );
    }
    content.description = trimmed.slice(0, MAX_DESCRIPTION_LENGTH);
  }
  return content;
}

function normalizeTool(tool: MeshToolRegistration): StoredTool {
  const stored: StoredTool = {
    function_name: tool.function_name,
    capability: tool.capability,
    version: tool.version || "1.0.0",
    tags: tool.tags ?? [],
    dependencies: tool.dependencies ?? [],
  };
  if (tool.description !== undefined) stored.description = tool.description;
  if (tool.inputSchema !== undefined) stored.inputSchema = tool.inputSchema;
  if (tool.outputSchema !== undefined) stored.outputSchema = tool.outputSchema;
  if (tool.kwargs !== undefined) stored.kwargs = tool.kwargs;
  return stored;
}

function failure(issue: z.core.$ZodIssue | undefined): ValidationFailure {
  if (issue === undefined) return { ok: false, field: "body", message: "invalid body" };
  const { path, message } = innermostIssue(issue, []);
  const field = formatPath(path);
  return { ok: false, field, message };
}

/**
 * For a union, reports the issue of the branch whose type matched the input
 * (an object spec or a fallback array) instead of a bare "invalid input".
 */
function innermostIssue(
  issue: z.core.$ZodIssue,
  prefix: PropertyKey[],
): { path: PropertyKey[]; message: string } {
  const path = [...prefix, ...issue.path];
  if (issue.code === "invalid_union") {
    for (const branch of issue.errors) {
      const typeMismatch = branch.some((inner) =>
        inner.path.length === 0 && inner.code === "invalid_type"
      );
      if (!typeMismatch && branch[0] !== undefined) return innermostIssue(branch[0], path);
    }
  }
  return { path, message: issue.message };
}

function formatPath(path: readonly PropertyKey[]): string {
  let field = "";
  for (const key of path) {
    field += typeof key === "number" ? `[${key}]` : field === "" ? String(key) : `.${String(key)}`;
  }
  return field === "" ? "body" : field;
}
