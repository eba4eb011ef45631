import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SCHEMA_VERSION, SqliteStore } from "./sqlite_store.ts";
import type { StoredAgent } from "./store.ts";

function stored(id: string): StoredAgent {
  return {
    id,
    name: id,
    agent_type: "mcp_agent",
    version: "1.0.0",
    http_host: "127.0.0.1",
    http_port: 9000,
    namespace: "default",
    status: "healthy",
    created_at: 1,
    updated_at: 1,
    last_seen: 1,
    tools: [{
      function_name: "f",
      capability: "c",
      version: "1.0.0",
      tags: ["t"],
      dependencies: [[{ capability: "x", required: true }, { capability: "y" }]],
      kwargs: { timeout: 3 },
    }],
  };
}

async function withFile(test: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mesh_sqlite_store_" });
  try {
    await test(`${dir}/store.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("SqliteStore migrates a new file in WAL mode and records the schema version", async () => {
  await withFile(async (path) => {
    await new SqliteStore(path).close();
    const db = new DatabaseSync(path);
    try {
      assert.deepEqual({ ...db.prepare("PRAGMA journal_mode").get() }, { journal_mode: "wal" });
      assert.deepEqual({ ...db.prepare("SELECT MAX(version) AS v FROM schema_version").get() }, {
        v: SCHEMA_VERSION,
      });
      db.exec(`INSERT INTO schema_version (version) VALUES (${SCHEMA_VERSION + 1})`);
    } finally {
      db.close();
    }
    assert.throws(() => new SqliteStore(path), /newer than this registry supports/);
  });
});

Deno.test("SqliteStore commit is all or nothing and survives reopening", async () => {
  await withFile(async (path) => {
    const store = new SqliteStore(path);
    await store.commit({
      writes: [{ agent: stored("a"), replaceTools: true }],
      events: [{ event_type: "register", agent_id: "a", timestamp: 5, data: { n: 1 } }],
    });
    const broken = { ...stored("b"), name: null as unknown as string };
    await assert.rejects(
      store.commit({
        writes: [{ agent: stored("c"), replaceTools: true }, { agent: broken, replaceTools: true }],
        events: [{ event_type: "register", agent_id: "c", timestamp: 6 }],
      }),
    );
    await store.commit({ lastSeen: new Map([["a", 42], ["gone", 7]]) });
    await store.close();

    const reopened = new SqliteStore(path);
    try {
      assert.deepEqual(await reopened.loadAgents(), [{ ...stored("a"), last_seen: 42 }]);
      assert.deepEqual(await reopened.listEvents({ limit: 10 }), [{
        event_type: "register",
        agent_id: "a",
        timestamp: new Date(5).toISOString(),
        data: { n: 1 },
      }]);
    } finally {
      await reopened.close();
    }
  });
});

Deno.test("SqliteStore filters, orders and prunes events", async () => {
  const store = new SqliteStore(":memory:");
  try {
    await store.commit({
      events: Array.from({ length: 6 }, (_, i) => ({
        event_type: i % 2 === 0 ? "register" as const : "unregister" as const,
        agent_id: `a${i % 3}`,
        timestamp: i,
      })),
    });
    const times = async (query: Parameters<SqliteStore["listEvents"]>[0]) =>
      (await store.listEvents(query)).map((event) => Date.parse(event.timestamp));
    assert.deepEqual(await times({ limit: 3 }), [5, 4, 3]);
    assert.deepEqual(await times({ limit: 10, type: "unregister" }), [5, 3, 1]);
    assert.deepEqual(await times({ limit: 10, agent_id: "a0" }), [3, 0]);
    await store.pruneEvents(2);
    assert.deepEqual(await times({ limit: 10 }), [5, 4]);
  } finally {
    await store.close();
  }
});
