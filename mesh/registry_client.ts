/**
 * HTTP client for the agent-facing registry routes: `POST /heartbeat`,
 * `HEAD /heartbeat/{id}` and `DELETE /agents/{id}`.
 *
 * @module
 */

import { envRegistryToken } from "./config.ts";
import type { MeshAgentRegistration, MeshRegistrationResponse } from "./protocol.ts";

/** Options of {@linkcode RegistryClient}. */
export interface RegistryClientOptions {
  /**
   * Bearer token sent with every request (the registry's write token);
   * default: env `MCP_MESH_REGISTRY_TOKEN` when set.
   */
  token?: string;
}

/** Talks to one registry. Every method throws on network failure. */
export class RegistryClient {
  /** Registry base URL without a trailing slash. */
  readonly url: string;
  readonly #authorization: Record<string, string>;

  /** Creates a client for the registry at `url`. */
  constructor(url: string, options: RegistryClientOptions = {}) {
    this.url = url.replace(/\/+$/, "");
    const token = options.token ?? envRegistryToken();
    this.#authorization = token ? { Authorization: `Bearer ${token}` } : {};
  }

  /** Full registration / heartbeat; throws unless the registry answers success. */
  async register(
    registration: MeshAgentRegistration,
    signal?: AbortSignal,
  ): Promise<MeshRegistrationResponse> {
    const response = await fetch(`${this.url}/heartbeat`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...this.#authorization },
      body: JSON.stringify(registration),
      signal,
    });
    const text = await response.text();
    if (refusesToken(response.status) || response.status === 400) {
      throw new RegistryRejection(response.status, text);
    }
    if (!response.ok) {
      throw new Error(`registry answered HTTP ${response.status} to POST /heartbeat: ${text}`);
    }
    const answer = JSON.parse(text) as MeshRegistrationResponse;
    if (answer.status !== "success") throw new Error(`registry refused: ${answer.message}`);
    return answer;
  }

  /**
   * Fast heartbeat: 200 unchanged, 202 topology changed, 410 unknown, 503
   * registry error.
   *
   * @throws {RegistryRejection} when the registry refuses the token (401, 403).
   */
  async check(agentId: string, signal?: AbortSignal): Promise<number> {
    const response = await fetch(`${this.url}/heartbeat/${encodeURIComponent(agentId)}`, {
      method: "HEAD",
      headers: this.#authorization,
      signal,
    });
    await response.body?.cancel();
    if (refusesToken(response.status)) {
      throw new RegistryRejection(response.status, "");
    }
    return response.status;
  }

  /** Graceful unregistration; true when the registry confirmed (204) or did not know it (404). */
  async unregister(agentId: string, signal?: AbortSignal): Promise<boolean> {
    const response = await fetch(`${this.url}/agents/${encodeURIComponent(agentId)}`, {
      method: "DELETE",
      headers: this.#authorization,
      signal,
    });
    await response.body?.cancel();
    return response.status === 204 || response.status === 404;
  }
}

/**
 * The registry answered, and refused the agent: its registry token (401,
 * 403) or its registration (400). Retrying alone will not help; the message
 * says what to change.
 */
export class RegistryRejection extends Error {
  /** The registry's HTTP status. */
  readonly status: number;

  /**
   * @param status The registry's HTTP status.
   * @param body The registry's answer (JSON `{error}`), when it sent one.
   */
  constructor(status: number, body: string) {
    super(rejectionMessage(status, body));
    this.name = "RegistryRejection";
    this.status = status;
  }
}

function rejectionMessage(status: number, body: string): string {
  if (refusesToken(status)) {
    return `refuses this agent's registry token (HTTP ${status}): set MCP_MESH_REGISTRY_TOKEN to the registry's token`;
  }
  let reason = body;
  try {
    reason = (JSON.parse(body) as { error?: string }).error ?? body;
  } catch { /* not JSON: the text as it is */ }
  return `rejects this agent's registration (HTTP ${status}): ${reason}`;
}

/** Whether a registry status refuses the agent's registry token. */
function refusesToken(status: number): boolean {
  return status === 401 || status === 403;
}
