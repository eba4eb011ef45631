/**
 * A running mesh as `meshctl start` drives it: a registry (joined, or
 * embedded and owned), one child process per agent file, registration
 * tracking, `--watch` restarts, and an orderly shutdown.
 *
 * @module
 */

import { dirname } from "node:path";
import { type RunningRegistry, serveRegistry } from "@mesh/registry";
import { AgentProcess, sameServer } from "./agent_process.ts";
import { delay } from "./delay.ts";
import { CliError } from "./errors.ts";
import type { AgentState } from "./home.ts";
import type { MeshOutput } from "./mesh_output.ts";
import { AGENT_COLORS } from "./output.ts";
import { type AgentGrants, agentName, uniqueNames } from "./permissions.ts";
import { RegistryClient } from "./registry_client.ts";
import { type DirectoryWatcher, watchDirectory } from "./watch.ts";

/** Options of {@linkcode MeshRunner}. */
export interface MeshRunOptions {
  /** Agent files to run. */
  files: string[];
  /** Registry to join, or where to start one when none answers there. */
  registryUrl: string;
  /** Start the embedded registry on this port (0 = any free port). */
  registryPort?: number;
  /** SQLite file of an embedded registry. */
  databasePath: string;
  /** Keep running even when no agent runs. */
  registryOnly: boolean;
  /** Restart an agent when files in its directory change. */
  watch: boolean;
  /** Quiet period before a watched change triggers a restart. */
  debounceMs: number;
  /** Extra permissions of the agents. */
  grants: AgentGrants;
  /** How long an agent may take to stop after SIGTERM before it is killed. */
  graceMs: number;
  /** Where output goes. */
  output: MeshOutput;
  /** Let agents colour their output (a terminal watches); otherwise they get `NO_COLOR=1`. */
  agentColors: boolean;
  /** Called whenever an agent's state changes (starts, registers, exits). */
  onChange?: () => void;
}

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "0.0.0.0", "[::1]"]);

/** Drives one mesh from start to shutdown. */
export class MeshRunner {
  /** The agents, in the order their files were given. */
  readonly agents: AgentProcess[];
  /** URL of the registry in use (final once {@linkcode MeshRunner.start} resolved). */
  registryUrl: string;
  /** Whether this runner started the registry (and closes it on shutdown). */
  ownsRegistry = false;
  readonly #options: MeshRunOptions;
  readonly #exitCodes = new Map<AgentProcess, number>();
  readonly #restarting = new Set<AgentProcess>();
  readonly #cleanups = new Set<Promise<void>>();
  #registry?: RunningRegistry;
  #watchers: DirectoryWatcher[] = [];
  #tracker?: Promise<void>;
  #stopping = false;
  #idle = Promise.withResolvers<number>();

  /** @param options See {@linkcode MeshRunOptions}. */
  constructor(options: MeshRunOptions) {
    this.#options = options;
    this.registryUrl = options.registryUrl;
    const names = uniqueNames(options.files.map(agentName));
    this.agents = options.files.map((file, index) => {
      const agent: AgentProcess = new AgentProcess({
        name: names[index],
        file,
        color: AGENT_COLORS[index % AGENT_COLORS.length],
        grants: options.grants,
        colors: options.agentColors,
        onLine: (line) => options.output.agentLine(agent, line),
      });
      return agent;
    });
  }

  /**
   * Settles with an exit code once nothing is left to run: every agent has
   * exited and neither `--watch` nor `--registry-only` keeps the mesh alive.
   */
  get idle(): Promise<number> {
    return this.#idle.promise;
  }

