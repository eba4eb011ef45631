/**
 * The heartbeat loop: `HEAD /heartbeat/{id}` every interval, a full
 * `POST /heartbeat` on first contact, on 202, on 410 and when asked; with
 * capped exponential backoff and jitter while the registry is unreachable.
 * While a declared dependency is unresolved it beats every second (for at
 * most 30 s), so a provider that starts after its consumer is wired in about
 * a second rather than a whole interval. {@linkcode HeartbeatLoop.beatSoon}
 * brings a full beat forward (at most one a second) when a provider is gone.
 *
 * @module
 */

import { describeError, type Logger } from "./log.ts";
import type { DependencyResolution, MeshAgentRegistration } from "./protocol.ts";
import { type RegistryClient, RegistryRejection } from "./registry_client.ts";

/** Longest wait between attempts while the registry is unreachable. */
const MAX_BACKOFF_MS = 30_000;

/** Least time between two beats asked for with {@linkcode HeartbeatLoop.beatSoon}. */
const SOON_GAP_MS = 1_000;

/** Interval (at most) while a dependency is unresolved. */
const WAITING_INTERVAL_MS = 1_000;

/** How long after a dependency became unresolved the loop keeps the short interval. */
const WAITING_WINDOW_MS = 30_000;

/** What the loop needs from its agent. */
export interface HeartbeatOptions {
  /** Registry to talk to. */
  client: RegistryClient;
  /** Milliseconds between heartbeats. */
  intervalMs: number;
  /** Builds the current registration body. */
  registration: () => MeshAgentRegistration;
  /** Receives every registry answer's `dependencies_resolved`. */
  onResolved: (resolved: Record<string, DependencyResolution[]>) => void;
  /** False pauses the heartbeat (the registry then ages the agent out). */
  healthy: () => Promise<boolean>;
  /** Where to report state changes. */
  logger: Logger;
}

/**
 * Delay before the next attempt after `failures` consecutive failures:
 * doubling from one interval, capped at two (so an agent is back within two
 * intervals of a registry's restart) and at {@linkcode MAX_BACKOFF_MS}.
 */
export function backoffDelay(intervalMs: number, failures: number): number {
  const cap = Math.min(MAX_BACKOFF_MS, intervalMs * 2);
  const delay = Math.min(cap, intervalMs * 2 ** Math.max(0, failures - 1));
  return delay / 2 + Math.random() * delay / 2;
}

/** Keeps one agent registered while it runs. */
export class HeartbeatLoop {
  #options: HeartbeatOptions;
  #registered = false;
  #postNext = true;
  #failures = 0;
  /** The problem the last failed beat logged ("unavailable" or a refusal), so it is logged once. */
  #problem?: string;
  /** When the registry's answers started leaving a dependency unresolved. */
  #unresolvedSince?: number;
  #timer?: ReturnType<typeof setTimeout>;
  /** When the scheduled beat is due (epoch ms); Infinity while none is (a beat runs). */
  #dueAt = Infinity;
  /** When the last beat asked for with `beatSoon` was due. */
  #lastSoon = -Infinity;
  /** A `beatSoon` asked for while no beat was scheduled: when the next one is due at the latest. */
  #soonAt?: number;
  #running?: Promise<void>;
  #abort = new AbortController();

  /** Creates a stopped loop; call {@linkcode start}. */
  constructor(options: HeartbeatOptions) {
    this.#options = options;
  }

  /** True while the last contact with the registry succeeded. */
  get registered(): boolean {
    return this.#registered;
  }

  /** Starts beating now. */
  start(): void {
    this.#schedule(0);
  }

  /** Makes the next beat a full `POST /heartbeat` (for example when tools changed). */
  requestFullHeartbeat(): void {
    this.#postNext = true;
  }

