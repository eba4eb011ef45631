import assert from "node:assert/strict";
import type { MeshDependencyEntry, MeshToolDependencyRegistration } from "@mesh/sdk/protocol";
import { CapabilityIndex, providersOfAgent } from "./capability_index.ts";
import { type DeclaredDependency, ResolutionCache } from "./resolution_cache.ts";
import { createAvailabilityCheck, type Provider, rankEntry } from "./resolver.ts";
import { dependencyResolutionJson } from "./response_json.ts";
import type { StoredAgent, StoredTool } from "./store.ts";
import { seededRandom, storedAgent } from "./tests/harness.ts";

const CAPABILITIES = ["alpha", "beta", "gamma", "delta"];
const VERSIONS = ["1.0.0", "1.2.0", "1.2", "2.0.0", "2.1.0-beta.1", "latest"];
const TAGS = ["fast", "eu", "beta"];
const CONSTRAINTS = [undefined, ">=1.2.0", "^1", "~1.2", "2.x", "latest", "*", "<2.0.0"];

/** Random specs covering every rule: tags (+, -, OR groups), versions, namespace, required. */
function randomSpec(next: () => number, required: boolean): MeshToolDependencyRegistration {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const spec: MeshToolDependencyRegistration = { capability: pick(CAPABILITIES) };
  const tags = [];
  if (next() < 0.3) tags.push(pick(TAGS));
  if (next() < 0.3) tags.push(`+${pick(TAGS)}`);
  if (next() < 0.2) tags.push(`-${pick(TAGS)}`);
  if (next() < 0.15) tags.push([pick(TAGS), pick(TAGS)]);
  if (tags.length > 0) spec.tags = tags;
  const version = pick(CONSTRAINTS);
  if (version !== undefined) spec.version = version;
  if (next() < 0.1) spec.namespace = "other";
  if (required) spec.required = true;
  return spec;
}

function randomEntry(next: () => number, required: boolean): MeshDependencyEntry {
  if (next() < 0.2) return [randomSpec(next, required), randomSpec(next, required)];
  return randomSpec(next, required);
}

function randomAgent(next: () => number, id: string, healthy: boolean): StoredAgent {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const tools: StoredTool[] = [];
  const count = 1 + Math.floor(next() * 3);
  for (let position = 0; position < count; position++) {
    const dependencies: MeshDependencyEntry[] = [];
    // Required dependencies make providers gated: their availability follows the mesh.
    if (next() < 0.25) dependencies.push(randomEntry(next, true));
    if (next() < 0.5) dependencies.push(randomEntry(next, false));
    tools.push({
      function_name: `f${position}`,
      capability: pick(CAPABILITIES),
      version: pick(VERSIONS),
      tags: TAGS.filter(() => next() < 0.4),
      dependencies,
    });
  }
  return storedAgent(id, tools, {
    // Port 0: a stdio-only agent, never available over HTTP.
    http_port: next() < 0.05 ? 0 : 9000 + Math.floor(next() * 100),
    namespace: next() < 0.1 ? "other" : "default",
    status: healthy ? "healthy" : "unhealthy",
  });
}

/** The registry's bookkeeping of one agent: its providers and its held dependencies. */
interface Held {
  providers: Provider[];
  dependencies: DeclaredDependency[];
}

/**
 * Random register / re-register / unhealthy / unregister steps; after each,
 * every held dependency (the agents' own and a fixed set of probes) must
 * resolve exactly as ranking from scratch does: same spec, same providers in
 * the same order, same JSON.
 */
