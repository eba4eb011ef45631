/**
 * Who owns which session: the replica that first handled a session keeps it
 * (`session:{id}` → owner endpoint, with a TTL refreshed on use). Owners live
 * in Redis when `REDIS_URL` is set, so every replica agrees on them, and in
 * this process's memory otherwise, or while Redis is unreachable.
 *
 * @example
 * ```ts ignore
 * const sessions = createSessionStore({ redisUrl: "redis://127.0.0.1:6379" });
 * const owner = await sessions.claim("s-1", "http://10.0.0.5:9000");
 * if (owner !== "http://10.0.0.5:9000") {
 *   // forward the call to `owner`; if it is dead:
 *   await sessions.takeOver("s-1", owner, "http://10.0.0.5:9000");
 * }
 * await sessions.close();
 * ```
 *
 * @module
 */

import type { createClient } from "redis";
import { createLogger, describeError } from "./log.ts";

/** Seconds a session stays owned without use when `MCP_MESH_SESSION_TTL` is not set. */
export const DEFAULT_SESSION_TTL_SECONDS = 3600;

/** Most sessions a {@linkcode MemorySessionStore} keeps by default (the least recently used go first). */
export const DEFAULT_MAX_SESSIONS = 10_000;

/** Prefix of the Redis keys holding session owners: `session:{id}`. */
export const SESSION_KEY_PREFIX = "session:";

/** Longest pause between two attempts to reach Redis again. */
const MAX_RECONNECT_DELAY_MS = 1_000;

/** Longest wait for one Redis command before the call falls back to memory. */
const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;

/** Session owners, shared by the replicas of an agent. */
export interface SessionOwnerStore {
  /**
   * Makes `endpoint` the owner of `sessionId` if nobody owns it, and returns
   * the owner. When the owner is `endpoint`, its ownership is refreshed.
   */
  claim(sessionId: string, endpoint: string): Promise<string>;
  /**
   * Replaces the owner by `endpoint` only if it still is `deadOwner` (or
   * nobody owns the session any more), and returns the owner afterwards.
   */
  takeOver(sessionId: string, deadOwner: string, endpoint: string): Promise<string>;
  /** Forgets the session if `endpoint` owns it; true when it did. */
  release(sessionId: string, endpoint: string): Promise<boolean>;
  /** The current owner of `sessionId`, without claiming it. */
  owner(sessionId: string): Promise<string | undefined>;
  /** Releases every connection and timer. */
  close(): Promise<void>;
}

/**
 * Where a {@linkcode RedisSessionStore} reports falling back to memory
 * (`warn`) and Redis coming back (`info`); the mesh's `Logger` fits.
 */
export interface SessionStoreLogger {
  /** Logs one line. */
  log(level: "warn" | "info", message: string): void;
}

/** Options of {@linkcode MemorySessionStore}. */
export interface MemorySessionStoreOptions {
  /** Seconds of ownership without use (default `MCP_MESH_SESSION_TTL`, else 3600). */
  ttlSeconds?: number;
  /** Most sessions kept; beyond it the least recently used are forgotten (default 10 000). */
  maxSessions?: number;
  /** Clock in milliseconds (default `Date.now`), for tests. */
  now?: () => number;
}

/** Options of {@linkcode RedisSessionStore}. */
export interface RedisSessionStoreOptions {
  /** `redis://` or `rediss://` URL. */
  redisUrl: string;
  /** Seconds of ownership without use (default `MCP_MESH_SESSION_TTL`, else 3600). */
  ttlSeconds?: number;
  /** Where the fallback warning and the recovery notice go. */
  logger?: SessionStoreLogger;
  /** Longest wait in ms for a connection or one command before falling back to memory (default 2000). */
  commandTimeoutMs?: number;
}

