/**
 * JSON text of `POST /heartbeat` answers, put together from cached fragments.
 *
 * A provider is listed in the answers of every agent depending on it, so the
 * JSON of each provider is built once and kept on it ({@linkcode Provider.listedJson};
 * providers are immutable, a changed agent gets new ones). The JSON of a
 * dependency's resolution and of a whole answer are concatenated from those
 * fragments with `+`: V8 keeps such a string as a tree of its pieces and
 * copies them once, when the answer is written out, so no intermediate
 * arrays or copies are made on the way.
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
 * JSON of one entry of `dependencies_resolved[function]`: the chosen
 * provider's fields, then every available provider.
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
  let text = chosenOf(provider) + ',"providers":[';
  for (let position = 0; position < providers.length; position++) {
    if (position > 0) text += ",";
    text += listedOf(providers[position]);
  }
  return text + "]}";
}

/**
 * JSON of a whole answer: `fields` with `dependencies_resolved` (function
 * name → the JSON of its aligned entries, see
 * {@linkcode dependencyResolutionJson}).
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
  dependenciesResolved: ReadonlyMap<string, readonly JsonText<unknown>[]>,
): JsonText<MeshRegistrationResponse> {
  const { status, timestamp, message, agent_id, warnings } = fields;
  let text = JSON.stringify({ status, timestamp, message, agent_id }).slice(0, -1) +
    ',"dependencies_resolved":{';
  let separator = "";
  for (const [functionName, entries] of dependenciesResolved) {
    text += separator + JSON.stringify(functionName) + ":[";
    separator = ",";
    for (let position = 0; position < entries.length; position++) {
      if (position > 0) text += ",";
      text += entries[position];
    }
    text += "]";
  }
  text += "}";
  if (warnings !== undefined) text += ',"warnings":' + JSON.stringify(warnings);
  return text + "}";
}

/** JSON of a provider as the chosen one of a {@linkcode ResolvedDependency}, minus the `}`. */
function chosenOf(provider: Provider): string {
  let text = provider.chosenJson;
  if (text === undefined) {
    const chosen: ResolvedDependency = {
      agent_id: provider.agentId,
      function_name: provider.functionName,
      endpoint: provider.endpoint,
      capability: provider.capability,
      status: "available",
    };
    if (provider.kwargs !== undefined) chosen.kwargs = provider.kwargs;
    text = provider.chosenJson = JSON.stringify(chosen).slice(0, -1);
  }
  return text;
}

/** JSON of a provider as a {@linkcode ResolvedProvider}. */
function listedOf(provider: Provider): string {
  let text = provider.listedJson;
  if (text === undefined) {
    const listed: ResolvedProvider = {
      agent_id: provider.agentId,
      function_name: provider.functionName,
      endpoint: provider.endpoint,
      version: provider.version,
    };
    if (provider.kwargs !== undefined) listed.kwargs = provider.kwargs;
    text = provider.listedJson = JSON.stringify(listed);
  }
  return text;
}