function differential(seed: number, steps: number): void {
  const next = seededRandom(seed);
  const index = new CapabilityIndex();
  const cache = new ResolutionCache(index);
  const agents = new Map<string, Held>();
  const probes = Array.from({ length: 30 }, () => cache.acquire(randomEntry(next, false)));
  const put = (agent: StoredAgent) => {
    // The order of MeshRegistry.#put: acquire the new, swap providers, release the old.
    const dependencies = agent.tools.flatMap((tool) =>
      tool.dependencies.map((entry) => cache.acquire(entry))
    );
    const old = agents.get(agent.id);
    if (old !== undefined) cache.remove(old.providers);
    const providers = providersOfAgent(agent);
    cache.add(providers);
    agents.set(agent.id, { providers, dependencies });
    for (const held of old?.dependencies ?? []) cache.release(held);
  };
  const unregister = (id: string) => {
    const old = agents.get(id);
    if (old === undefined) return;
    cache.remove(old.providers);
    for (const held of old.dependencies) cache.release(held);
    agents.delete(id);
  };
  for (let step = 0; step < steps; step++) {
    const id = `agent-${Math.floor(next() * 12)}`;
    const action = next();
    if (action < 0.55) put(randomAgent(next, id, true));
    else if (action < 0.7) put(randomAgent(next, id, false));
    else unregister(id);
    const check = createAvailabilityCheck(index);
    const held = [...probes, ...[...agents.values()].flatMap((agent) => agent.dependencies)];
    // Ask in a random order, some not at all: cached answers must survive skipped steps.
    for (const dependency of held) {
      if (next() < 0.3) continue;
      const expected = rankEntry(dependency.entry, index, check);
      const actual = cache.resolve(dependency);
      const where = `seed ${seed}, step ${step}, entry ${JSON.stringify(dependency.entry)}`;
      assert.deepEqual(actual.spec, expected.spec, where);
      assert.equal(actual.provider, expected.provider, where);
      assert.deepEqual(
        actual.providers.map(label),
        expected.providers.map(label),
        where,
      );
      assert.equal(cache.json(dependency), dependencyResolutionJson(expected), where);
    }
  }
  for (const id of [...agents.keys()]) unregister(id);
  for (const probe of probes) {
    assert.deepEqual(cache.resolve(probe).providers, [], "an empty mesh resolves nothing");
    cache.release(probe);
  }
}

function label(provider: Provider): string {
  return `${provider.agentId}/${provider.functionName}@${provider.version}`;
}

Deno.test("ResolutionCache: incremental rankings equal a full re-rank (random, 40 seeds)", () => {
  for (let seed = 1; seed <= 40; seed++) differential(seed, 150);
});

Deno.test("ResolutionCache: equal declarations share one entry; release forgets it", () => {
  const index = new CapabilityIndex();
  const cache = new ResolutionCache(index);
  const spec = { capability: "alpha", tags: ["fast", ["eu", "us"]], version: "^1" };
  const first = cache.acquire(spec);
  const second = cache.acquire(structuredClone(spec));
  assert.equal(first, second, "structurally equal specs share an entry");
  assert.notEqual(cache.acquire({ ...spec, tags: ["fast", ["eu"]] }), first);
  assert.notEqual(cache.acquire([spec]), first, "a chain of one is its own entry");
  cache.release(first);
  cache.release(second);
  assert.notEqual(cache.acquire(spec), first, "the last release forgot the entry");
});

Deno.test("ResolutionCache: a provider gated by a required dependency follows other capabilities", () => {
  const index = new CapabilityIndex();
  const cache = new ResolutionCache(index);
  const agent = (id: string, capability: string, dependencies: MeshDependencyEntry[] = []) =>
    providersOfAgent(
      storedAgent(id, [{
        function_name: "f",
        capability,
        version: "1.0.0",
        tags: [],
        dependencies,
      }]),
    );
  const weather = cache.acquire({ capability: "weather" });
  cache.add(agent("forecaster", "weather", [{ capability: "geo", required: true }]));
  assert.equal(cache.resolve(weather).provider, undefined, "geo missing: unavailable");
  assert.equal(JSON.parse(cache.json(weather)).status, "unresolved");
  const geo = agent("mapper", "geo");
  cache.add(geo);
  assert.equal(cache.resolve(weather).provider?.agentId, "forecaster", "geo came: available");
  assert.equal(JSON.parse(cache.json(weather)).agent_id, "forecaster");
  cache.remove(geo);
  assert.equal(cache.resolve(weather).provider, undefined, "geo went: unavailable again");
  assert.equal(JSON.parse(cache.json(weather)).status, "unresolved");
  cache.release(weather);
});