/** Options of {@linkcode createSessionStore}. */
export interface SessionStoreOptions {
  /** Redis URL (default env `REDIS_URL`); without one, owners stay in memory. */
  redisUrl?: string;
  /** Seconds of ownership without use (default `MCP_MESH_SESSION_TTL`, else 3600). */
  ttlSeconds?: number;
  /** Where the Redis store's warnings go. */
  logger?: SessionStoreLogger;
}

/** Reads `MCP_MESH_SESSION_TTL` (seconds, > 0), defaulting to 3600. */
export function sessionTtlFromEnv(): number {
  const raw = Deno.env.get("MCP_MESH_SESSION_TTL")?.trim();
  if (raw === undefined || raw === "") return DEFAULT_SESSION_TTL_SECONDS;
  return checkedTtl(Number(raw), `MCP_MESH_SESSION_TTL=${JSON.stringify(raw)}`);
}

function checkedTtl(seconds: number, what = `ttlSeconds ${seconds}`): number {
  if (!Number.isFinite(seconds) || seconds * 1000 < 1) {
    throw new RangeError(`${what} is not valid: expected a number of seconds > 0`);
  }
  return seconds;
}

function ttlMs(seconds: number | undefined): number {
  return Math.round(checkedTtl(seconds ?? sessionTtlFromEnv()) * 1000);
}

/** Session owners in this process's memory, each forgotten after its TTL without use. */
export class MemorySessionStore implements SessionOwnerStore {
  #owners = new Map<string, { owner: string; expiresAt: number }>();
  #ttlMs: number;
  #maxSessions: number;
  #now: () => number;

  /** A store keeping at most `maxSessions` owners for `ttlSeconds` each. */
  constructor(options: MemorySessionStoreOptions = {}) {
    this.#ttlMs = ttlMs(options.ttlSeconds);
    this.#maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    if (!Number.isInteger(this.#maxSessions) || this.#maxSessions < 1) {
      throw new RangeError(
        `maxSessions ${this.#maxSessions} is not valid: expected an integer > 0`,
      );
    }
    this.#now = options.now ?? Date.now;
  }

  /** Sessions currently remembered (expired ones included until touched). */
  get size(): number {
    return this.#owners.size;
  }

  claim(sessionId: string, endpoint: string): Promise<string> {
    const owner = this.#current(sessionId);
    if (owner === undefined || owner === endpoint) this.remember(sessionId, endpoint);
    return Promise.resolve(owner ?? endpoint);
  }

  takeOver(sessionId: string, deadOwner: string, endpoint: string): Promise<string> {
    const owner = this.#current(sessionId);
    if (owner !== undefined && owner !== deadOwner) return Promise.resolve(owner);
    this.remember(sessionId, endpoint);
    return Promise.resolve(endpoint);
  }

  release(sessionId: string, endpoint: string): Promise<boolean> {
    if (this.#current(sessionId) !== endpoint) return Promise.resolve(false);
    this.#owners.delete(sessionId);
    return Promise.resolve(true);
  }

  owner(sessionId: string): Promise<string | undefined> {
    return Promise.resolve(this.#current(sessionId));
  }

  /** Records `owner` as the owner of `sessionId` (as another store reported it), for a full TTL. */
  remember(sessionId: string, owner: string): void {
    // Re-inserting keeps the map in least-recently-used order.
    this.#owners.delete(sessionId);
    this.#owners.set(sessionId, { owner, expiresAt: this.#now() + this.#ttlMs });
    if (this.#owners.size > this.#maxSessions) {
      this.#owners.delete(this.#owners.keys().next().value!);
    }
  }

  close(): Promise<void> {
    this.#owners.clear();
    return Promise.resolve();
  }

  #current(sessionId: string): string | undefined {
    const entry = this.#owners.get(sessionId);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.#now()) return entry.owner;
    this.#owners.delete(sessionId);
    return undefined;
  }
}

