/**
 * JSON text of `POST /heartbeat` answers, assembled from cached fragments.
 *
 * A provider is listed in the answers of every agent depending on it, so the
 * JSON of each provider is built once and kept on it ({@linkcode Provider.json};
 * providers are immutable, a changed agent gets new ones). A dependency's
 * resolution is a list of such fragments ({@linkcode dependencyResolutionParts},
 * cheap to keep: it only points at them), and an answer joins the fragments
 * of all its dependencies once, into one flat string: no intermediate copies,
 * and little garbage per answer.
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

/** JSON text of a value, as a list of pieces to concatenate. */
export type JsonParts<T> = readonly string[] & { readonly __jsonOf?: T };

/**
 * JSON of one entry of `dependencies_resolved[function]`, in pieces (see
 * {@linkcode dependencyResolutionJson} for the whole text).
 *
 * @example
 * ```ts
 * import { dependencyResolutionParts } from "./response_json.ts";
 * dependencyResolutionParts({ spec: { capability: "geo" }, providers: [] }).join("");
 * // '{"capability":"geo","status":"unresolved"}'
 * ```
 */
export function dependencyResolutionParts(
  { spec, provider, providers }: RankedResolution,
): JsonParts<ResolvedDependency | UnresolvedDependency> {
  if (provider === undefined) {
    const unresolved: UnresolvedDependency = { capability: spec.capability, status: "unresolved" };
    return [JSON.stringify(unresolved)];
  }
  // Sized up front: chosen, opening, each provider after its separator, closing.
  const parts = new Array<string>(2 * providers.length + 3);
  parts[0] = chosenOf(provider);
  parts[1] = ',"providers":[';
  for (let position = 0; position < providers.length; position++) {
    parts[2 * position + 2] = position === 0 ? "" : ",";
    parts[2 * position + 3] = listedOf(providers[position]);
  }
  parts[parts.length - 1] = "]}";
  return parts;
}

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
  resolution: RankedResolution,
): JsonText<ResolvedDependency | UnresolvedDependency> {
  return dependencyResolutionParts(resolution).join("");
}

/**
 * JSON of a whole answer: `fields` with `dependencies_resolved` (function
 * name → its aligned entries, each in pieces: see
 * {@linkcode dependencyResolutionParts}).
 *
 * @example
 * ```ts
 * import { registrationResponseJson } from "./response_json.ts";
 * const text = registrationResponseJson(
 *   { status: "success", timestamp: "2026-01-01T00:00:00.000Z", message: "ok", agent_id: "a" },
 *   new Map([["f", [['{"capability":"geo","status":"unresolved"}']]]]),
 * );
 * JSON.parse(text).dependencies_resolved.f[0].status; // "unresolved"
 * ```
 */
export function registrationResponseJson(
  fields: Omit<MeshRegistrationResponse, "dependencies_resolved">,
  dependenciesResolved: ReadonlyMap<string, readonly JsonParts<unknown>[]>,
): JsonText<MeshRegistrationResponse> {
  const { warnings, ...head } = fields;
  // Sized up front (each function: separator, name, "[", each entry after a
  // separator, "]"), then filled in order: no growing, no copies.
  let count = 5;
  for (const entries of dependenciesResolved.values()) {
    count += 4;
    for (const entry of entries) count += 1 + entry.length;
  }
  const parts = new Array<string>(count);
  let at = 0;
  parts[at++] = JSON.stringify(head).slice(0, -1);
  parts[at++] = ',"dependencies_resolved":{';
  let separator = "";
  for (const [functionName, entries] of dependenciesResolved) {
    parts[at++] = separator;
    separator = ",";
    parts[at++] = JSON.stringify(functionName);
    parts[at++] = ":[";
    for (const [position, entry] of entries.entries()) {
      parts[at++] = position > 0 ? "," : "";
      for (const part of entry) parts[at++] = part;
    }
    parts[at++] = "]";
  }
  parts[at++] = "}";
  parts[at++] = warnings === undefined ? "" : `,"warnings":${JSON.stringify(warnings)}`;
  parts[at++] = "}";
  return parts.join("");
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
