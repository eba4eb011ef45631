/**
 * The running agent: an `McpServer` served on `Deno.serve` (`/mcp`, health
 * routes, `/mesh/info`), kept registered by the heartbeat loop, with its
 * dependency proxies rewired from every registry answer.
 *
 * @module
 */

import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types";
import type { AgentConfig } from "./config.ts";
import { CallGate, tokenEquals, type TokenVerifier } from "./call_gate.ts";
import { HeartbeatLoop } from "./heartbeat.ts";
import { HttpClient } from "./http_client.ts";
import { createLogger, type Logger } from "./log.ts";
import { DependencyLog } from "./dependency_log.ts";
import type { FastToolHost } from "./fast_call.ts";
import type { McpEndpointOptions, StatelessMcpEndpoint } from "./mcp_endpoint.ts";
import type { AgentMetrics } from "./metrics.ts";
import type { McpServerLike } from "./mcp_types.ts";
import type { HealthVerdict, MeshToolOptions } from "./options.ts";
import type { MeshToolRegistration } from "./protocol.ts";
import type { McpMeshTool, ProxyObserver } from "./proxy.ts";
import { toAgentRegistration, toDependencyEntry, toToolRegistration } from "./registration.ts";
import { RegistryClient } from "./registry_client.ts";
import { createSessionStore, type SessionOwnerStore } from "./session_store.ts";
import { DependencyWiring, type LocalInvoker } from "./wiring.ts";

/** Longest wait for in-flight requests at shutdown. */
const DRAIN_TIMEOUT_MS = 5_000;
/** Longest wait for the registry to confirm unregistration at shutdown. */
const UNREGISTER_TIMEOUT_MS = 2_000;

/** The MCP server connected to the agent's endpoint. */
interface ConnectedMcp {
  server: McpServerLike;
  endpoint: StatelessMcpEndpoint;
}

/** A running agent. */
export interface AgentHandle {
  /** Agent id, `{name}-{8 hex}`. */
  readonly agentId: string;
  /** Agent name. */
  readonly name: string;
  /** Base URL other agents and clients reach it at (MCP at `{url}/mcp`). */
  readonly url: string;
  /** Port actually bound. */
  readonly port: number;
  /** True while the last contact with the registry succeeded. */
  readonly registered: boolean;
  /** The current dependency proxies of one tool, in declared order. */
  dependencies(functionName: string): (McpMeshTool | undefined)[];
  /** Stops accepting, drains in-flight calls (bounded), unregisters. */
  close(): Promise<void>;
}

/** One dependency of one tool, as `GET /mesh/info` reports it. */
export interface DependencyInfo {
  /** Capability asked for (first of a fallback chain). */
  capability: string;
  /** Whether a provider is wired. */
  status: "available" | "unresolved";
  /** Provider agent id, when wired. */
  agent_id?: string;
  /** Provider base URL, when wired. */
  endpoint?: string;
  /** Tool called on the provider, when wired. */
  function_name?: string;
}

/** Body of `GET /mesh/info`. */
export interface AgentMeshInfo {
  /** Agent id. */
  agent_id: string;
  /** Agent name. */
  name: string;
  /** Agent version. */
  version: string;
  /** Agent namespace. */
  namespace: string;
  /** Capabilities provided. */
  capabilities: string[];
  /** Capabilities depended on. */
  dependencies: string[];
  /** Transports served. */
  transport: string[];
  /** Base URL of this agent. */
  http_endpoint: string;
  /** Registry this agent reports to. */
  registry_url: string;
  /** True while the last contact with the registry succeeded. */
  registered: boolean;
  /** Every tool with its resolved dependencies. */
  tools: { function_name: string; capability: string; dependencies: DependencyInfo[] }[];
}

/** What {@linkcode startRuntime} needs. */
export interface RuntimeInit {
  /** Agent id (default: a fresh {@linkcode newAgentId}). */
  agentId?: string;
  /** Effective configuration. */
  config: AgentConfig;
  /**
   * The MCP server, tools already registered, not yet connected; or a function
   * creating it, called on the first MCP request (with {@linkcode tools}, the
   * agent then starts and registers without loading the MCP SDK).
   */
  server: McpServerLike | (() => Promise<McpServerLike>);
  /**
   * The server's `tools/list` as it will answer it, when known without the
   * server; default: asked from the server at start.
   */
  tools?: Tool[];
  /** Mesh options of a tool by name. */
  meshOptions: (toolName: string) => MeshToolOptions;
  /** Runs a tool in-process for self-dependencies; default: in-process JSON-RPC. */
  invokeLocal?: LocalInvoker;
  /** Tools `/mcp` may call without the SDK transport (plain `tools/call` fast path). */
  fastTools?: FastToolHost;
  /** Checks bearer tokens of `authRequired` tools (default: equality with `config.authToken`). */
  verifyToken?: TokenVerifier;
  /**
   * Builds the `/mcp` endpoint `server` connects to, given the runtime's hooks
   * (default: a {@linkcode StatelessMcpEndpoint}; `serveStateful` passes a
   * stateful one).
   */
  endpoint?: (hooks: McpEndpointOptions) => StatelessMcpEndpoint;
}

