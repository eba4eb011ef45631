/**
 * A small HTTP client for the registry API, turning every failure into a
 * one-line {@linkcode CliError}.
 *
 * @module
 */

import type {
  AgentInfo,
  AgentsListResponse,
  AgentStatus,
  ErrorResponse,
  EventsHistoryResponse,
  HealthResponse,
  RootResponse,
} from "@mesh/sdk/protocol";
import { CliError, UsageError } from "./errors.ts";

/** Default registry URL when neither `--registry-url` nor `MCP_MESH_REGISTRY_URL` is set. */
export const DEFAULT_REGISTRY_URL = "http://127.0.0.1:8000";

/** How to start a registry, appended to "cannot reach" messages. */
export const START_REGISTRY_HINT =
  "start one with `meshctl start --registry-only` or `deno task registry`";

/** Filters of `GET /agents`. */
export interface AgentQuery {
  /** Only agents providing this capability. */
  capability?: string;
  /** Only agents in this state. */
  status?: AgentStatus;
}

/** Filters of `GET /events`. */
export interface EventQuery {
  /** Only events of this type. */
  type?: string;
  /** Only events about this agent. */
  agentId?: string;
  /** Most events to return. */
  limit?: number;
}

/**
 * Client for one registry.
 *
 * @example
 * ```ts
 * import { RegistryClient } from "./registry_client.ts";
 * const registry = new RegistryClient("http://127.0.0.1:8000");
 * const { agents } = await registry.listAgents({ status: "healthy" });
 * ```
 */
export class RegistryClient {
  /** Base URL of the registry, without a trailing slash. */
  readonly url: string;
  readonly #timeoutMs: number;

  /**
   * @param url Base URL of the registry.
   * @param options `timeoutMs`: per-request timeout (default 10 s).
   */
  constructor(url: string, options: { timeoutMs?: number } = {}) {
    this.url = normalizeRegistryUrl(url);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** `GET /health`. */
  health(): Promise<HealthResponse> {
    return this.#get<HealthResponse>("/health");
  }

  /** `GET /`: service information. */
  info(): Promise<RootResponse> {
    return this.#get<RootResponse>("/");
  }

  /** Whether a registry answers `GET /health` at this URL. */
  async isReachable(): Promise<boolean> {
    try {
      await this.health();
      return true;
    } catch {
      return false;
    }
  }

  /** `GET /agents` with optional filters. */
  listAgents(query: AgentQuery = {}): Promise<AgentsListResponse> {
    const params = new URLSearchParams();
    if (query.capability) params.set("capability", query.capability);
    if (query.status) params.set("status", query.status);
    const search = params.size ? `?${params}` : "";
    return this.#get<AgentsListResponse>(`/agents${search}`);
  }

  /** `GET /agents/{id}`; `undefined` when the registry does not know the agent. */
  async getAgent(id: string): Promise<AgentInfo | undefined> {
    try {
      return await this.#get<AgentInfo>(`/agents/${encodeURIComponent(id)}`);
    } catch (error) {
      if (error instanceof RegistryHttpError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * `DELETE /agents/{id}`: unregisters an agent, sending the bearer token of
   * `MCP_MESH_REGISTRY_TOKEN` when set (registries with a token require it).
   */
  async unregisterAgent(id: string): Promise<void> {
    const token = Deno.env.get("MCP_MESH_REGISTRY_TOKEN");
    await this.#request(`/agents/${encodeURIComponent(id)}`, {
      method: "DELETE",
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
  }

  /** `GET /events` with optional filters. */
  events(query: EventQuery = {}): Promise<EventsHistoryResponse> {
    const params = new URLSearchParams();
    if (query.type) params.set("type", query.type);
    if (query.agentId) params.set("agent_id", query.agentId);
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    const search = params.size ? `?${params}` : "";
    return this.#get<EventsHistoryResponse>(`/events${search}`);
  }

  async #get<T>(path: string): Promise<T> {
    const text = await this.#request(path);
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new CliError(
        `the registry at ${this.url} answered ${path} with something that is not JSON; is it an MCP Mesh registry?`,
        { cause: error },
      );
    }
  }

  /** Sends a request and returns the body of a 2xx answer. */
  async #request(path: string, init: RequestInit = {}): Promise<string> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        ...init,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const reason = error instanceof DOMException && error.name === "TimeoutError"
        ? `no answer within ${this.#timeoutMs / 1000}s`
        : describeNetworkError(error);
      throw new CliError(
        `cannot reach the registry at ${this.url} (${reason}); ${START_REGISTRY_HINT}`,
        { cause: error },
      );
    }
    const text = await response.text();
    if (!response.ok) {
      throw new RegistryHttpError(response.status, `${this.url}${path}`, errorMessage(text));
    }
    return text;
  }
}

/** The registry answered with a 4xx/5xx status. */
export class RegistryHttpError extends CliError {
  /** HTTP status code. */
  readonly status: number;

  /**
   * @param status HTTP status.
   * @param url The URL requested.
   * @param detail The registry's `error` message.
   */
  constructor(status: number, url: string, detail: string) {
    super(`registry answered ${status} for ${url}: ${detail}`);
    this.name = "RegistryHttpError";
    this.status = status;
  }
}

/** A registry URL without trailing slashes; throws a {@linkcode CliError} when invalid. */
export function normalizeRegistryUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`invalid registry URL "${url}" (expected e.g. ${DEFAULT_REGISTRY_URL})`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`invalid registry URL "${url}": use http:// or https://`);
  }
  return parsed.href.replace(/\/+$/, "");
}

function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as Partial<ErrorResponse>;
    if (typeof parsed.error === "string") return parsed.error;
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.trim().slice(0, 200) || "no details";
}

/** A short reason for a failed `fetch`, looking through its causes. */
export function describeNetworkError(error: unknown): string {
  const messages: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause) {
    messages.push(current.message);
  }
  const all = messages.join(" ") || String(error);
  if (/refused/i.test(all)) return "connection refused";
  if (/dns|lookup|resolve|not known/i.test(all)) return "host not found";
  if (/timed? ?out/i.test(all)) return "timed out";
  return messages.at(-1)?.split("\n")[0] ?? all;
}
