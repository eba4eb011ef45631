import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SCHEMA_VERSION, SqliteStore } from "./sqlite_store.ts";
import type { StoredAgent } from "./store.ts";
import { storedAgent } from "./tests/harness.ts";

function stored(id: string): StoredAgent {
  return storedAgent(id, [{
    function_name: "f",
    capability: "c",
    version: "1.0.0",
    tags: ["t"],
    dependencies: [[{ capability: "x", required: true }, { capability: "y" }]],
    kwargs: { timeout: 3 },
  }], { created_at: 1, updated_at: 1, last_seen: 1 });
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

Deno.test("SqliteStore stores shared tools once and deletes them with their last agent", async () => {
  await withFile(async (path) => {
    const other = (id: string) => ({
      ...stored(id),
      tools: [{ ...stored(id).tools[0], version: "2.0.0" }],
    });
    // The versions of the stored tool sets, read while no store has the file.
    const toolSets = () => {
      const db = new DatabaseSync(path);
      try {
        return db.prepare("SELECT tools FROM tool_sets ORDER BY id").all()
          .map((row) => JSON.parse(row.tools as string)[0].version);
      } finally {
        db.close();
      }
    };
    const store = new SqliteStore(path);
    await store.commit({
      writes: [stored("a"), stored("b"), other("c")].map((agent) => ({
        agent,
        replaceTools: true,
      })),
    });
    await store.close();
    assert.deepEqual(toolSets(), ["1.0.0", "2.0.0"]);

    const counting = new SqliteStore(path);
    await counting.commit({ deletes: ["a"] });
    // b moves to the second set: the first has no agent left.
    await counting.commit({ writes: [{ agent: other("b"), replaceTools: true }] });
    await counting.close();
    assert.deepEqual(toolSets(), ["2.0.0"]);

    // Reopened, the store counts the users again: the set goes with the last of them.
    const reopened = new SqliteStore(path);
    assert.deepEqual(await reopened.loadAgents(), [other("b"), other("c")]);
    await reopened.commit({ deletes: ["b"] });
    await reopened.commit({ deletes: ["c", "unknown"] });
    await reopened.close();
    assert.deepEqual(toolSets(), []);
  });
});

Deno.test("SqliteStore keeps its file to itself while open", async () => {
  await withFile(async (path) => {
    const store = new SqliteStore(path);
    try {
      assert.throws(() => new SqliteStore(path), /in use by another process/);
      await store.commit({ writes: [{ agent: stored("a"), replaceTools: true }] });
    } finally {
      await store.close();
    }
    const next = new SqliteStore(path);
    try {
      assert.deepEqual(await next.loadAgents(), [stored("a")]);
    } finally {
      await next.close();
    }
  });
});

Deno.test("SqliteStore migrates schema 4: equal tool lists become one shared set", async () => {
  await withFile(async (path) => {
    const db = new DatabaseSync(path);
    db.exec(`
      CREATE TABLE schema_version (version INTEGER NOT NULL);
      INSERT INTO schema_version (version) VALUES (1), (2), (3), (4);
      CREATE TABLE agents (id TEXT PRIMARY KEY, name TEXT NOT NULL, agent_type TEXT NOT NULL,
        runtime TEXT, description TEXT, version TEXT NOT NULL, http_host TEXT NOT NULL,
        http_port INTEGER NOT NULL, namespace TEXT NOT NULL, status TEXT NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_seen INTEGER NOT NULL);
      CREATE TABLE agent_tools (agent_id TEXT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
        tools TEXT NOT NULL);
      CREATE TABLE events (id INTEGER PRIMARY KEY, event_type TEXT NOT NULL,
        agent_id TEXT NOT NULL, agent_name TEXT, timestamp INTEGER NOT NULL, data TEXT);
    `);
    const insertAgent = db.prepare(
      `INSERT INTO agents VALUES (?, ?, 'mcp_agent', NULL, NULL, '1.0.0', '', 9000, 'default',
        'healthy', 1, 1, 1)`,
    );
    const insertTools = db.prepare("INSERT INTO agent_tools VALUES (?, ?)");
    const tools = (version: string) => JSON.stringify([{ ...stored("x").tools[0], version }]);
    for (const [id, version] of [["a", "1.0.0"], ["b", "1.0.0"], ["c", "2.0.0"]]) {
      insertAgent.run(id, id);
      insertTools.run(id, tools(version));
    }
    db.close();
    const store = new SqliteStore(path);
    const versions = async () =>
      (await store.loadAgents()).map((agent) => `${agent.id}:${agent.tools[0]?.version}`);
    try {
      assert.deepEqual(await versions(), ["a:1.0.0", "b:1.0.0", "c:2.0.0"]);
      // a and b share a set: it stays while one of them does.
      await store.commit({ deletes: ["a"] });
      await store.commit({ writes: [{ agent: stored("d"), replaceTools: true }] });
      assert.deepEqual(await versions(), ["b:1.0.0", "c:2.0.0", "d:1.0.0"]);
    } finally {
      await store.close();
    }
    const check = new DatabaseSync(path);
    try {
      assert.deepEqual(
        check.prepare("SELECT id, tool_set FROM agents ORDER BY id").all().map((row) =>
          `${row.id}:${row.tool_set}`
        ),
        ["b:1", "c:2", "d:1"],
        "d's tools are the same text as b's: it joins the migrated set",
      );
      assert.equal(
        (check.prepare("SELECT count(*) AS n FROM tool_sets").get() as { n: number }).n,
        2,
      );
      assert.equal(
        check.prepare("SELECT name FROM sqlite_master WHERE name = 'agent_tools'").get(),
        undefined,
      );
    } finally {
      check.close();
    }
  });
});

Deno.test("SqliteStore reports the error of a failed migration", async () => {
  await withFile((path) => {
    // A schema-4 file that already has the column schema 5 adds.
    const db = new DatabaseSync(path);
    db.exec(`
      CREATE TABLE schema_version (version INTEGER NOT NULL);
      INSERT INTO schema_version (version) VALUES (1), (2), (3), (4);
      CREATE TABLE agents (id TEXT PRIMARY KEY, tool_set INTEGER);
      CREATE TABLE agent_tools (agent_id TEXT PRIMARY KEY, tools TEXT NOT NULL);
      CREATE TABLE events (id INTEGER PRIMARY KEY);
    `);
    db.close();
    assert.throws(() => new SqliteStore(path), /duplicate column name: tool_set/);
    return Promise.resolve();
  });
});

Deno.test("SqliteStore forgets the tool sets of a failed commit", async () => {
  const store = new SqliteStore(":memory:");
  try {
    const broken = { ...stored("b"), name: null as unknown as string };
    // "a" stores a new tool set before "b" fails the transaction.
    await assert.rejects(store.commit({
      writes: [stored("a"), broken].map((agent) => ({ agent, replaceTools: true })),
    }));
    await store.commit({ writes: [{ agent: stored("c"), replaceTools: true }] });
    assert.deepEqual(await store.loadAgents(), [stored("c")]);
  } finally {
    await store.close();
  }
});

Deno.test("SqliteStore migrates a schema-1 file: tool rows move into their agents", async () => {
  await withFile(async (path) => {
    // A database as registry 0.1.0 (schema 1) wrote it.
    const db = new DatabaseSync(path);
    db.exec(`
      CREATE TABLE schema_version (version INTEGER NOT NULL);
      INSERT INTO schema_version (version) VALUES (1);
      CREATE TABLE agents (id TEXT PRIMARY KEY, name TEXT NOT NULL, agent_type TEXT NOT NULL,
        runtime TEXT, description TEXT, version TEXT NOT NULL, http_host TEXT NOT NULL,
        http_port INTEGER NOT NULL, namespace TEXT NOT NULL, status TEXT NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_seen INTEGER NOT NULL);
      CREATE TABLE tools (agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
        position INTEGER NOT NULL, function_name TEXT NOT NULL, capability TEXT NOT NULL,
        version TEXT NOT NULL, tags TEXT NOT NULL, dependencies TEXT NOT NULL, description TEXT,
        input_schema TEXT, output_schema TEXT, kwargs TEXT, PRIMARY KEY (agent_id, position));
      CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, event_type TEXT NOT NULL,
        agent_id TEXT NOT NULL, agent_name TEXT, timestamp INTEGER NOT NULL, data TEXT);
      INSERT INTO agents VALUES
        ('a', 'a', 'mcp_agent', 'typescript', NULL, '1.0.0', '127.0.0.1', 9000, 'default',
         'healthy', 1, 2, 3),
        ('empty', 'empty', 'api', NULL, 'no tools', '2.0.0', '', 0, 'prod', 'unhealthy', 4, 5, 6);
      INSERT INTO tools VALUES
        ('a', 1, 'g', 'cg', '2.0.0', '[]', '[{"capability":"cf"}]', 'second', NULL, NULL, NULL),
        ('a', 0, 'f', 'cf', '1.0.0', '["t"]', '[]', NULL, '{"type":"object"}', NULL,
         '{"timeout":3}');
      INSERT INTO events (event_type, agent_id, timestamp) VALUES ('register', 'a', 1);
    `);
    db.close();
    const store = new SqliteStore(path);
    try {
      assert.deepEqual(await store.loadAgents(), [
        {
          id: "a",
          name: "a",
          agent_type: "mcp_agent",
          runtime: "typescript",
          version: "1.0.0",
          http_host: "127.0.0.1",
          http_port: 9000,
          namespace: "default",
          status: "healthy",
          created_at: 1,
          updated_at: 2,
          last_seen: 3,
          tools: [
            {
              function_name: "f",
              capability: "cf",
              version: "1.0.0",
              tags: ["t"],
              dependencies: [],
              inputSchema: { type: "object" },
              kwargs: { timeout: 3 },
            },
            {
              function_name: "g",
              capability: "cg",
              version: "2.0.0",
              tags: [],
              dependencies: [{ capability: "cf" }],
              description: "second",
            },
          ],
        },
        {
          id: "empty",
          name: "empty",
          agent_type: "api",
          description: "no tools",
          version: "2.0.0",
          http_host: "",
          http_port: 0,
          namespace: "prod",
          status: "unhealthy",
          created_at: 4,
          updated_at: 5,
          last_seen: 6,
          tools: [],
        },
      ]);
      assert.equal((await store.listEvents({ limit: 10 })).length, 1);
      // Events written after the migration (schema 3) come after the old ones.
      await store.commit({ events: [{ event_type: "unregister", agent_id: "a", timestamp: 9 }] });
      assert.deepEqual(
        (await store.listEvents({ limit: 10 })).map((event) => event.event_type),
        ["unregister", "register"],
      );
    } finally {
      await store.close();
    }
  });
});

Deno.test("SqliteStore keeps stored tools when a write does not replace them", async () => {
  const store = new SqliteStore(":memory:");
  try {
    await store.commit({ writes: [{ agent: stored("a"), replaceTools: true }] });
    await store.commit({
      writes: [
        { agent: { ...stored("a"), tools: [], last_seen: 9 }, replaceTools: false },
        { agent: stored("b"), replaceTools: false },
      ],
    });
    assert.deepEqual(await store.loadAgents(), [
      { ...stored("a"), last_seen: 9 },
      { ...stored("b"), tools: [] },
    ]);
  } finally {
    await store.close();
  }
});

Deno.test("SqliteStore commits into its log; maintain() checkpoints it into the file", async () => {
  await withFile(async (path) => {
    const store = new SqliteStore(path);
    try {
      const before = (await Deno.stat(path)).size;
      await store.commit({
        writes: Array.from(
          { length: 50 },
          (_, i) => ({ agent: stored(`a${i}`), replaceTools: true }),
        ),
      });
      assert.equal((await Deno.stat(path)).size, before, "the commit stays in the log");
      assert.ok((await Deno.stat(`${path}-wal`)).size > 0);
      await store.maintain();
      assert.ok((await Deno.stat(path)).size > before, "the checkpoint wrote the file");
      assert.equal((await store.loadAgents()).length, 50);
    } finally {
      await store.close();
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
