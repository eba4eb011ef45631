/**
 * The registry's HTTP API (mcp-mesh registry routes) over a
 * {@linkcode MeshRegistry}.
 *
 * Every error answer is JSON `{error, timestamp, details}`; an unexpected
 * exception becomes a 500 answer, never a crash.
 *
 * @module
 */

import {
  AGENT_ID_PATTERN,
  type AgentsListResponse,
  type AgentStatus,
  DEFAULT_EVENTS_LIMIT,
  type ErrorResponse,
  type EventsHistoryResponse,
  type HealthResponse,
  MAX_BODY_BYTES,
  MAX_EVENTS_LIMIT,
  REGISTRY_EVENT_TYPES,
  type RegistryEventType,
  type RootResponse,
} from "@mesh/sdk/protocol";
import type { TokenCheck } from "./auth.ts";
import { type MeshRegistry, StoreUnavailableError } from "./registry.ts";
import { validateRegistration } from "./validate.ts";
import denoJson from "./deno.json" with { type: "json" };

/** Version the registry reports in `GET /health` and `GET /`. */
export const REGISTRY_VERSION: string = denoJson.version;

/** Service identifier reported in `GET /health` and `GET /`. */
export const SERVICE_NAME = "mcp-mesh-registry";

const ENDPOINTS = [
  "GET /",
  "GET /health",
  "HEAD /health",
  "POST /heartbeat",
  "HEAD /heartbeat/{agent_id}",
  "GET /agents",
  "GET /agents/{agent_id}",
  "DELETE /agents/{agent_id}",
  "GET /events",
];

const AGENT_STATUSES: readonly AgentStatus[] = ["healthy", "degraded", "unhealthy", "offline"];

/** A request handler for `Deno.serve`. */
export type Handler = (request: Request) => Promise<Response>;

/** A client error carrying the offending field. */
class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Options of {@linkcode createHandler}. */
export interface HandlerOptions {
  /**
   * When set, the write routes (`POST /heartbeat`, `HEAD /heartbeat/{id}`,
   * `DELETE /agents/{id}`) answer 401 to requests it rejects; reads stay open.
   */
  authorize?: TokenCheck;
}

/**
 * Creates the HTTP handler of the registry API.
 *
 * @example
 * ```ts
 * import { createHandler } from "./http.ts";
 * import { MeshRegistry } from "./registry.ts";
 * import { SqliteStore } from "./sqlite_store.ts";
 * const registry = new MeshRegistry(new SqliteStore(":memory:"), {
 *   healthCheckIntervalMs: 10_000, timeoutThresholdMs: 20_000, evictionThresholdMs: 60_000,
 * });
 * const handler = createHandler(registry, registry.start());
 * const response = await handler(new Request("http://registry/health"));
 * console.log(response.status); // 200
 * await registry.close();
 * ```
 */