/** A fresh agent id: `{name}-{8 hex}`, the name reduced to the id alphabet. */
export function newAgentId(name: string): string {
  const base = name.replace(/[^a-zA-Z0-9_-]/g, "-").slice(0, 55) || "agent";
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(4)))
    .map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${base}-${hex}`;
}

function advertisedHost(bindHost: string): string {
  return bindHost === "0.0.0.0" || bindHost === "::" ? Deno.hostname() : bindHost;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) =>
    timer = setTimeout(() => resolve(undefined), ms)
  );
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function evaluateHealth(config: AgentConfig): Promise<HealthVerdict> {
  if (!config.healthCheck) return { status: "healthy" };
  try {
    const verdict = await config.healthCheck();
    if (typeof verdict === "boolean") return { status: verdict ? "healthy" : "unhealthy" };
    return verdict;
  } catch (error) {
    return { status: "degraded", errors: [error instanceof Error ? error.message : String(error)] };
  }
}

class AgentRuntime implements AgentHandle {
  readonly agentId: string;
  readonly name: string;
  url = "";
  port = 0;

  #init: RuntimeInit;
  #logger: Logger;
  /** The MCP side (SDK server, endpoint, metrics), loaded on first use. */
  #mcp?: Promise<ConnectedMcp>;
  #connected?: ConnectedMcp;
  #metrics?: Promise<AgentMetrics>;
  /** The metrics once loaded, so hot paths record without a promise. */
  #loadedMetrics?: AgentMetrics;
  #client: RegistryClient;
  #http?: Deno.HttpServer<Deno.NetAddr>;
  #wiring?: DependencyWiring;
  /** Keep-alive connections of the proxies to other agents. */
  #pool?: HttpClient;
  #heartbeat?: HeartbeatLoop;
  #tools: MeshToolRegistration[] = [];
  #closing?: Promise<void>;
  #gate?: CallGate;
  #sessions?: SessionOwnerStore;
  #healthy = true;

  constructor(init: RuntimeInit) {
    this.#init = init;
    this.name = init.config.name;
    this.agentId = init.agentId ?? newAgentId(init.config.name);
    this.#logger = createLogger(this.agentId);
    this.#client = new RegistryClient(init.config.registryUrl, {
      token: init.config.registryToken,
    });
  }

  /** The agent's metrics; prom-client loads on the first call, proxy call or scrape. */
  #loadMetrics(): Promise<AgentMetrics> {
    this.#metrics ??= import("./metrics.ts").then(({ AgentMetrics }) =>
      this.#loadedMetrics = new AgentMetrics({
        circuits: () => this.#wiring?.breakers.states() ?? [],
        dependenciesResolved: () => this.#wiring ? [...this.#wiring.wired()].length : 0,
      })
    );
    return this.#metrics;
  }

  /**
   * The connected MCP side: loads the endpoint (and with it the MCP SDK's
   * transport) and the metrics, creates the server when given a factory, and
   * connects it. Requests arriving meanwhile wait for it.
   */
  #connectMcp(): Promise<ConnectedMcp> {
    this.#mcp ??= (async () => {
      const { server: serverOrFactory, fastTools } = this.#init;
      const [{ StatelessMcpEndpoint }, metrics, server] = await Promise.all([
        import("./mcp_endpoint.ts"),
        this.#loadMetrics(),
        typeof serverOrFactory === "function" ? serverOrFactory() : serverOrFactory,
      ]);
      const createEndpoint = this.#init.endpoint ??
        ((hooks: McpEndpointOptions) => new StatelessMcpEndpoint(hooks));
      const endpoint = createEndpoint({
        fastTools,
        forceStandard: !this.#init.config.fastPath,
        interceptToolCall: (call, next) => this.#gate!.intercept(call, next),
        onToolResult: (name, outcome, seconds) => metrics.toolCall(name, outcome, seconds),
        onUnrouted: (message) => {
          if ("method" in message && message.method === "notifications/tools/list_changed") {
            this.#refreshTools().catch((error) => this.#logger.log("error", String(error)));
          }
        },
      });
      await server.connect(endpoint);
      return this.#connected = { server, endpoint };
    })();
    return this.#mcp;
  }

  get registered(): boolean {
    return this.#heartbeat?.registered ?? false;
  }

  dependencies(functionName: string): (McpMeshTool | undefined)[] {
    const count = this.#init.meshOptions(functionName).dependencies?.length ?? 0;
    return this.#wiring?.get(functionName, count) ?? Array.from({ length: count }, () => undefined);
  }

  async start(): Promise<void> {
    try {
      await this.#start();
    } catch (error) {
      await this.#http?.shutdown();
      throw error;
    }
  }

  async #start(): Promise<void> {
    const { config } = this.#init;
    this.#http = Deno.serve({
      hostname: config.httpHost,
      port: config.httpPort,
      onListen: () => {},
    }, (request) => this.#route(request));
    this.port = this.#http.addr.port;
    const host = advertisedHost(config.httpHost);
    this.url = `http://${host.includes(":") ? `[${host}]` : host}:${this.port}`;
    if (config.httpPool) this.#pool = new HttpClient();
    this.#wiring = new DependencyWiring({
      selfId: this.agentId,
      selfEndpoint: this.url,
      invokeLocal: this.#init.invokeLocal ?? ((name, args) => this.#dispatchCall(name, args)),
      authToken: config.authToken,
      settings: (name, index) => {
        const options = this.#init.meshOptions(name);
        const spec = options.dependencies?.[index];
        const filters = Array.isArray(spec) ? spec : [spec];
        const strategy = filters.find((f) => typeof f === "object" && f.strategy);
        return {
          strategy: typeof strategy === "object" ? strategy.strategy : undefined,
          circuitBreaker: options.circuitBreaker,
        };
      },
      http: this.#pool,
      observer: {
        proxyCall: (...outcome: Parameters<ProxyObserver["proxyCall"]>) => {
          if (this.#loadedMetrics) this.#loadedMetrics.proxyCall(...outcome);
          else void this.#loadMetrics().then((metrics) => metrics.proxyCall(...outcome));
        },
        // A provider that stopped is wired until the registry's next answer: ask for it now.
        providerUnreachable: () => this.#heartbeat?.beatSoon(),
      },
    });
    this.#gate = new CallGate({
      selfEndpoint: this.url,
      tool: (name) => this.#init.meshOptions(name),
      verifyToken: this.#init.verifyToken ??
        (config.authToken === undefined ? undefined : tokenEquals(config.authToken)),
      sessions: () => this.#sessions ??= createSessionStore({ logger: this.#logger }),
      healthy: () => this.#healthy,
      logger: this.#logger,
    });
    if (this.#init.tools) this.#setTools(this.#init.tools);
    else await this.#refreshTools();
    const guarded = this.#tools.filter((tool) => tool.kwargs?.auth_required);
    if (guarded.length && !this.#init.verifyToken && config.authToken === undefined) {
      this.#logger.log(
        "warn",
        `${guarded.map((tool) => tool.function_name).join(", ")} require a bearer token but ` +
          "neither MCP_MESH_AUTH_TOKEN nor an authVerifier is set: every call to them gets 401",
      );
    }
    const dependencyLog = new DependencyLog(this.#logger);
    this.#heartbeat = new HeartbeatLoop({
      client: this.#client,
      intervalMs: config.heartbeatIntervalMs,
      registration: () => toAgentRegistration(config, this.agentId, host, this.port, this.#tools),
      onResolved: (resolved) => {
        if (!this.#wiring!.update(resolved)) return;
        this.#logger.log("info", "dependencies rewired");
        dependencyLog.update(resolved);
      },
      healthy: async () => this.#healthy = (await evaluateHealth(config)).status !== "unhealthy",
      logger: this.#logger,
    });
    this.#heartbeat.start();
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    const wasRegistered = this.registered;
    await this.#heartbeat?.stop();
    if (await withTimeout(this.#http!.shutdown().then(() => true), DRAIN_TIMEOUT_MS) !== true) {
      this.#logger.log("warn", "in-flight requests still running after 5 s; closing anyway");
    }
    if (wasRegistered) {
      await this.#client.unregister(this.agentId, AbortSignal.timeout(UNREGISTER_TIMEOUT_MS))
        .catch((error) => this.#logger.log("warn", `unregister failed: ${error}`));
    }
    this.#pool?.close();
    const mcp = await this.#mcp?.catch(() => undefined);
    await mcp?.server.close();
    await this.#sessions?.close();
  }

  async #refreshTools(): Promise<void> {
    const { endpoint } = await this.#connectMcp();
    const answer = await endpoint.dispatch({ method: "tools/list", params: {} });
    // A server without tools does not answer tools/list at all.
    this.#setTools("result" in answer ? answer.result.tools as Tool[] : []);
  }

  #setTools(tools: Tool[]): void {
    this.#tools = tools.map((tool) => toToolRegistration(tool, this.#init.meshOptions(tool.name)));
    this.#heartbeat?.requestFullHeartbeat();
  }

  async #dispatchCall(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
    const { endpoint } = await this.#connectMcp();
    const answer = await endpoint.dispatch({
      method: "tools/call",
      params: { name, arguments: args },
    });
    if ("result" in answer) return answer.result as CallToolResult;
    return { content: [{ type: "text", text: answer.error.message }], isError: true };
  }

  #info(): AgentMeshInfo {
    const { config } = this.#init;
    const tools = this.#tools.map((tool) => {
      const proxies = this.dependencies(tool.function_name);
      const declared = (this.#init.meshOptions(tool.function_name).dependencies ?? [])
        .map(toDependencyEntry);
      return {
        function_name: tool.function_name,
        capability: tool.capability,
        dependencies: declared.map((entry, i): DependencyInfo => {
          const proxy = proxies[i];
          const capability = Array.isArray(entry) ? entry[0]?.capability ?? "" : entry.capability;
          return proxy
            ? {
              capability: proxy.capability,
              status: "available",
              agent_id: proxy.agentId,
              endpoint: proxy.endpoint,
              function_name: proxy.functionName,
            }
            : { capability, status: "unresolved" };
        }),
      };
    });
    return {
      agent_id: this.agentId,
      name: this.name,
      version: config.version,
      namespace: config.namespace,
      capabilities: tools.map((tool) => tool.capability),
      dependencies: [
        ...new Set(tools.flatMap((tool) => tool.dependencies.map((dep) => dep.capability))),
      ],
      transport: ["http"],
      http_endpoint: this.url,
      registry_url: config.registryUrl,
      registered: this.registered,
      tools,
    };
  }

  async #route(request: Request): Promise<Response> {
    const path = pathOf(request.url);
    if (path === "/mcp") {
      const { endpoint } = this.#connected ?? await this.#connectMcp();
      return endpoint.handle(request);
    }
    await request.body?.cancel();
    const read = request.method === "GET" || request.method === "HEAD";
    if (!read) return Response.json({ error: "method not allowed" }, { status: 405 });
    const timestamp = new Date().toISOString();
    switch (path) {
      case "/health": {
        const verdict = await evaluateHealth(this.#init.config);
        return Response.json({ ...verdict, agent: this.name, timestamp }, {
          status: verdict.status === "healthy" ? 200 : 503,
        });
      }
      case "/ready": {
        const runtime = this.#closing ? "shutting_down" : this.registered ? "up" : "standalone";
        return Response.json({ ready: !this.#closing, agent: this.name, runtime, timestamp }, {
          status: this.#closing ? 503 : 200,
        });
      }
      case "/livez":
        return Response.json({ alive: true, agent: this.name, timestamp });
      case "/mesh/info":
        return Response.json(this.#info());
      case "/metrics":
        return await (await this.#loadMetrics()).response();
      default:
        return Response.json({ error: `no route ${path}`, timestamp }, { status: 404 });
    }
  }
}

/**
 * The path of a request URL. The MCP route is recognized from the raw text
 * (parsing the whole URL costs more than the rest of routing); any other path
 * is parsed, so dot segments and the like resolve as usual.
 */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start >= 0 && url.startsWith("/mcp", start)) {
    const next = url.charCodeAt(start + 4);
    // End of URL, "?" or "#".
    if (Number.isNaN(next) || next === 0x3f || next === 0x23) return "/mcp";
  }
  return new URL(url).pathname;
}

/** Serves `init.server` as a mesh agent and starts its heartbeat. */
export async function startRuntime(init: RuntimeInit): Promise<AgentHandle> {
  const runtime = new AgentRuntime(init);
  await runtime.start();
  return runtime;
}
