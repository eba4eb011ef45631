/**
 * JSON text of `POST /heartbeat` answers, assembled from cached fragments.
 *
 * A provider is listed in the answers of every agent depending on it, so the
 * JSON of each provider is built once and kept on it ({@linkcode Provider.json};
 * providers are immutable, a changed agent gets new ones) and answers are concatenated from these fragments
 * instead of serializing the same objects again on every heartbeat. Plain
 * `+=` concatenation lets the engine copy the text once, when it is sent;
 * `Array.join` would copy it at every level.
 *
 * @module
 */

import type {
  MeshRegistrationResponse,
  ResolvedDependency,
  ResolvedProvider,
  UnresolvedDependency,
} from "@mesh/sdk/protocol";
import type { Provider, RankedResolution } from "./resolver.ts";

/** JSON text encoding a `T`. */
export type JsonText<T> = string & { readonly __jsonOf?: T };

/**
 * JSON of one entry of `dependencies_resolved[function]`.
 *
 * @example
 * ```ts
 * import { dependencyResolutionJson } from "./response_json.ts";
 * dependencyResolutionJson({ spec: { capability: "geo" }, providers: [] });
 * // '{"capability":"geo","status":"unresolved"}'
 * ```
 */
export function dependencyResolutionJson(
  { spec, provider, providers }: RankedResolution,
): JsonText<ResolvedDependency | UnresolvedDependency> {
  if (provider === undefined) {
    const unresolved: UnresolvedDependency = { capability: spec.capability, status: "unresolved" };
    return JSON.stringify(unresolved);
  }
  let json = `${chosenOf(provider)},"providers":[`;
  for (const [position, listed] of providers.entries()) {
    if (position > 0) json += ",";
    json += listedOf(listed);
  }
  return `${json}]}`;
}

/**
 * JSON of a whole answer: `fields` with `dependencies_resolved` (function
 * name → JSON of its aligned entries, see {@linkcode dependencyResolutionJson}).
 *
 * @example
 * ```ts
 * import { registrationResponseJson } from "./response_json.ts";
 * const text = registrationResponseJson(
 *   { status: "success", timestamp: "2026-01-01T00:00:00.000Z", message: "ok", agent_id: "a" },
 *   new Map([["f", ['{"capability":"geo","status":"unresolved"}']]]),
 * );
 * JSON.parse(text).dependencies_resolved.f[0].status; // "unresolved"
 * ```
 */
export function registrationResponseJson(
  fields: Omit<MeshRegistrationResponse, "dependencies_resolved">,
  dependenciesResolved: ReadonlyMap<string, readonly string[]>,
): JsonText<MeshRegistrationResponse> {
  const { warnings, ...head } = fields;
  let json = `${JSON.stringify(head).slice(0, -1)},"dependencies_resolved":{`;
  let separator = "";
  for (const [functionName, entries] of dependenciesResolved) {
    json += `${separator}${JSON.stringify(functionName)}:[`;
    for (const [position, entry] of entries.entries()) {
      if (position > 0) json += ",";
      json += entry;
    }
    json += "]";
    separator = ",";
  }
  json += "}";
  if (warnings !== undefined) json += `,"warnings":${JSON.stringify(warnings)}`;
  return `${json}}`;
}

/** JSON of a provider as the chosen one of a {@linkcode ResolvedDependency}, minus the `}`. */
function chosenOf(provider: Provider): string {
  const json = provider.json ??= {};
  let text = json.chosen;
  if (text === undefined) {
    const chosen: ResolvedDependency = {
      agent_id: provider.agentId,
      function_name: provider.functionName,
      endpoint: provider.endpoint,
      capability: provider.capability,
      status: "available",
    };
    if (provider.kwargs !== undefined) chosen.kwargs = provider.kwargs;
    text = json.chosen = JSON.stringify(chosen).slice(0, -1);
  }
  return text;
}

/** JSON of a provider as a {@linkcode ResolvedProvider}. */
function listedOf(provider: Provider): string {
  const json = provider.json ??= {};
  let text = json.listed;
  if (text === undefined) {
    const listed: ResolvedProvider = {
      agent_id: provider.agentId,
      function_name: provider.functionName,
      endpoint: provider.endpoint,
      version: provider.version,
    };
    if (provider.kwargs !== undefined) listed.kwargs = provider.kwargs;
    text = json.listed = JSON.stringify(listed);
  }
  return text;
}
