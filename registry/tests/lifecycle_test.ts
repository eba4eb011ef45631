import assert from "node:assert/strict";
import { SqliteStore } from "../sqlite_store.ts";
import type { EventQuery, RegistryStore, StoreChanges } from "../store.ts";
import { agent, startRegistry, waitFor, withRegistry } from "./harness.ts";

const FAST_MONITOR = {
  healthCheckIntervalMs: 25,
  timeoutThresholdMs: 300,
  evictionThresholdMs: 900,
};

Deno.test("health monitor: silent agent goes unhealthy (410, dependents see 202), then expires", async () => {
  await withRegistry(async (registry) => {
    await registry.post(
      "/heartbeat",
      agent("provider", [{ function_name: "t", capability: "time" }]),
    );
    const consumer = agent("consumer", [{
      function_name: "c",
      capability: "clock",
      dependencies: [{ capability: "time" }],
    }]);
    const registered = await registry.post("/heartbeat", consumer);
    assert.equal(registered.body.dependencies_resolved.c[0].agent_id, "provider");

    // The consumer keeps heartbeating with HEAD; the provider falls silent.
    let consumerSaw = 0;
    await waitFor("provider unhealthy", async () => {
      consumerSaw = await registry.send("HEAD", "/heartbeat/consumer");
      return (await registry.get("/agents/provider")).body.status === "unhealthy";
    });
    assert.equal(await registry.send("HEAD", "/heartbeat/provider"), 410);
    assert.equal(await registry.send("HEAD", "/heartbeat/consumer"), 202);
    assert.equal(consumerSaw === 200 || consumerSaw === 202, true);
    const resolved = await registry.post("/heartbeat", consumer);
    assert.deepEqual(resolved.body.dependencies_resolved.c, [{
      capability: "time",
      status: "unresolved",
    }]);
    const unhealthy = (await registry.get("/events?type=unhealthy")).body.events;
    assert.equal(unhealthy[0].agent_id, "provider");
    assert.equal(unhealthy[0].data.new_status, "unhealthy");
    assert.equal(
      (await registry.get("/agents/consumer")).body.status,
      "healthy",
      "HEAD keeps it alive",
    );

    // A POST brings it back.
    const back = await registry.post(
      "/heartbeat",
      agent("provider", [{ function_name: "t", capability: "time" }]),
    );
    assert.equal(back.body.message, "Agent updated via heartbeat");
    assert.equal((await registry.get("/agents/provider")).body.status, "healthy");
    assert.equal(
      (await registry.get("/events?agent_id=provider&limit=1")).body.events[0].event_type,
      "register",
    );
    assert.equal(await registry.send("HEAD", "/heartbeat/consumer"), 202);

    // Silent again: unhealthy, then gone.
    await waitFor("provider expired", async () => {
      await registry.send("HEAD", "/heartbeat/consumer");
      return (await registry.get("/agents/provider")).status === 404;
    });
    assert.equal((await registry.get("/events?type=expire")).body.events[0].agent_id, "provider");
    assert.equal(await registry.send("HEAD", "/heartbeat/provider"), 410);
    assert.equal((await registry.get("/agents/consumer")).body.status, "healthy");
  }, FAST_MONITOR);
});

Deno.test("restart keeps agents, tools, events and batched HEAD times", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mesh_registry_restart_" });
  try {
    const first = await startRegistry({ dir });
    const posted = await first.post("/heartbeat", {
      ...agent("keeper", [{
        function_name: "f",
        capability: "c",
        version: "2.0.0",
        tags: ["a"],
        dependencies: [[{ capability: "c", tags: ["a"] }, { capability: "z" }]],
        inputSchema: { type: "object" },
        kwargs: { timeout: 3 },
      }]),
      description: "kept",
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(await first.send("HEAD", "/heartbeat/keeper"), 200);
    const before = (await first.get("/agents/keeper")).body;
    assert.ok(Date.parse(before.last_seen) > Date.parse(posted.body.timestamp));
    await first.post("/heartbeat", agent("leaver", [{ function_name: "g", capability: "d" }]));
    await first.send("DELETE", "/agents/leaver");
    const events = (await first.get("/events")).body;
    await first.close();

    const second = await startRegistry({ dir });
    try {
      const after = (await second.get("/agents/keeper")).body;
      assert.deepEqual(after, before);
      assert.equal((await second.get("/agents/leaver")).status, 404);
      assert.deepEqual((await second.get("/events")).body, events);
      assert.equal(await second.send("HEAD", "/heartbeat/keeper"), 202, "re-sync after restart");
      const again = await second.post("/heartbeat", {
        ...agent("keeper", [{
          function_name: "f",
          capability: "c",
          version: "2.0.0",
          tags: ["a"],
          dependencies: [[{ capability: "c", tags: ["a"] }, { capability: "z" }]],
          inputSchema: { type: "object" },
          kwargs: { timeout: 3 },
        }]),
        description: "kept",
      });
      assert.equal(again.body.message, "Agent updated via heartbeat");
      assert.equal(again.body.dependencies_resolved.f[0].kwargs.timeout, 3);
      assert.equal(
        (await second.get("/events?type=update")).body.count,
        0,
        "same content is no update",
      );
      assert.equal(await second.send("HEAD", "/heartbeat/keeper"), 200);
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A real SQLite store whose writes can be made to fail. */
class FailingStore implements RegistryStore {
  failing = false;
  readonly #inner: SqliteStore;
  constructor(path: string) {
    this.#inner = new SqliteStore(path);
  }
  loadAgents() {
    return this.#inner.loadAgents();
  }
  commit(changes: StoreChanges) {
    return this.failing ? Promise.reject(new Error("disk on fire")) : this.#inner.commit(changes);
  }
  listEvents(query: EventQuery) {
    return this.failing ? Promise.reject(new Error("disk on fire")) : this.#inner.listEvents(query);
  }
  pruneEvents(keep: number) {
    return this.#inner.pruneEvents(keep);
  }
  close() {
    return this.#inner.close();
  }
}

Deno.test("store failure: POST 503 changes nothing, HEAD 503 until the store recovers", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mesh_registry_store_" });
  const store = new FailingStore(`${dir}/registry.db`);
  const registry = await startRegistry({ dir, store, healthCheckIntervalMs: 25 });
  try {
    await registry.post("/heartbeat", agent("a", [{ function_name: "f", capability: "c" }]));
    store.failing = true;
    const failed = await registry.post(
      "/heartbeat",
      agent("b", [{ function_name: "g", capability: "d" }]),
    );
    assert.equal(failed.status, 503);
    assert.match(failed.body.error, /disk on fire/);
    assert.equal(await registry.send("HEAD", "/heartbeat/a"), 503);
    assert.equal((await registry.get("/health")).body.status, "degraded");
    assert.equal((await registry.get("/events")).status, 503);
    assert.equal(await registry.send("DELETE", "/agents/a"), 503);
    store.failing = false;
    await waitFor(
      "store recovery",
      async () => (await registry.send("HEAD", "/heartbeat/a")) !== 503,
    );
    assert.equal(await registry.send("HEAD", "/heartbeat/a"), 200);
    assert.equal((await registry.get("/agents/b")).status, 404);
    assert.equal((await registry.get("/agents/a")).status, 200);
    assert.equal((await registry.get("/events")).body.count, 1);
  } finally {
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});
