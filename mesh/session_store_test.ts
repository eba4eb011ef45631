import assert from "node:assert/strict";
import { createClient } from "redis";
import type { Logger, LogLevel } from "./log.ts";
import {
  createSessionStore,
  MemorySessionStore,
  RedisSessionStore,
  type SessionOwnerStore,
  sessionTtlFromEnv,
} from "./session_store.ts";
import { freeLoopbackUrl, waitFor } from "./tests/helpers.ts";
import { type RedisServer, startRedis } from "./tests/redis_server.ts";

const A = "http://127.0.0.1:9001";
const B = "http://127.0.0.1:9002";
const C = "http://127.0.0.1:9003";

/** A logger that keeps what it is told. */
function recordingLogger(): Logger & { lines: { level: LogLevel; message: string }[] } {
  const lines: { level: LogLevel; message: string }[] = [];
  return { lines, log: (level, message) => lines.push({ level, message }) };
}

function count(logger: ReturnType<typeof recordingLogger>, level: LogLevel): number {
  return logger.lines.filter((line) => line.level === level).length;
}

/** Runs `body` with a fresh Redis and a raw client on it, cleaning both up. */
async function withRedis(
  body: (redis: RedisServer, raw: ReturnType<typeof createClient>) => Promise<void>,
): Promise<void> {
  const redis = await startRedis();
  const raw = createClient({ url: redis.url });
  try {
    await raw.connect();
    await body(redis, raw);
  } finally {
    if (raw.isOpen) raw.destroy();
    await redis.stop();
  }
}

