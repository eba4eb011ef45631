import assert from "node:assert/strict";
import { MeshRegistry } from "./registry.ts";
import { SqliteStore } from "./sqlite_store.ts";
import type { StoreChanges } from "./store.ts";
import { validateRegistration } from "./validate.ts";
import { agent } from "./tests/harness.ts";

const TIMING = {
  healthCheckIntervalMs: 3_600_000,
  timeoutThresholdMs: 3_600_000,
  evictionThresholdMs: 7_200_000,
};

/** `promise`, or a rejection when it is still pending after 10 s (a stuck queue). */
async function settled<T>(promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("still pending after 10 s")), 10_000);
  });
  try {
    return await Promise.race([promise, stuck]);
  } finally {
    clearTimeout(timer);
  }
}

function content(agentId: string) {
  const result = validateRegistration(
    agent(agentId, [{ function_name: "now", capability: "time" }]),
  );
  assert(result.ok);
  return result.content;
}

Deno.test("MeshRegistry: a mutation queued just as the queue empties still runs", async () => {
  const registry = new MeshRegistry(new SqliteStore(":memory:"), TIMING);
  await registry.start();
  try {
    // Each call is queued a few microtasks after the one before settled,
    // around the moment the queue runs empty: none may be left waiting.
    for (let hops = 0; hops < 8; hops++) {
      await settled(registry.heartbeat(content(`agent-${hops}`), []));
      for (let hop = 0; hop < hops; hop++) await Promise.resolve();
      await settled(registry.unregister(`agent-${hops}`));
      for (let hop = 0; hop < hops; hop++) await Promise.resolve();
    }
    assert.equal(registry.agentCount, 0);
  } finally {
    await registry.close();
  }
});

/** A SQLite store that counts its transactions. */
class CountingStore extends SqliteStore {
  commits = 0;

  override commit(changes: StoreChanges): Promise<void> {
    this.commits++;
    return super.commit(changes);
  }
}

Deno.test("MeshRegistry: unregistrations queued together share one transaction", async () => {
  const store = new CountingStore(":memory:");
  const registry = new MeshRegistry(store, TIMING);
  await registry.start();
  try {
    const ids = Array.from({ length: 20 }, (_, i) => `agent-${i}`);
    await Promise.all(ids.map((id) => registry.heartbeat(content(id), [])));
    const before = store.commits;
    // A repeated id and an unknown one ride along without an error.
    await Promise.all([...ids, "agent-3", "unknown"].map((id) => registry.unregister(id)));
    assert.equal(store.commits - before, 1);
    assert.equal(registry.agentCount, 0);
    const events = await registry.listEvents({ type: "unregister", limit: 100 });
    assert.deepEqual(events.map((event) => event.agent_id).sort(), ids.toSorted());
  } finally {
    await registry.close();
  }
});