  /** Whether {@linkcode MeshRunner.shutdown} has begun. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Finds or starts the registry, then starts every agent (and the watchers). */
  async start(): Promise<void> {
    await this.#ensureRegistry();
    for (const agent of this.agents) this.#launch(agent);
    if (this.#options.watch) this.#watch();
    this.#tracker = this.#trackRegistrations();
    if (this.agents.length === 0 && !this.#options.registryOnly) this.#idle.resolve(0);
  }

  /** Agent state for progress reports and `state.json`. */
  states(): AgentState[] {
    return this.agents.map((agent) => {
      const exitCode = this.#exitCodes.get(agent);
      const status = agent.running
        ? agent.agentId ? "registered" : "starting"
        : this.#restarting.has(agent)
        ? "starting"
        : "exited";
      return {
        name: agent.name,
        file: agent.file,
        status,
        ...(agent.agentId ? { agentId: agent.agentId } : {}),
        ...(status === "exited" && exitCode !== undefined ? { exitCode } : {}),
        ...(agent.registryRefusal ? { registryRefusal: agent.registryRefusal } : {}),
      };
    });
  }

  /**
   * Resolves once every agent has registered or exited, or `timeoutMs`
   * passed; reports progress through the output. Returns the states then.
   */
  async waitUntilSettled(timeoutMs: number): Promise<AgentState[]> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#stopping && Date.now() < deadline) {
      const states = this.states();
      if (states.every((state) => state.status !== "starting")) return states;
      await delay(100);
    }
    return this.states();
  }

