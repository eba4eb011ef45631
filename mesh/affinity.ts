/**
 * Session affinity shared by proxies and agents: where a call's session id
 * comes from, how an owner names itself in a result, and the bounded memory
 * of which endpoint owns which session.
 *
 * @module
 */

/** Response header naming the endpoint that owns the call's session. */
export const SESSION_OWNER_HEADER = "X-Mesh-Session-Owner";

/** Header that marks a call forwarded to its session's owner (it must not be forwarded again). */
export const SESSION_FORWARDED_HEADER = "X-Mesh-Session-Forwarded";

/** Headers that may carry a session id, in order of preference after the `session_id` argument. */
const SESSION_HEADERS = ["mcp-session-id", "x-session-id"] as const;

/**
 * The session id of a call: its `session_id` argument, else the first
 * `Mcp-Session-Id`/`X-Session-ID` header found in `headers` (in order).
 */
export function sessionIdOf(
  args: Record<string, unknown>,
  ...headers: (Headers | undefined)[]
): string | undefined {
  const fromArgs = args.session_id;
  if (typeof fromArgs === "string" && fromArgs !== "") return fromArgs;
  for (const source of headers) {
    for (const name of SESSION_HEADERS) {
      const value = source?.get(name);
      if (value) return value;
    }
  }
  return undefined;
}

/** Most sessions a {@linkcode SessionRoutes} remembers (the oldest are forgotten first). */
const MAX_ROUTES = 10_000;

/** What a proxy learned about session owners: session id → owner endpoint. */
export class SessionRoutes {
  #owners = new Map<string, string>();

  /** The owner endpoint of `sessionId`, when known. */
  get(sessionId: string): string | undefined {
    return this.#owners.get(sessionId);
  }

  /** Remembers `endpoint` as the owner of `sessionId`. */
  set(sessionId: string, endpoint: string): void {
    this.#owners.delete(sessionId);
    this.#owners.set(sessionId, endpoint);
    if (this.#owners.size > MAX_ROUTES) {
      this.#owners.delete(this.#owners.keys().next().value!);
    }
  }
}
