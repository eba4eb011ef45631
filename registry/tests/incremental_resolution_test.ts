import assert from "node:assert/strict";
import type { MeshDependencyEntry, MeshToolRegistration } from "@mesh/sdk/protocol";
import { agent, type Json, seededRandom, startRegistry, type TestRegistry } from "./harness.ts";

const CAPABILITIES = ["alpha", "beta", "gamma", "delta", "epsilon"];
const VERSIONS = ["1.0.0", "1.2.0", "2.0.0", "2.1.0-beta.1"];
const TAGS = ["fast", "eu", "beta"];

function randomDependency(next: () => number, required: boolean): MeshDependencyEntry {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const spec = () => ({
    capability: pick(CAPABILITIES),
    ...(next() < 0.4 ? { tags: [pick(TAGS), `+${pick(TAGS)}`, `-${pick(TAGS)}`] } : {}),
    ...(next() < 0.4 ? { version: pick([">=1.2.0", "^1", "~2.0", "<2.0.0"]) } : {}),
    ...(required ? { required: true } : {}),
  });
  return next() < 0.2 ? [spec(), spec()] : spec();
}

function randomTools(next: () => number): MeshToolRegistration[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  return Array.from({ length: 1 + Math.floor(next() * 2) }, (_, position) => ({
    function_name: `f${position}`,
    capability: pick(CAPABILITIES),
    version: pick(VERSIONS),
    tags: TAGS.filter(() => next() < 0.4),
    // A required dependency gates the tool on another capability's providers.
    dependencies: next() < 0.5 ? [randomDependency(next, true)] : [],
  }));
}

/** Consumers declaring a spread of dependencies; their answers are compared. */
function probes(next: () => number) {
  return Array.from({ length: 4 }, (_, position) =>
    agent(`probe-${position}`, [{
      function_name: "consume",
      capability: `probe-${position}`,
      dependencies: Array.from({ length: 4 }, () => randomDependency(next, false)),
    }]));
}

async function answers(registry: TestRegistry, consumers: Json[]): Promise<Json[]> {
  const resolved = [];
  for (const consumer of consumers) {
    const { status, body } = await registry.post("/heartbeat", consumer);
    assert.equal(status, 200);
    resolved.push(body.dependencies_resolved);
  }
  return resolved;
}

Deno.test("POST answers kept up to date incrementally equal those of a restarted registry", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mesh_registry_test_" });
  const options = { dir, timeoutThresholdMs: 3_600_000, evictionThresholdMs: 7_200_000 };
  let registry = await startRegistry(options);
  try {
    for (const seed of [7, 42, 1234]) {
      const next = seededRandom(seed);
      const consumers = probes(next);
      await answers(registry, consumers);
      for (let step = 1; step <= 60; step++) {
        const id = `agent-${Math.floor(next() * 8)}`;
        if (next() < 0.75) {
          const { status } = await registry.post("/heartbeat", agent(id, randomTools(next)));
          assert.equal(status, 200);
        } else {
          assert.equal(await registry.send("DELETE", `/agents/${id}`), 204);
        }
        // Asked often, so that later steps meet rankings already made.
        if (step % 3 !== 0) continue;
        const kept = await answers(registry, consumers);
        if (step % 15 !== 0) continue;
        // The running registry answers from rankings it kept up to date; a
        // restarted one ranks everything from scratch.
        await registry.close();
        registry = await startRegistry(options);
        const fresh = await answers(registry, consumers);
        assert.deepEqual(kept, fresh, `seed ${seed}, step ${step}`);
      }
      for (const consumer of consumers) {
        assert.equal(await registry.send("DELETE", `/agents/${consumer.agent_id}`), 204);
      }
    }
  } finally {
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});