/** Runs `body` on `stores`, then closes them, whatever happens. */
async function closing<T extends SessionOwnerStore>(
  stores: T[],
  body: (...stores: NoInfer<T>[]) => Promise<void>,
): Promise<void> {
  try {
    await body(...stores);
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
}

/** The same contract, for both implementations. */
async function checkOwnershipContract(store: SessionOwnerStore): Promise<void> {
  assert.equal(await store.owner("s1"), undefined);
  assert.equal(await store.claim("s1", A), A, "the first claimer owns the session");
  assert.equal(await store.claim("s1", B), A, "a later claimer learns the owner");
  assert.equal(await store.owner("s1"), A);

  assert.equal(await store.takeOver("s1", C, B), A, "a stale dead owner changes nothing");
  assert.equal(await store.takeOver("s1", A, B), B, "the dead owner is replaced");
  assert.equal(await store.claim("s1", A), B, "the old owner now learns the new one");
  assert.equal(await store.takeOver("s1", A, C), B, "a second take-over of A loses the race");
  assert.equal(await store.takeOver("gone", A, C), C, "an unowned session goes to the taker");

  assert.equal(await store.release("s1", A), false, "only the owner may release");
  assert.equal(await store.owner("s1"), B);
  assert.equal(await store.release("s1", B), true);
  assert.equal(await store.owner("s1"), undefined);
  assert.equal(await store.claim("s1", A), A, "a released session is free again");
}

Deno.test("MemorySessionStore: claim, takeOver (compare-and-set) and release-if-owner", async () => {
  await closing([new MemorySessionStore()], checkOwnershipContract);
});

Deno.test("MemorySessionStore: ownership expires after the TTL, and the owner's claims refresh it", async () => {
  let now = 0;
  await closing([new MemorySessionStore({ ttlSeconds: 10, now: () => now })], async (store) => {
    assert.equal(await store.claim("s", A), A);
    now = 9_999;
    assert.equal(await store.claim("s", B), A, "B's claim neither takes nor refreshes");
    now = 10_000;
    assert.equal(await store.owner("s"), undefined, "expired 10 s after A's claim");
    assert.equal(await store.claim("s", B), B);
    now = 19_000;
    assert.equal(await store.claim("s", B), B, "the owner's claim refreshes");
    now = 28_999;
    assert.equal(await store.claim("s", A), B, "still owned 9.999 s after the refresh");
    now = 29_000;
    assert.equal(await store.claim("s", A), A);
  });
});

Deno.test("MemorySessionStore: keeps at most maxSessions, forgetting the least recently used", async () => {
  await closing([new MemorySessionStore({ maxSessions: 2 })], async (store) => {
    await store.claim("one", A);
    await store.claim("two", A);
    await store.claim("one", A); // "two" is now the least recently used
    await store.claim("three", A);
    assert.equal(store.size, 2);
    assert.equal(await store.owner("two"), undefined);
    assert.equal(await store.owner("one"), A);
    assert.equal(await store.owner("three"), A);
  });
});

Deno.test("session TTL: MCP_MESH_SESSION_TTL is read, defaults to 3600, and rejects nonsense", () => {
  const saved = Deno.env.get("MCP_MESH_SESSION_TTL");
  try {
    Deno.env.delete("MCP_MESH_SESSION_TTL");
    assert.equal(sessionTtlFromEnv(), 3600);
    Deno.env.set("MCP_MESH_SESSION_TTL", "90");
    assert.equal(sessionTtlFromEnv(), 90);
    for (const bad of ["abc", "0", "-5"]) {
      Deno.env.set("MCP_MESH_SESSION_TTL", bad);
      assert.throws(() => sessionTtlFromEnv(), /MCP_MESH_SESSION_TTL="[^"]+" is not valid/);
    }
  } finally {
    if (saved === undefined) Deno.env.delete("MCP_MESH_SESSION_TTL");
    else Deno.env.set("MCP_MESH_SESSION_TTL", saved);
  }
});

Deno.test("createSessionStore: memory without a Redis URL, Redis with one; bad URLs are refused", async () => {
  const saved = Deno.env.get("REDIS_URL");
  try {
    Deno.env.delete("REDIS_URL");
    await closing([createSessionStore()], (store) => {
      assert.ok(store instanceof MemorySessionStore);
      return Promise.resolve();
    });
    await withRedis(async (redis) => {
      Deno.env.set("REDIS_URL", redis.url);
      await closing([createSessionStore({ logger: recordingLogger() })], async (store) => {
        assert.ok(store instanceof RedisSessionStore);
        assert.equal(await store.claim("env", A), A);
        assert.equal(store.usingRedis, true);
      });
    });
    assert.throws(() => createSessionStore({ redisUrl: "http://127.0.0.1:6379" }), /redis:\/\//);
    assert.throws(() => createSessionStore({ redisUrl: "not a url" }), /not a valid URL/);
  } finally {
    if (saved === undefined) Deno.env.delete("REDIS_URL");
    else Deno.env.set("REDIS_URL", saved);
  }
});

Deno.test("RedisSessionStore: claim, takeOver (compare-and-set) and release-if-owner in Redis", async () => {
  await withRedis(async (redis, raw) => {
    const logger = recordingLogger();
    await closing([new RedisSessionStore({ redisUrl: redis.url, logger })], async (store) => {
      await checkOwnershipContract(store);
      assert.equal(await raw.get("session:s1"), A, "the owner is stored under session:{id}");
      assert.equal(await raw.get("session:gone"), C);
      assert.equal(store.usingRedis, true);
    });
    assert.deepEqual(logger.lines, []);
  });
});

Deno.test("RedisSessionStore: the key gets the TTL; the owner's claim refreshes it, others' do not", async () => {
  await withRedis(async (redis, raw) => {
    const store = new RedisSessionStore({ redisUrl: redis.url, ttlSeconds: 30 });
    await closing([store], async () => {
      await store.claim("t", A);
      const ttl = await raw.pTTL("session:t");
      assert.ok(ttl > 0 && ttl <= 30_000, `PTTL ${ttl}`);

      await raw.pExpire("session:t", 1_000_000);
      await store.claim("t", B);
      assert.ok(await raw.pTTL("session:t") > 30_000, "a non-owner's claim leaves the TTL alone");

      await raw.pExpire("session:t", 1_000_000);
      await store.claim("t", A);
      const refreshed = await raw.pTTL("session:t");
      assert.ok(refreshed > 0 && refreshed <= 30_000, `the owner's claim resets it: ${refreshed}`);

      await store.takeOver("t", A, B);
      const taken = await raw.pTTL("session:t");
      assert.ok(taken > 0 && taken <= 30_000, `a take-over sets it: ${taken}`);
    });
  });
});

Deno.test("RedisSessionStore: two replicas claiming concurrently agree on one owner per session", async () => {
  await withRedis(async (redis) => {
    const replicas = [
      new RedisSessionStore({ redisUrl: redis.url }),
      new RedisSessionStore({ redisUrl: redis.url }),
    ];
    await closing(replicas, async (one, two) => {
      const endpoints = [A, B, C];
      for (let session = 0; session < 20; session++) {
        const id = `race-${session}`;
        const claims = endpoints.flatMap((endpoint) => [
          one.claim(id, endpoint),
          two.claim(id, endpoint),
        ]);
        const owners = new Set(await Promise.all(claims));
        assert.equal(owners.size, 1, `session ${id} has owners ${[...owners]}`);
        const [owner] = owners;
        assert.ok(endpoints.includes(owner));
        assert.equal(await one.owner(id), owner);
        assert.equal(await two.owner(id), owner);
      }
      // A take-over race between the replicas has one winner too.
      const owner = await one.claim("handover", A);
      const after = await Promise.all([
        one.takeOver("handover", owner, B),
        two.takeOver("handover", owner, C),
      ]);
      assert.equal(after[0], after[1]);
      assert.ok([B, C].includes(after[0]));
    });
  });
});

Deno.test("RedisSessionStore: without a reachable Redis it works from memory after exactly one warning", async () => {
  const logger = recordingLogger();
  const redisUrl = freeLoopbackUrl().replace("http://", "redis://:secret-pw@");
  const store = new RedisSessionStore({ redisUrl, logger });
  await closing([store], async () => {
    await checkOwnershipContract(store);
    assert.equal(store.usingRedis, false);
    // Let the client fail to reconnect a few more times: still one warning.
    for (let round = 0; round < 3; round++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(await store.claim("s1", B), A);
    }
    assert.equal(count(logger, "warn"), 1, JSON.stringify(logger.lines));
    assert.match(logger.lines[0].message, /unreachable.*memory/);
    assert.doesNotMatch(logger.lines[0].message, /secret-pw/, "no password in logs");
  });
});

Deno.test("RedisSessionStore: a Redis restart falls back to memory with one warning, then uses Redis again", async () => {
  await withRedis(async (redis, raw) => {
    const logger = recordingLogger();
    const store = new RedisSessionStore({ redisUrl: redis.url, logger });
    await closing([store], async () => {
      assert.equal(await store.claim("before", A), A);
      assert.equal(await raw.get("session:before"), A);
      raw.destroy();

      await redis.stop();
      assert.equal(await store.claim("before", B), A, "memory remembers what Redis said");
      assert.equal(await store.claim("down", B), B);
      assert.equal(await store.claim("down", A), B);
      assert.equal(store.usingRedis, false);
      assert.equal(count(logger, "warn"), 1, JSON.stringify(logger.lines));

      await redis.restart();
      await waitFor("the store to reconnect", () => store.usingRedis || undefined);
      assert.equal(await store.claim("after", C), C);
      assert.equal(count(logger, "warn"), 1, JSON.stringify(logger.lines));
      assert.equal(count(logger, "info"), 1, JSON.stringify(logger.lines));
      assert.match(logger.lines[1].message, /back/);

      const fresh = createClient({ url: redis.url });
      await fresh.connect();
      try {
        assert.equal(await fresh.get("session:after"), C, "claims reach Redis again");
      } finally {
        fresh.destroy();
      }
    });
  });
});