  /**
   * Stops watching, stops every agent (SIGTERM, SIGKILL after the grace
   * period) so they unregister, then closes the registry if it is ours.
   */
  async shutdown(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const watcher of this.#watchers) watcher.close();
    const running = this.agents.filter((agent) => agent.running);
    if (running.length) {
      this.#options.output.info(`stopping ${running.map((agent) => agent.name).join(", ")}…`);
    }
    await Promise.all(running.map((agent) => agent.stop(this.#options.graceMs)));
    await Promise.all(this.#cleanups);
    await this.#tracker;
    if (this.#registry) {
      await this.#registry.close();
      this.#options.output.info(`registry at ${this.registryUrl} stopped`);
    }
    this.#idle.resolve(0);
  }

  async #ensureRegistry(): Promise<void> {
    const { registryPort, output } = this.#options;
    const configured = new URL(this.#options.registryUrl);
    if (registryPort !== 0) {
      const candidate = registryPort === undefined
        ? this.#options.registryUrl
        : `${configured.protocol}//${configured.hostname}:${registryPort}`;
      const client = new RegistryClient(candidate, { timeoutMs: 3_000 });
      if (await client.isReachable()) {
        if (this.#options.registryOnly) {
          throw new CliError(`a registry is already running at ${client.url}`);
        }
        this.registryUrl = client.url;
        output.info(`using the registry at ${client.url}`);
        return;
      }
    }
    if (!LOCAL_HOSTS.has(configured.hostname)) {
      throw new CliError(
        `cannot reach the registry at ${configured.href.replace(/\/$/, "")} and it is not ` +
          "local, so meshctl will not start one there; check the URL or omit --registry-url",
      );
    }
    await Deno.mkdir(dirname(this.#options.databasePath), { recursive: true });
    const port = registryPort ?? Number(configured.port || 80);
    const hostname = configured.hostname === "localhost" ? "127.0.0.1" : configured.hostname;
    try {
      this.#registry = serveRegistry({
        databaseUrl: this.#options.databasePath,
        hostname,
        port,
      });
    } catch (error) {
      const reason = error instanceof Deno.errors.AddrInUse
        ? `port ${port} is in use by something that is not a registry`
        : error instanceof Error
        ? error.message
        : String(error);
      throw new CliError(`cannot start the registry on ${hostname}:${port}: ${reason}`, {
        cause: error,
      });
    }
    this.ownsRegistry = true;
    this.registryUrl = this.#registry.url.replace(/\/+$/, "");
    output.info(
      `registry started at ${this.registryUrl} (database ${this.#options.databasePath})`,
    );
  }

  #launch(agent: AgentProcess): void {
    this.#exitCodes.delete(agent);
    agent.start(this.registryUrl).then((status) => this.#exited(agent, status));
    const { output } = this.#options;
    // Synchronously after the spawn, so before any line of the new run is forwarded.
    output.agentStarted({ name: agent.name, file: agent.file, pid: agent.pid! });
    output.info(`${agent.name}: started ${agent.file} (pid ${agent.pid})`);
    this.#options.onChange?.();
  }

  #exited(agent: AgentProcess, status: Deno.CommandStatus): void {
    this.#exitCodes.set(agent, status.code);
    if (!this.#stopping && !this.#restarting.has(agent)) {
      const how = status.signal ? `on ${status.signal}` : `with code ${status.code}`;
      const { output } = this.#options;
      if (status.success) output.info(`${agent.name}: exited ${how}`);
      else output.warn(`${agent.name}: exited ${how}`);
      const cleanup = this.#unregisterDead(agent.name, agent.agentId, agent.urls);
      this.#cleanups.add(cleanup);
      cleanup.finally(() => this.#cleanups.delete(cleanup));
    }
    this.#options.onChange?.();
    this.#checkIdle();
  }

  /**
   * Removes the registry entry of an agent whose process ended without
   * unregistering (killed, crashed), so that consumers stop getting it at
   * once instead of after the registry's health timeout. The entry is found
   * by the id matched at registration, else by the URLs the process printed.
   */
  async #unregisterDead(name: string, agentId: string | undefined, urls: URL[]): Promise<void> {
    const { output } = this.#options;
    const registry = new RegistryClient(this.registryUrl, { timeoutMs: 3_000 });
    try {
      const entry = agentId
        ? await registry.getAgent(agentId)
        : (await registry.listAgents()).agents.find((info) =>
          urls.some((url) => sameServer(info.endpoint, url))
        );
      if (!entry) return;
      await registry.unregisterAgent(entry.id);
      output.info(`${name}: unregistered ${entry.id} from the registry (its process is gone)`);
    } catch (error) {
      // Best effort: the registry's health monitor removes the entry anyway.
      const reason = error instanceof Error ? error.message : String(error);
      output.warn(`${name}: could not unregister it from the registry: ${reason}`);
    }
  }

  #checkIdle(): void {
    if (this.#stopping || this.#options.watch || this.#options.registryOnly) return;
    if (this.agents.some((agent) => agent.running || this.#restarting.has(agent))) return;
    const failed = [...this.#exitCodes.values()].some((code) => code !== 0);
    this.#idle.resolve(failed ? 1 : 0);
  }

  #watch(): void {
    const directories = new Set(this.agents.map((agent) => agent.dir));
    for (const directory of directories) {
      const watched = this.agents.filter((agent) => agent.dir === directory);
      this.#watchers.push(
        watchDirectory(directory, this.#options.debounceMs, (paths) => {
          for (const agent of watched) this.#restart(agent, paths);
        }),
      );
    }
    this.#options.output.info(
      `watching ${[...directories].join(", ")} (an agent restarts when its files change)`,
    );
  }

  async #restart(agent: AgentProcess, paths: string[]): Promise<void> {
    if (this.#stopping || this.#restarting.has(agent)) return;
    this.#restarting.add(agent);
    try {
      const changed = paths.map((path) => path.slice(agent.dir.length + 1) || path).join(", ");
      this.#options.output.info(`${agent.name}: ${changed} changed, restarting`);
      await agent.stop(this.#options.graceMs);
      if (!this.#stopping) this.#launch(agent);
    } finally {
      this.#restarting.delete(agent);
    }
  }

  async #trackRegistrations(): Promise<void> {
    const registry = new RegistryClient(this.registryUrl, { timeoutMs: 3_000 });
    while (!this.#stopping) {
      const waiting = this.agents.filter((agent) =>
        agent.running && !agent.agentId && agent.urls.length
      );
      if (waiting.length) {
        try {
          const { agents } = await registry.listAgents();
          for (const agent of waiting) {
            const entry = agents.find((info) =>
              info.status === "healthy" && agent.urls.some((url) => sameServer(info.endpoint, url))
            );
            if (!entry || !agent.running) continue;
            agent.agentId = entry.id;
            const tools = entry.capabilities.map((capability) => capability.function_name);
            this.#options.output.info(
              `${agent.name}: registered as ${entry.id} at ${entry.endpoint}` +
                (tools.length ? ` (tools: ${tools.join(", ")})` : ""),
            );
            this.#options.onChange?.();
          }
        } catch (error) {
          if (!(error instanceof CliError)) throw error;
        }
      }
      await delay(200);
    }
  }
}
