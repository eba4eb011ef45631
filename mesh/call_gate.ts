/**
 * What an agent checks before it runs a `tools/call` that arrived over HTTP:
 * the caller's timeout budget, its own health, the bearer token of an
 * `authRequired` tool, and which replica owns the call's session (forwarding
 * the call there when it is not this one).
 *
 * @module
 */

import { SESSION_FORWARDED_HEADER, SESSION_OWNER_HEADER, sessionIdOf } from "./affinity.ts";
import { deadlineFrom, followClient } from "./call_context.ts";
import type { Logger } from "./log.ts";
import type { ToolCallInfo } from "./mcp_endpoint.ts";
import { bearerTokenOf, MESH_TIMEOUT_HEADER } from "./protocol.ts";
import type { SessionOwnerStore } from "./session_store.ts";

/** Checks a bearer token for a tool; true admits the call. */
export type TokenVerifier = (token: string, tool: string) => boolean | Promise<boolean>;

/** What the gate needs to know about its agent. */
export interface CallGateOptions {
  /** This agent's base URL (how session owners are named). */
  selfEndpoint: string;
  /** Settings of a tool by name: whether it needs a token or a session. */
  tool(name: string): { authRequired?: boolean; sessionRequired?: boolean };
  /** Checks tokens of `authRequired` tools; none configured rejects every call to them. */
  verifyToken?: TokenVerifier;
  /** Session owners, created on the first call of a `sessionRequired` tool. */
  sessions?: () => SessionOwnerStore;
  /** False while the agent's health check says it is unhealthy. */
  healthy(): boolean;
  /** Where warnings go. */
  logger: Logger;
}

/** JSON-RPC error code of a call refused before it ran. */
export const CALL_REFUSED = -32001;

/** A JSON-RPC error answer with an HTTP status. */
export function refusal(
  id: string | number,
  status: number,
  message: string,
  headers?: HeadersInit,
): Response {
  return Response.json(
    { jsonrpc: "2.0", id, error: { code: CALL_REFUSED, message } },
    { status, headers },
  );
}

function withOwnerHeader(response: Response, owner: string): Response {
  if (response.headers.get(SESSION_OWNER_HEADER) === owner) return response;
  const headers = new Headers(response.headers);
  headers.set(SESSION_OWNER_HEADER, owner);
  return new Response(response.body, { status: response.status, headers });
}

/** A verifier accepting exactly `expected`, compared in constant time. */
export function tokenEquals(expected: string): TokenVerifier {
  const want = new TextEncoder().encode(expected);
  return (token) => {
    const got = new TextEncoder().encode(token);
    let diff = got.length ^ want.length;
    for (let i = 0; i < want.length; i++) diff |= want[i] ^ (got[i] ?? 0);
    return diff === 0;
  };
}

/** The checks of {@linkcode CallGateOptions}, as a tool-call interceptor. */
export class CallGate {
  #options: CallGateOptions;

  /** Gates calls for the agent described by `options`. */
  constructor(options: CallGateOptions) {
    this.#options = options;
  }

  /** Runs the checks, then `next` (this replica runs the call) or a forward to the owner. */
  async intercept(call: ToolCallInfo, next: () => Promise<Response>): Promise<Response> {
    const deadline = deadlineFrom(call.request.headers.get(MESH_TIMEOUT_HEADER));
    if (deadline !== undefined && deadline <= Date.now()) {
      return refusal(call.id, 408, `tool ${call.name}: the caller's timeout budget is spent`);
    }
    if (!this.#options.healthy()) {
      return refusal(call.id, 503, `tool ${call.name}: this agent's health check fails`);
    }
    const settings = this.#options.tool(call.name);
    if (settings.authRequired && !(await this.#authorized(call))) {
      return refusal(call.id, 401, `tool ${call.name} requires a valid bearer token`, {
        "WWW-Authenticate": 'Bearer realm="mcp-mesh"',
      });
    }
    if (!settings.sessionRequired || !this.#options.sessions) return await next();
    const sessionId = sessionIdOf(call.args, call.request.headers);
    if (sessionId === undefined) return await next();
    const sessions = this.#options.sessions();
    const self = this.#options.selfEndpoint;
    const owner = await sessions.claim(sessionId, self);
    if (owner === self || call.request.headers.has(SESSION_FORWARDED_HEADER)) {
      return withOwnerHeader(await next(), self);
    }
    const forwarded = await this.#forward(call, owner);
    if (forwarded) return forwarded;
    // The owner is gone: this replica takes the session over.
    const after = await sessions.takeOver(sessionId, owner, self);
    this.#options.logger.log(
      "info",
      `session ${sessionId}: owner ${owner} unreachable, now ${after}`,
    );
    return withOwnerHeader(await next(), self);
  }

  async #authorized(call: ToolCallInfo): Promise<boolean> {
    const token = bearerTokenOf(call.request.headers.get("authorization"));
    const verify = this.#options.verifyToken;
    if (token === undefined || !verify) return false;
    try {
      return await verify(token, call.name);
    } catch (error) {
      this.#options.logger.log("warn", `token verifier failed for ${call.name}: ${error}`);
      return false;
    }
  }

  /** Sends the call to its session's owner; undefined when the owner cannot take it. */
  async #forward(call: ToolCallInfo, owner: string): Promise<Response | undefined> {
    const headers = new Headers(call.request.headers);
    headers.set(SESSION_FORWARDED_HEADER, "1");
    headers.delete("host");
    headers.delete("content-length");
    try {
      const response = await fetch(`${owner}/mcp`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: call.id,
          method: "tools/call",
          params: { name: call.name, arguments: call.args },
        }),
        signal: call.cancellation.signal,
      });
      if (response.status === 502 || response.status === 503) {
        await response.body?.cancel();
        return undefined;
      }
      return followClient(withOwnerHeader(response, owner), call.cancellation);
    } catch (error) {
      if (call.cancellation.signal.aborted) throw error;
      return undefined;
    }
  }
}
