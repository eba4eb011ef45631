/**
 * One agent file run as a child `deno run` process with scoped permissions:
 * its output forwarded line by line, the URLs it prints remembered (to match
 * it with its registry entry), and a graceful stop (SIGTERM, then SIGKILL).
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { type AgentGrants, agentRunArgs } from "./permissions.ts";
import type { ColorName } from "./output.ts";

/** Where an agent's output lines go. */
export type LineHandler = (line: string, stream: "stdout" | "stderr") => void;

/** Construction options of {@linkcode AgentProcess}. */
export interface AgentProcessOptions {
  /** Display name. */
  name: string;
  /** The agent file. */
  file: string;
  /** Colour of its output prefix. */
  color: ColorName;
  /** Extra permissions. */
  grants: AgentGrants;
  /** Receives every output line. */
  onLine: LineHandler;
  /** Let the agent colour its output; otherwise it gets `NO_COLOR=1`. */
  colors: boolean;
}

const URL_PATTERN = /https?:\/\/[^\s"'<>)\]]+/g;
const REGISTRY_REFUSAL = /registry.*\bHTTP (401|403)\b/i;

/** A child agent process that can be started, stopped and restarted. */
export class AgentProcess {
  /** Display name. */
  readonly name: string;
  /** Absolute path of the agent file. */
  readonly file: string;
  /** Directory of the agent file (what it may read, what `--watch` watches). */
  readonly dir: string;
  /** Colour of its output prefix. */
  readonly color: ColorName;
  /** URLs printed by the current run, in order. */
  urls: URL[] = [];
  /** Registry id of the current run, once matched. */
  agentId?: string;
  /**
   * HTTP status (401 or 403) with which the registry refused the current
   * run, as a line of the agent's own output reported it.
   */
  registryRefusal?: number;
  readonly #options: AgentProcessOptions;
  #child?: Deno.ChildProcess;
  #done?: Promise<Deno.CommandStatus>;

  /** @param options See {@linkcode AgentProcessOptions}. */
  constructor(options: AgentProcessOptions) {
    this.#options = options;
    this.name = options.name;
    this.file = resolve(options.file);
    this.dir = dirname(this.file);
    this.color = options.color;
  }

  /** Pid of the running process, if any. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Whether a process of this agent is running. */
  get running(): boolean {
    return this.#child !== undefined;
  }

  /**
   * Spawns the agent, pointed at `registryUrl` (`MCP_MESH_REGISTRY_URL`),
   * on a free port unless `MCP_MESH_HTTP_PORT` is set, and with `NO_COLOR=1`
   * unless `colors` was asked for. The returned promise
   * settles when the process exits and its output has been forwarded.
   */
  start(registryUrl: string): Promise<Deno.CommandStatus> {
    this.urls = [];
    this.agentId = undefined;
    this.registryRefusal = undefined;
    const env: Record<string, string> = { MCP_MESH_REGISTRY_URL: registryUrl };
    if (!Deno.env.get("MCP_MESH_HTTP_PORT")) env.MCP_MESH_HTTP_PORT = "0";
    if (!this.#options.colors) env.NO_COLOR = "1";
    const child = new Deno.Command(Deno.execPath(), {
      args: agentRunArgs(this.file, this.#options.grants),
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    const pumps = [
      this.#pump(child.stdout, "stdout"),
      this.#pump(child.stderr, "stderr"),
    ];
    const done = Promise.all([child.status, ...pumps]).then(([status]) => {
      if (this.#child === child) this.#child = undefined;
      return status;
    });
    this.#done = done;
    return done;
  }

  /**
   * Stops the agent: SIGTERM (it unregisters and exits), then SIGKILL if it
   * is still running after `graceMs`. Resolves once it has exited.
   */
  async stop(graceMs: number): Promise<Deno.CommandStatus | undefined> {
    const child = this.#child;
    const done = this.#done;
    if (!child || !done) return undefined;
    trySignal(child, "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), graceMs);
    });
    const first = await Promise.race([done, timeout]);
    clearTimeout(timer);
    if (first === "timeout") trySignal(child, "SIGKILL");
    return await done;
  }

  async #pump(stream: ReadableStream<Uint8Array>, kind: "stdout" | "stderr"): Promise<void> {
    let buffered = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) this.#line(line.replace(/\r$/, ""), kind);
    }
    if (buffered) this.#line(buffered, kind);
  }

  #line(line: string, kind: "stdout" | "stderr"): void {
    const refusal = line.match(REGISTRY_REFUSAL);
    if (refusal) this.registryRefusal = Number(refusal[1]);
    for (const match of line.matchAll(URL_PATTERN)) {
      try {
        this.urls.push(new URL(match[0].replace(/[.,;:]+$/, "")));
      } catch {
        // not a URL after all
      }
    }
    this.#options.onLine(line, kind);
  }
}

function trySignal(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // already exited
  }
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "0.0.0.0", "[::1]", "[::]", "::1"]);

/**
 * Whether an agent endpoint registered in the registry is the same server as
 * a URL the agent printed: same port, and same host (all loopback and
 * wildcard names count as one host).
 */
export function sameServer(endpoint: string, printed: URL): boolean {
  let registered: URL;
  try {
    registered = new URL(endpoint);
  } catch {
    return false;
  }
  if (registered.port !== printed.port) return false;
  return registered.hostname === printed.hostname ||
    (LOOPBACK.has(registered.hostname) && LOOPBACK.has(printed.hostname));
}
