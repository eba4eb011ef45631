/**
 * Which host names a stateful agent accepts in `Host` and `Origin` (DNS
 * rebinding protection). Kept apart from the endpoint so importing these
 * values does not load the MCP SDK.
 *
 * @module
 */

/** Host names a loopback-only server answers to (any port). */
export const LOOPBACK_HOSTNAMES: readonly string[] = ["localhost", "127.0.0.1", "[::1]"];

const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "[::]"]);

/**
 * The host names a server bound to `bindHost` should accept in `Host` and
 * `Origin`: the loopback names plus its own; `undefined` (check nothing) for
 * a wildcard bind, which cannot know the names it is reached by.
 */
export function defaultAllowedHostnames(bindHost: string): readonly string[] | undefined {
  if (WILDCARD_HOSTS.has(bindHost)) return undefined;
  const own = bindHost.includes(":") && !bindHost.startsWith("[") ? `[${bindHost}]` : bindHost;
  return [...new Set([...LOOPBACK_HOSTNAMES, own.toLowerCase()])];
}