/** KEYS[1] session key; ARGV endpoint, ttl ms. Sets the owner if absent, refreshes it if ours. */
const CLAIM_SCRIPT = `
local owner = redis.call('GET', KEYS[1])
if not owner then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
if owner == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return owner`;

/** KEYS[1] session key; ARGV dead owner, endpoint, ttl ms. Compare-and-set of the owner. */
const TAKE_OVER_SCRIPT = `
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return owner end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return ARGV[2]`;

/** KEYS[1] session key; ARGV endpoint. Deletes the key only if the endpoint owns it. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** `scheme://host:port` of a Redis URL: what logs may show (never the password). */
function redisLocation(redisUrl: string): string {
  let url: URL;
  try {
    url = new URL(redisUrl);
  } catch {
    throw new TypeError(`Redis URL ${JSON.stringify(redisUrl)} is not a valid URL`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new TypeError(`Redis URL must start with redis:// or rediss://, got ${url.protocol}//`);
  }
  return `${url.protocol}//${url.host}`;
}

/** A node-redis client as `createClient` makes it. */
type RedisClient = ReturnType<typeof createClient>;

/** The event emitter side of a node-redis client. */
interface Emitter {
  once(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

/** Resolves on the first of `events` emitted by `emitter`, or after `ms` when given. */
function firstEvent(emitter: Emitter, events: string[], ms?: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const event of events) emitter.off(event, done);
      resolve();
    };
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    for (const event of events) emitter.once(event, done);
  });
}

/**
 * Session owners in Redis, shared by every replica, with a memory fallback:
 * while Redis is unreachable (at start or later) calls are served from this
 * process's memory after ONE warning, and Redis is used again, with a notice,
 * once the client has reconnected. A call never waits on a dead Redis:
 * commands are refused at once while disconnected and time out otherwise.
 */
export class RedisSessionStore implements SessionOwnerStore {
  /** Set once node-redis is loaded (~200 ms: only stores that use Redis load it). */
  #client?: RedisClient;
  #loaded: Promise<RedisClient>;
  #memory: MemorySessionStore;
  /** TTL in milliseconds, as a script argument. */
  #ttl: string;
  #logger: SessionStoreLogger;
  #location: string;
  #firstAttempt: Promise<void>;
  #connecting: Promise<unknown>;
  #degraded = false;
  #retryScheduled = false;
  #closed?: Promise<void>;