export function createHandler(
  registry: MeshRegistry,
  ready: Promise<void>,
  options: HandlerOptions = {},
): Handler {
  let started = false;
  ready.then(() => started = true, () => {});
  const { authorize } = options;
  return async (request) => {
    try {
      if (!started) await ready;
      if (authorize !== undefined && isWrite(request) && !authorize(request)) {
        return unauthorized(request);
      }
      return await route(registry, request);
    } catch (error) {
      if (error instanceof BadRequest) {
        return errorResponse(error.status, error.message, error.details);
      }
      if (error instanceof StoreUnavailableError) {
        return request.method === "HEAD"
          ? new Response(null, { status: 503 })
          : errorResponse(503, error.message, {});
      }
      return errorResponse(500, "internal registry error", {
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  };
}

function route(registry: MeshRegistry, request: Request): Promise<Response> | Response {
  const { method } = request;
  const path = pathOf(request.url);
  if (path.startsWith("/heartbeat/")) {
    if (method !== "HEAD") return methodNotAllowed(["HEAD"]);
    const agentId = path.slice("/heartbeat/".length);
    const status = AGENT_ID_PATTERN.test(agentId) ? registry.fastHeartbeat(agentId) : 400;
    return new Response(null, { status });
  }
  switch (path) {
    case "/heartbeat":
      return method === "POST" ? heartbeat(registry, request) : methodNotAllowed(["POST"]);
    case "/agents":
      return method === "GET" ? listAgents(registry, request) : methodNotAllowed(["GET"]);
    case "/events":
      return method === "GET" ? listEvents(registry, request) : methodNotAllowed(["GET"]);
    case "/health":
      if (method === "HEAD") return new Response(null, { status: 200 });
      return method === "GET" ? health(registry) : methodNotAllowed(["GET", "HEAD"]);
    case "/":
      return method === "GET" ? root() : methodNotAllowed(["GET"]);
  }
  if (path.startsWith("/agents/")) {
    const agentId = path.slice("/agents/".length);
    if (method === "GET") return getAgent(registry, agentIdParam(agentId));
    if (method === "DELETE") return deleteAgent(registry, agentIdParam(agentId));
    return methodNotAllowed(["GET", "DELETE"]);
  }
  return errorResponse(404, `no route ${method} ${path}`, { path });
}

/** Whether a request is one of the write routes (they change what the registry stores). */
function isWrite({ method, url }: Request): boolean {
  if (method !== "POST" && method !== "HEAD" && method !== "DELETE") return false;
  const path = pathOf(url);
  return method === "POST"
    ? path === "/heartbeat"
    : path.startsWith(method === "HEAD" ? "/heartbeat/" : "/agents/");
}

function unauthorized(request: Request): Response {
  const headers = { "www-authenticate": 'Bearer realm="mcp-mesh-registry"' };
  if (request.method === "HEAD") return new Response(null, { status: 401, headers });
  const response = errorResponse(401, "missing or invalid bearer token", {
    header: "Authorization",
  });
  response.headers.set("www-authenticate", headers["www-authenticate"]);
  return response;
}

async function heartbeat(registry: MeshRegistry, request: Request): Promise<Response> {
  const body = await readJson(request);
  const result = validateRegistration(body);
  if (!result.ok) {
    throw new BadRequest(400, `invalid ${result.field}: ${result.message}`, {
      field: result.field,
    });
  }
  const response = await registry.heartbeat(result.content, result.warnings);
  return new Response(response, { headers: { "content-type": "application/json" } });
}

function listAgents(registry: MeshRegistry, request: Request): Response {
  const query = new URL(request.url).searchParams;
  const status = query.get("status") ?? undefined;
  if (status !== undefined && !AGENT_STATUSES.includes(status as AgentStatus)) {
    throw new BadRequest(400, `invalid status: expected one of ${AGENT_STATUSES.join(", ")}`, {
      field: "status",
    });
  }
  const capability = query.get("capability") ?? undefined;
  if (capability === "") {
    throw new BadRequest(400, "invalid capability: must not be empty", { field: "capability" });
  }
  const agents = registry.listAgents({ capability, status: status as AgentStatus | undefined });
  const response: AgentsListResponse = { agents, count: agents.length, timestamp: now() };
  return json(200, response);
}

function getAgent(registry: MeshRegistry, agentId: string): Response {
  const agent = registry.getAgent(agentId);
  if (agent === undefined) {
    return errorResponse(404, `agent ${agentId} not found`, { agent_id: agentId });
  }
  return json(200, agent);
}

async function deleteAgent(registry: MeshRegistry, agentId: string): Promise<Response> {
  await registry.unregister(agentId);
  return new Response(null, { status: 204 });
}

async function listEvents(registry: MeshRegistry, request: Request): Promise<Response> {
  const query = new URL(request.url).searchParams;
  const type = query.get("type") ?? undefined;
  if (type !== undefined && !REGISTRY_EVENT_TYPES.includes(type as RegistryEventType)) {
    throw new BadRequest(400, `invalid type: expected one of ${REGISTRY_EVENT_TYPES.join(", ")}`, {
      field: "type",
    });
  }
  const agentId = query.get("agent_id") ?? undefined;
  if (agentId !== undefined) agentIdParam(agentId);
  const limitText = query.get("limit");
  const limit = limitText === null ? DEFAULT_EVENTS_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS_LIMIT || limitText === "") {
    throw new BadRequest(400, `invalid limit: expected an integer 1..${MAX_EVENTS_LIMIT}`, {
      field: "limit",
    });
  }
  const events = await registry.listEvents({
    type: type as RegistryEventType | undefined,
    agent_id: agentId,
    limit,
  });
  const response: EventsHistoryResponse = { events, count: events.length };
  return json(200, response);
}

function health(registry: MeshRegistry): Response {
  const response: HealthResponse = {
    status: registry.storeHealthy ? "healthy" : "degraded",
    version: REGISTRY_VERSION,
    uptime_seconds: Math.floor((Date.now() - registry.startedAt) / 1000),
    timestamp: now(),
    service: SERVICE_NAME,
  };
  return json(200, response);
}

function root(): Response {
  const response: RootResponse = {
    service: SERVICE_NAME,
    version: REGISTRY_VERSION,
    status: "running",
    endpoints: ENDPOINTS,
  };
  return json(200, response);
}

function agentIdParam(agentId: string): string {
  if (!AGENT_ID_PATTERN.test(agentId)) {
    throw new BadRequest(400, `invalid agent_id: must match ${AGENT_ID_PATTERN.source}`, {
      field: "agent_id",
    });
  }
  return agentId;
}

/**
 * Reads a JSON body of at most {@linkcode MAX_BODY_BYTES}: a declared
 * Content-Length is checked up front (the server holds the body to it) and
 * the body read as text at once; a body without one is counted while
 * streaming. (Touching `request.body` builds a stream, which costs as much
 * as reading a small body: the common case stays clear of it.)
 */
async function readJson(request: Request): Promise<unknown> {
  const tooLarge = () =>
    new BadRequest(413, `request body exceeds ${MAX_BODY_BYTES} bytes`, {
      field: "body",
      max_bytes: MAX_BODY_BYTES,
    });
  const declared = request.headers.get("content-length");
  let text: string;
  if (declared !== null) {
    if (Number(declared) > MAX_BODY_BYTES) {
      await request.body?.cancel();
      throw tooLarge();
    }
    text = await request.text();
  } else {
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    let size = 0;
    for await (const chunk of request.body ?? []) {
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) throw tooLarge();
      chunks.push(chunk);
    }
    text = await new Blob(chunks).text();
  }
  if (text === "") throw new BadRequest(400, "invalid body: empty", { field: "body" });
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadRequest(400, `invalid body: malformed JSON (${(error as Error).message})`, {
      field: "body",
    });
  }
}

/** Path of a request URL without parsing the whole URL. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.indexOf("?", start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

function now(): string {
  return new Date().toISOString();
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function errorResponse(status: number, error: string, details: Record<string, unknown>): Response {
  const body: ErrorResponse = { error, timestamp: now(), details };
  return json(status, body);
}

function methodNotAllowed(allowed: string[]): Response {
  const response = errorResponse(405, `method not allowed; use ${allowed.join(", ")}`, {
    allowed,
  });
  response.headers.set("allow", allowed.join(", "));
  return response;
}
