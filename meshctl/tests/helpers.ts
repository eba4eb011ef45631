/**
 * Helpers of meshctl's cross-process tests: run the real CLI as a
 * subprocess, run agents, follow output line by line, and serve a real
 * registry on a free loopback port with a temporary SQLite file.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RunningRegistry, serveRegistry } from "@mesh/registry";
import type { AgentsListResponse } from "@mesh/sdk/protocol";

/** The repository root. */
export const ROOT: string = join(dirname(fileURLToPath(import.meta.url)), "../..");
/** The meshctl entry point. */
export const MAIN: string = join(ROOT, "meshctl/main.ts");

/** Environment of every meshctl subprocess: no colours, a private home. */
export function cliEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return { NO_COLOR: "1", MCP_MESH_HOME: home, MCP_MESH_HEALTH_INTERVAL: "1", ...extra };
}

/** Output of a finished meshctl run. */
export interface CliResult {
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** Runs `deno run -A meshctl/main.ts ...args` to completion, with `stdin` piped in and in `cwd` when given. */
export async function meshctl(
  args: string[],
  env: Record<string, string>,
  { stdin, cwd }: { stdin?: string; cwd?: string } = {},
): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env,
    cwd,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A running subprocess whose merged output is collected line by line. */
export class Spawned {
  /** Every line so far (stdout and stderr interleaved). */
  readonly lines: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #done: Promise<Deno.CommandStatus>;
  #waiters: (() => void)[] = [];

  /** Spawns `deno ...args`. */
  constructor(args: string[], env: Record<string, string>) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pumps = [this.#pump(this.#child.stdout), this.#pump(this.#child.stderr)];
    this.#done = Promise.all([this.#child.status, ...pumps]).then(([status]) => {
      this.#notify();
      return status;
    });
  }

  /** Pid of the process. */
  get pid(): number {
    return this.#child.pid;
  }

  /** All output so far as one string. */
  get output(): string {
    return this.lines.join("\n");
  }

  /** Resolves with the match of the first line (from index `from`) matching `pattern`. */
  async waitFor(pattern: RegExp, from = 0, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    this.#done.then(() => exited = true);
    while (true) {
      for (const line of this.lines.slice(from)) {
        const match = line.match(pattern);
        if (match) return match;
      }
      if (exited) throw new Error(`exited before printing ${pattern}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} in time:\n${this.output}`);
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#waiters.push(resolve);
      const timer = setTimeout(resolve, 500);
      await promise;
      clearTimeout(timer);
    }
  }

  /** Sends a signal (ignored if it already exited). */
  kill(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // already exited
    }
  }

  /** Waits for the exit and for all output. */
  status(): Promise<Deno.CommandStatus> {
    return this.#done;
  }

  /** SIGTERM, then waits (the end of every test that spawned something). */
  async close(): Promise<Deno.CommandStatus> {
    this.kill("SIGTERM");
    return await this.#done;
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    let buffered = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      this.lines.push(...parts);
      this.#notify();
    }
    if (buffered) this.lines.push(buffered);
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** Starts `meshctl ...args` in the background. */
export function spawnMeshctl(args: string[], env: Record<string, string>): Spawned {
  return new Spawned(["run", "-A", MAIN, ...args], env);
}

/** Starts an agent file directly (not through meshctl) against `registryUrl`. */
export async function runAgent(file: string, registryUrl: string): Promise<Spawned> {
  const agent = new Spawned(["run", "-A", join(ROOT, file)], {
    MCP_MESH_REGISTRY_URL: registryUrl,
    MCP_MESH_HTTP_PORT: "0",
    MCP_MESH_HEALTH_INTERVAL: "1",
  });
  await agent.waitFor(/registered with/);
  return agent;
}

/** A registry on a free loopback port with a SQLite file in `dir` (write routes need `token` when given). */
export function startRegistry(dir: string, token = ""): RunningRegistry {
  return serveRegistry({
    databaseUrl: join(dir, "registry.db"),
    hostname: "127.0.0.1",
    port: 0,
    healthCheckIntervalMs: 500,
    token,
  });
}

/** The registry's agents (all states). */
export async function registeredAgents(registryUrl: string): Promise<AgentsListResponse> {
  const response = await fetch(`${registryUrl}/agents`);
  return await response.json();
}

/** Polls until `check` returns true (bounded; no timing is asserted). */
export async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