  /** Connects to `options.redisUrl` in the background; calls are served at once. */
  constructor(options: RedisSessionStoreOptions) {
    this.#location = redisLocation(options.redisUrl);
    const ttl = ttlMs(options.ttlSeconds);
    this.#ttl = String(ttl);
    this.#memory = new MemorySessionStore({ ttlSeconds: ttl / 1000 });
    this.#logger = options.logger ?? createLogger("session-store");
    this.#loaded = import("redis").then(({ createClient }) =>
      this.#createClient(createClient, options)
    );
    this.#firstAttempt = this.#loaded.then((client) => firstEvent(client, ["ready", "error"]));
    this.#connecting = this.#loaded.then((client) => client.connect()).catch(() => {});
  }

  #createClient(create: typeof createClient, options: RedisSessionStoreOptions): RedisClient {
    const client = create({
      url: options.redisUrl,
      disableOfflineQueue: true,
      commandOptions: { timeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS },
      socket: {
        connectTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
        reconnectStrategy: (retries) => {
          this.#retryScheduled = true;
          return Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS);
        },
      },
    });
    client.on("error", (error) => this.#fallBack(error));
    client.on("reconnecting", () => this.#retryScheduled = false);
    client.on("ready", () => {
      this.#retryScheduled = false;
      this.#recovered();
    });
    return this.#client = client;
  }

  /** True while calls are served by Redis, false while they fall back to memory. */
  get usingRedis(): boolean {
    return this.#client?.isReady === true && !this.#degraded;
  }

  claim(sessionId: string, endpoint: string): Promise<string> {
    return this.#run(async (client) => {
      const keys = [key(sessionId)];
      const owner = String(
        await client.eval(CLAIM_SCRIPT, { keys, arguments: [endpoint, this.#ttl] }),
      );
      this.#memory.remember(sessionId, owner);
      return owner;
    }, () => this.#memory.claim(sessionId, endpoint));
  }

  takeOver(sessionId: string, deadOwner: string, endpoint: string): Promise<string> {
    return this.#run(async (client) => {
      const keys = [key(sessionId)];
      const args = [deadOwner, endpoint, this.#ttl];
      const owner = String(await client.eval(TAKE_OVER_SCRIPT, { keys, arguments: args }));
      this.#memory.remember(sessionId, owner);
      return owner;
    }, () => this.#memory.takeOver(sessionId, deadOwner, endpoint));
  }

  release(sessionId: string, endpoint: string): Promise<boolean> {
    return this.#run(async (client) => {
      const keys = [key(sessionId)];
      const deleted = await client.eval(RELEASE_SCRIPT, { keys, arguments: [endpoint] });
      await this.#memory.release(sessionId, endpoint);
      return deleted === 1;
    }, () => this.#memory.release(sessionId, endpoint));
  }

  owner(sessionId: string): Promise<string | undefined> {
    return this.#run(
      async (client) => await client.get(key(sessionId)) ?? undefined,
      () => this.#memory.owner(sessionId),
    );
  }

  close(): Promise<void> {
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  async #shutdown(): Promise<void> {
    const client = await this.#loaded;
    if (client.isReady) await client.close();
    else if (client.isOpen) client.destroy();
    await this.#connecting;
    // A reconnect pause of node-redis cannot be cancelled: wait until it ends.
    if (this.#retryScheduled) {
      await firstEvent(
        client,
        ["reconnecting", "ready", "end"],
        MAX_RECONNECT_DELAY_MS + 500,
      );
    }
    await this.#memory.close();
  }

  /** Runs `command` on Redis when it is reachable, else (or when it fails) `fallback` in memory. */
  async #run<T>(
    command: (client: RedisClient) => Promise<T>,
    fallback: () => Promise<T>,
  ): Promise<T> {
    if (this.#closed) throw new Error("the session store is closed");
    const client = await this.#loaded;
    await this.#firstAttempt;
    if (!client.isReady) {
      this.#fallBack(new Error("not connected"));
      return await fallback();
    }
    let result: T;
    try {
      result = await command(client);
    } catch (error) {
      this.#fallBack(error);
      return await fallback();
    }
    this.#recovered();
    return result;
  }

  #fallBack(error: unknown): void {
    if (this.#degraded || this.#closed) return;
    this.#degraded = true;
    this.#logger.log(
      "warn",
      `Redis at ${this.#location} is unreachable (${describeError(error)}); ` +
        "session owners are kept in this process's memory until it is back",
    );
  }

  #recovered(): void {
    if (!this.#degraded || this.#closed) return;
    this.#degraded = false;
    this.#logger.log(
      "info",
      `Redis at ${this.#location} is back; session owners are stored there again`,
    );
  }
}

function key(sessionId: string): string {
  return `${SESSION_KEY_PREFIX}${sessionId}`;
}

/**
 * The session store for this process: {@linkcode RedisSessionStore} when a
 * Redis URL is given (`options.redisUrl` or env `REDIS_URL`), else
 * {@linkcode MemorySessionStore}.
 */
export function createSessionStore(options: SessionStoreOptions = {}): SessionOwnerStore {
  const redisUrl = options.redisUrl ?? (Deno.env.get("REDIS_URL")?.trim() || undefined);
  if (redisUrl === undefined) return new MemorySessionStore({ ttlSeconds: options.ttlSeconds });
  return new RedisSessionStore({
    redisUrl,
    ttlSeconds: options.ttlSeconds,
    logger: options.logger,
  });
}
