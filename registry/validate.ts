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
  type MeshAgentType,
  type MeshDependencyEntry,
  type MeshToolDependencyRegistration,
  type MeshToolKwargs,
  type MeshToolRegistration,
} from "@mesh/sdk/protocol";
import type { AgentContent, StoredTool } from "./store.ts";

/** Longest agent description kept; longer ones are truncated with a warning. */
export const MAX_DESCRIPTION_LENGTH = 256;

const jsonObject = z.record(z.string(), z.unknown());

/** A host name or IPv4 address (letters, digits, `-`, `.`, `_`). */
const HOST_NAME = /^[A-Za-z0-9_.-]{1,253}$/;
/** An IPv6 address, with an optional zone, optionally in brackets. */
const IPV6_HOST =
  /^(?:\[[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?\]|[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?)$/;

/**
 * Whether `host` can stand in an agent's endpoint URL: empty (no host), a
 * host name, or an IPv4 or IPv6 address. Spaces, slashes, ports and the like
 * would make an endpoint nobody can call.
 *
 * @example
 * ```ts
 * import { isHttpHost } from "./validate.ts";
 * isHttpHost("10.0.0.5"); // true
 * isHttpHost("::1"); // true
 * isHttpHost("host/path"); // false
 * ```
 */
export function isHttpHost(host: string): boolean {
  // An IPv6 address has at least two colons.
  return host === "" || HOST_NAME.test(host) || (/:.*:/.test(host) && IPV6_HOST.test(host));
}

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

/**
 * The schema of a `POST /heartbeat` body. {@linkcode validateRegistration}
 * checks bodies with {@linkcode isRegistration} first and asks this schema
 * only for the message of a rejected body.
 */
export const registrationSchema: z.ZodType<MeshAgentRegistration> = z.object({
  agent_id: z.string().regex(AGENT_ID_PATTERN, {
    error: `must match ${AGENT_ID_PATTERN.source}`,
  }),
  agent_type: z.enum(["mcp_agent", "api", "a2a"]).optional(),
  runtime: z.string().optional(),
  name: z.string().min(1).optional(),
  version: z.string().optional(),
  description: z.string().optional(),
  http_host: z.string().refine(isHttpHost, {
    error: "must be a host name or an IP address",
  }).optional(),
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
  let registration: MeshAgentRegistration;
  if (isRegistration(body)) {
    registration = body;
  } else {
    const parsed = registrationSchema.safeParse(body);
    if (!parsed.success) return failure(parsed.error.issues[0]);
    registration = parsed.data;
  }
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

/**
 * Fast path of {@linkcode validateRegistration}: true only for a body that
 * {@linkcode registrationSchema} accepts (it never accepts more; a false
 * sends the body to the schema, which decides and explains).
 *
 * @example
 * ```ts
 * import { isRegistration } from "./validate.ts";
 * isRegistration({ agent_id: "a", tools: [] }); // true
 * isRegistration({ agent_id: "a b", tools: [] }); // false
 * ```
 */
export function isRegistration(body: unknown): body is MeshAgentRegistration {
  if (!isObject(body)) return false;
  const { agent_id, agent_type, http_port, name, namespace, tools } = body;
  return typeof agent_id === "string" && AGENT_ID_PATTERN.test(agent_id) &&
    (agent_type === undefined || AGENT_TYPES.includes(agent_type as MeshAgentType)) &&
    optionalString(body.runtime) && optionalString(name, 1) && optionalString(body.version) &&
    optionalString(body.description) &&
    (body.http_host === undefined ||
      (typeof body.http_host === "string" && isHttpHost(body.http_host))) &&
    (http_port === undefined ||
      (Number.isSafeInteger(http_port) && (http_port as number) >= 0 &&
        (http_port as number) <= 65535)) &&
    optionalString(body.timestamp) && optionalString(namespace, 1) &&
    Array.isArray(tools) && tools.length <= MAX_TOOLS_PER_AGENT && tools.every(isTool);
}

const AGENT_TYPES: readonly MeshAgentType[] = ["mcp_agent", "api", "a2a"];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown, minLength = 0): boolean {
  return value === undefined || (typeof value === "string" && value.length >= minLength);
}

function optional(value: unknown, check: (value: unknown) => boolean): boolean {
  return value === undefined || check(value);
}

function isStringArray(value: unknown): boolean {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function isStringRecord(value: unknown): boolean {
  return isObject(value) && Object.values(value).every((item) => typeof item === "string");
}

function isNonNegative(value: unknown): boolean {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

function isTool(tool: unknown): boolean {
  return isObject(tool) && typeof tool.function_name === "string" &&
    tool.function_name.length > 0 && typeof tool.capability === "string" &&
    tool.capability.length > 0 && optionalString(tool.version) &&
    optional(tool.tags, isStringArray) &&
    optional(tool.dependencies, (list) => Array.isArray(list) && list.every(isDependencyEntry)) &&
    optionalString(tool.description) && optional(tool.inputSchema, isObject) &&
    optional(tool.outputSchema, isObject) && optional(tool.kwargs, isKwargs);
}

function isKwargs(kwargs: unknown): boolean {
  return isObject(kwargs) && optional(kwargs.timeout, isNonNegative) &&
    optional(kwargs.retry_count, (n) => Number.isSafeInteger(n) && isNonNegative(n)) &&
    optional(kwargs.custom_headers, isStringRecord) &&
    optional(kwargs.streaming, isBoolean) && optional(kwargs.auth_required, isBoolean) &&
    optional(kwargs.session_required, isBoolean);
}

function isBoolean(value: unknown): boolean {
  return typeof value === "boolean";
}

function isDependencyEntry(entry: unknown): boolean {
  return Array.isArray(entry) ? entry.length > 0 && entry.every(isDependency) : isDependency(entry);
}

function isDependency(spec: unknown): boolean {
  return isObject(spec) && typeof spec.capability === "string" && spec.capability.length > 0 &&
    optional(
      spec.tags,
      (tags) =>
        Array.isArray(tags) &&
        tags.every((tag) => typeof tag === "string" || isStringArray(tag)),
    ) &&
    optionalString(spec.version) && optionalString(spec.namespace) &&
    optional(spec.required, isBoolean);
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
    dependencies: (tool.dependencies ?? []).map((entry) =>
      Array.isArray(entry) ? entry.map(normalizeDependency) : normalizeDependency(entry)
    ),
  };
  if (tool.description !== undefined) stored.description = tool.description;
  if (tool.inputSchema !== undefined) stored.inputSchema = tool.inputSchema;
  if (tool.outputSchema !== undefined) stored.outputSchema = tool.outputSchema;
  if (tool.kwargs !== undefined) stored.kwargs = tool.kwargs;
  return stored;
}

/** The known fields of a dependency spec (unknown ones are not stored). */
function normalizeDependency(spec: MeshToolDependencyRegistration): MeshToolDependencyRegistration {
  const normalized: MeshToolDependencyRegistration = { capability: spec.capability };
  if (spec.tags !== undefined) normalized.tags = spec.tags;
  if (spec.version !== undefined) normalized.version = spec.version;
  if (spec.namespace !== undefined) normalized.namespace = spec.namespace;
  if (spec.required !== undefined) normalized.required = spec.required;
  return normalized;
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