  /**
   * Makes the next beat a full `POST /heartbeat` and brings it forward to
   * now, or to one second after the last beat brought forward this way (a
   * storm of requests makes one beat per second). Used when a provider turned
   * out to be gone, so the registry's answer rewires the agent at once.
   * While the registry itself is failing it only marks the next beat full.
   */
  beatSoon(): void {
    this.#postNext = true;
    // While the registry is failing, the backoff decides (a refused provider says nothing new).
    if (this.#abort.signal.aborted || this.#failures > 0) return;
    const at = Math.max(Date.now(), this.#lastSoon + SOON_GAP_MS);
    if (this.#dueAt === Infinity) {
      this.#soonAt = Math.min(this.#soonAt ?? Infinity, at);
    } else if (at < this.#dueAt) {
      this.#lastSoon = at;
      this.#schedule(at - Date.now());
    }
  }

  /** Stops the loop and waits for an in-flight beat to end. */
  async stop(): Promise<void> {
    this.#abort.abort();
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(delayMs: number): void {
    if (this.#abort.signal.aborted) return;
    if (this.#soonAt !== undefined) {
      delayMs = Math.min(delayMs, Math.max(0, this.#soonAt - Date.now()));
      this.#lastSoon = this.#soonAt;
      this.#soonAt = undefined;
    }
    clearTimeout(this.#timer);
    this.#dueAt = Date.now() + delayMs;
    this.#timer = setTimeout(() => {
      this.#dueAt = Infinity;
      this.#running = this.#beat();
    }, delayMs);
  }

  async #beat(): Promise<void> {
    const { logger, intervalMs } = this.#options;
    try {
      if (!await this.#options.healthy()) {
        logger.log("warn", "health check failed: heartbeat paused");
      } else if (this.#postNext || !this.#registered) {
        await this.#post();
      } else {
        const status = await this.#options.client.check(
          this.#options.registration().agent_id,
          this.#abort.signal,
        );
        if (status === 202 || status === 410) await this.#post();
        else if (status !== 200) throw new Error(`registry answered HTTP ${status} to HEAD`);
      }
      if (this.#problem !== undefined) logger.log("info", "registry reachable again");
      this.#problem = undefined;
      this.#failures = 0;
      this.#schedule(this.#nextInterval());
    } catch (error) {
      if (this.#abort.signal.aborted) return;
      this.#registered = false;
      this.#failures++;
      // A refusal is a setting to fix, an outage is to wait out: each is logged when it starts.
      const rejected = error instanceof RegistryRejection;
      const problem = rejected ? error.message : "unavailable";
      if (problem !== this.#problem) {
        this.#problem = problem;
        const url = this.#options.client.url;
        if (rejected) logger.log("error", `registry ${url} ${problem}; retrying`);
        else logger.log("warn", `registry ${url} unavailable (${describeError(error)}); retrying`);
      }
      this.#schedule(backoffDelay(intervalMs, this.#failures));
    }
  }

  async #post(): Promise<void> {
    // Cleared first: a request for a full beat made while this one is in flight stays.
    this.#postNext = false;
    const answer = await this.#options.client.register(
      this.#options.registration(),
      this.#abort.signal,
    );
    if (!this.#registered) {
      this.#options.logger.log("info", `registered with ${this.#options.client.url}`);
    }
    this.#registered = true;
    const resolved = answer.dependencies_resolved ?? {};
    const waiting = Object.values(resolved).some((entries) =>
      entries.some((entry) => entry.status === "unresolved")
    );
    this.#unresolvedSince = waiting ? this.#unresolvedSince ?? Date.now() : undefined;
    this.#options.onResolved(resolved);
  }

  /** The interval, shortened while a dependency has been unresolved for less than the window. */
  #nextInterval(): number {
    const { intervalMs } = this.#options;
    const since = this.#unresolvedSince;
    return since !== undefined && Date.now() - since < WAITING_WINDOW_MS
      ? Math.min(intervalMs, WAITING_INTERVAL_MS)
      : intervalMs;
  }
}
