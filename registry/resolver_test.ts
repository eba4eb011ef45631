import assert from "node:assert/strict";
import type { MeshDependencyEntry } from "@mesh/sdk/protocol";
import {
  compareProviders,
  createAvailabilityCheck,
  parseVersion,
  pickProvider,
  type Provider,
  type ProviderIndex,
  rankEntry,
  resolveEntry,
  tagScore,
  versionSatisfies,
} from "./resolver.ts";

function provider(
  agentId: string,
  capability: string,
  options: Partial<Omit<Provider, "agentId" | "capability" | "semver">> = {},
): Provider {
  const version = options.version ?? "1.0.0";
  return {
    agentId,
    capability,
    functionName: options.functionName ?? `${capability}_fn`,
    version,
    semver: parseVersion(version),
    tags: options.tags ?? [],
    namespace: options.namespace ?? "default",
    endpoint: `http://127.0.0.1:1/${agentId}`,
    healthy: options.healthy ?? true,
    stdioOnly: options.stdioOnly ?? false,
    requiredDependencies: options.requiredDependencies ?? [],
    ...(options.kwargs ? { kwargs: options.kwargs } : {}),
  };
}

function indexOf(...providers: Provider[]): ProviderIndex {
  return {
    providersOf: (capability) =>
      providers.filter((p) => p.capability === capability).sort(compareProviders),
  };
}

function resolve(entry: MeshDependencyEntry, ...providers: Provider[]): string | undefined {
  const index = indexOf(...providers);
  const found = resolveEntry(entry, index, createAvailabilityCheck(index)).provider;
  return found === undefined ? undefined : `${found.agentId}/${found.functionName}`;
}

Deno.test("tagScore: required, preferred, excluded and OR groups", () => {
  assert.equal(tagScore(["a", "b"], undefined), 0);
  assert.equal(tagScore(["a", "b"], []), 0);
  assert.equal(tagScore(["a", "b"], ["a"]), 0);
  assert.equal(tagScore(["b"], ["a"]), -1);
  assert.equal(tagScore(["a", "fast"], ["a", "+fast", "+eu"]), 1);
  assert.equal(tagScore(["a"], ["+fast"]), 0, "a preferred tag is optional");
  assert.equal(tagScore(["a", "beta"], ["-beta"]), -1);
  assert.equal(tagScore(["a"], ["-beta"]), 0);
  assert.equal(tagScore(["ts"], ["addition", ["py", "ts"]]), -1);
  assert.equal(tagScore(["addition", "ts"], ["addition", ["py", "ts"]]), 0);
  assert.equal(tagScore(["addition"], ["addition", ["py", "ts"]]), -1);
});

Deno.test("versionSatisfies: semver operators, ranges, any, and exact fallback", () => {
  const check = (version: string, constraint: string | undefined) =>
    versionSatisfies(version, parseVersion(version), constraint);
  assert.equal(check("1.0.0", undefined), true);
  assert.equal(check("1.0.0", ""), true);
  assert.equal(check("0.1.0", "*"), true);
  assert.equal(check("1.0.0", "=1.0.0"), true);
  assert.equal(check("1.0.1", "=1.0.0"), false);
  assert.equal(check("1.0.0", "1.0.0"), true);
  assert.equal(check("1.2.0", ">=1.2"), true);
  assert.equal(check("1.1.9", ">=1.2"), false);
  assert.equal(check("2.9.0", "^2"), true);
  assert.equal(check("3.0.0", "^2"), false);
  assert.equal(check("1.4.7", "~1.4"), true);
  assert.equal(check("1.5.0", "~1.4"), false);
  assert.equal(check("1.5.0", ">=1.0.0 <2.0.0"), true);
  assert.equal(check("2.0.0", ">=1.0.0 <2.0.0"), false);
  assert.equal(check("1.2", "^1.1"), true, "a loose provider version is coerced");
  assert.equal(check("latest", "latest"), true, "unparsable: exact string equality");
  assert.equal(check("latest", ">=1"), false);
  assert.equal(check("1.0.0", "not a range!"), false);
  assert.equal(check("not a range!", "not a range!"), true);
});

Deno.test("resolveEntry: exact capability and namespace", () => {
  assert.equal(resolve({ capability: "time" }, provider("a", "time")), "a/time_fn");
  assert.equal(resolve({ capability: "tim" }, provider("a", "time")), undefined);
  assert.equal(
    resolve({ capability: "time" }, provider("a", "time", { namespace: "prod" })),
    undefined,
  );
  assert.equal(
    resolve(
      { capability: "time", namespace: "prod" },
      provider("a", "time", { namespace: "prod" }),
    ),
    "a/time_fn",
  );
});

Deno.test("resolveEntry: tags filter and preferred tags win", () => {
  const plain = provider("a", "geo", { tags: ["eu"] });
  const fast = provider("b", "geo", { tags: ["eu", "fast"] });
  const beta = provider("c", "geo", { tags: ["eu", "fast", "beta"] });
  assert.equal(resolve({ capability: "geo", tags: ["eu", "+fast"] }, plain, fast), "b/geo_fn");
  assert.equal(resolve({ capability: "geo", tags: ["eu", "-fast"] }, fast, plain), "a/geo_fn");
  assert.equal(resolve({ capability: "geo", tags: ["+fast", "-beta"] }, beta, plain), "a/geo_fn");
  assert.equal(resolve({ capability: "geo", tags: ["us"] }, plain, fast), undefined);
  assert.equal(resolve({ capability: "geo", tags: [["us", "fast"]] }, plain, fast), "b/geo_fn");
});

Deno.test("resolveEntry: version constraints and highest version wins", () => {
  const v1 = provider("a", "db", { version: "1.4.0" });
  const v2 = provider("b", "db", { version: "2.1.0" });
  const v3 = provider("c", "db", { version: "3.0.0-beta.1" });
  assert.equal(resolve({ capability: "db" }, v1, v2), "b/db_fn");
  assert.equal(resolve({ capability: "db", version: "^1" }, v2, v1), "a/db_fn");
  assert.equal(resolve({ capability: "db", version: ">=2" }, v1, v2, v3), "b/db_fn");
  assert.equal(resolve({ capability: "db", version: ">=4" }, v1, v2), undefined);
});

Deno.test("resolveEntry: ties break on agent id, then function name", () => {
  const b = provider("b", "x");
  const a2 = provider("a", "x", { functionName: "z" });
  const a1 = provider("a", "x", { functionName: "m" });
  assert.equal(resolve({ capability: "x" }, b, a2, a1), "a/m");
  assert.equal(resolve({ capability: "x" }, a1, a2, b), "a/m");
});

Deno.test("resolveEntry: only healthy providers", () => {
  const down = provider("a", "x", { healthy: false });
  assert.equal(resolve({ capability: "x" }, down), undefined);
  assert.equal(resolve({ capability: "x" }, down, provider("b", "x")), "b/x_fn");
});

Deno.test("resolveEntry: a fallback chain takes the first spec that resolves", () => {
  const chain: MeshDependencyEntry = [{ capability: "fast_geo" }, { capability: "geo" }];
  assert.equal(resolve(chain, provider("a", "geo"), provider("b", "fast_geo")), "b/fast_geo_fn");
  assert.equal(resolve(chain, provider("a", "geo")), "a/geo_fn");
  const index = indexOf();
  const none = resolveEntry(chain, index, createAvailabilityCheck(index));
  assert.equal(none.provider, undefined);
  assert.equal(none.spec.capability, "fast_geo", "unresolved reports the first capability");
});

Deno.test("availability: an unresolved required dependency hides the capability, transitively", () => {
  const weather = provider("w", "weather", {
    requiredDependencies: [{ capability: "geo", required: true }],
  });
  const report = provider("r", "report", {
    requiredDependencies: [{ capability: "weather", required: true }],
  });
  assert.equal(resolve({ capability: "report" }, report, weather), undefined);
  assert.equal(resolve({ capability: "weather" }, report, weather), undefined);
  const index = indexOf(report, weather);
  assert.deepEqual(createAvailabilityCheck(index)(weather), {
    available: false,
    reason: "required dep 'geo' unresolved",
  });
  assert.equal(
    resolve({ capability: "report" }, report, weather, provider("g", "geo")),
    "r/report_fn",
  );
  assert.equal(
    resolve({ capability: "report" }, report, weather, provider("g", "geo", { healthy: false })),
    undefined,
  );
});

Deno.test("availability: a cycle of required dependencies terminates as unavailable", () => {
  const a = provider("a", "ca", { requiredDependencies: [{ capability: "cb", required: true }] });
  const b = provider("b", "cb", { requiredDependencies: [{ capability: "ca", required: true }] });
  const self = provider("s", "cs", {
    requiredDependencies: [{ capability: "cs", required: true }],
  });
  assert.equal(resolve({ capability: "ca" }, a, b), undefined);
  assert.equal(resolve({ capability: "cb" }, a, b), undefined);
  assert.equal(resolve({ capability: "cs" }, self), undefined);
});

Deno.test("availability: a cycle carried from outside is available, whatever is asked first", () => {
  // a needs cb; b (cb) needs ca; c also provides cb and needs nothing. So a is
  // available through c, and then b through a: the cycle a-b is carried by c.
  const a = provider("a", "ca", { requiredDependencies: [{ capability: "cb", required: true }] });
  const b = provider("b", "cb", { requiredDependencies: [{ capability: "ca", required: true }] });
  const c = provider("c", "cb");
  for (const order of [[a, b], [b, a]]) {
    const check = createAvailabilityCheck(indexOf(a, b, c));
    for (const asked of order) assert.deepEqual(check(asked), { available: true }, asked.agentId);
  }
  const withoutC = createAvailabilityCheck(indexOf(a, b));
  assert.deepEqual(withoutC(b), { available: false, reason: "required dep 'ca' unresolved" });
  assert.deepEqual(withoutC(a), { available: false, reason: "required dep 'cb' unresolved" });
});

Deno.test("availability: a chain of 20,000 required dependencies is decided without recursion", () => {
  const chain = Array.from({ length: 20_000 }, (_, i) =>
    provider(`p${i}`, `c${i}`, {
      requiredDependencies: i < 19_999 ? [{ capability: `c${i + 1}`, required: true }] : [],
    }));
  const byCapability = (providers: Provider[]): ProviderIndex => {
    const lists = new Map(providers.map((p) => [p.capability, [p]]));
    return { providersOf: (capability) => lists.get(capability) ?? [] };
  };
  assert.deepEqual(createAvailabilityCheck(byCapability(chain))(chain[0]), { available: true });
  const broken = chain.slice(0, -1);
  assert.deepEqual(createAvailabilityCheck(byCapability(broken))(broken[0]), {
    available: false,
    reason: "required dep 'c1' unresolved",
  });
});

Deno.test("availability: a required dependency on a stdio-only provider is unresolved", () => {
  const report = provider("r", "report", {
    requiredDependencies: [{ capability: "geo", required: true }],
  });
  const stdio = provider("g", "geo", { stdioOnly: true });
  assert.deepEqual(createAvailabilityCheck(indexOf(report, stdio))(report), {
    available: false,
    reason: "required dep 'geo' unresolved",
  });
  assert.deepEqual(createAvailabilityCheck(indexOf(report, stdio))(stdio), {
    available: false,
    reason: "no HTTP endpoint (http_port 0: stdio only)",
  });
});

Deno.test("pickProvider: a self-dependency resolves (optional edge)", () => {
  const time = provider("svc", "time_service", { functionName: "get_current_time" });
  const index = indexOf(time);
  const found = pickProvider({ capability: "time_service" }, index, createAvailabilityCheck(index));
  assert.equal(found, time);
});

function ranked(entry: MeshDependencyEntry, ...providers: Provider[]): string[] {
  const index = indexOf(...providers);
  return rankEntry(entry, index, createAvailabilityCheck(index)).providers.map((found) =>
    found.agentId
  );
}

Deno.test("rankEntry: every qualifying provider, the chosen one first", () => {
  const eu1 = provider("eu1", "geo", { version: "1.2.0", tags: ["eu"] });
  const eu2 = provider("eu2", "geo", { version: "2.0.0", tags: ["eu"] });
  const fast = provider("fast", "geo", { version: "1.0.0", tags: ["eu", "fast"] });
  const beta = provider("beta", "geo", { version: "3.0.0", tags: ["eu", "beta"] });
  const us = provider("us", "geo", { version: "1.5.0", tags: ["us"] });
  const down = provider("down", "geo", { version: "9.0.0", healthy: false });
  const prod = provider("prod", "geo", { namespace: "prod" });
  const gated = provider("gated", "geo", {
    requiredDependencies: [{ capability: "satellite", required: true }],
  });
  const all = [eu1, eu2, fast, beta, us, down, prod, gated];
  assert.deepEqual(ranked({ capability: "geo" }, ...all), ["beta", "eu2", "us", "eu1", "fast"]);
  assert.deepEqual(ranked({ capability: "geo", tags: ["eu", "+fast"] }, ...all), [
    "fast",
    "beta",
    "eu2",
    "eu1",
  ]);
  assert.deepEqual(ranked({ capability: "geo", tags: ["-beta", "-us"] }, ...all), [
    "eu2",
    "eu1",
    "fast",
  ]);
  assert.deepEqual(ranked({ capability: "geo", tags: [["us", "fast"]] }, ...all), ["us", "fast"]);
  assert.deepEqual(ranked({ capability: "geo", version: "~1.2" }, ...all), ["eu1"]);
  assert.deepEqual(ranked({ capability: "geo", namespace: "prod" }, ...all), ["prod"]);
  assert.deepEqual(ranked({ capability: "geo", version: ">=10" }, ...all), []);
  const withSatellite = [...all, provider("sat", "satellite")];
  assert.ok(ranked({ capability: "geo" }, ...withSatellite).includes("gated"));

  // The chosen provider is always the first listed.
  for (
    const spec of [
      { capability: "geo" },
      { capability: "geo", tags: ["+fast", "+us"] },
      { capability: "geo", tags: ["+beta", "-fast"] },
      { capability: "geo", version: "^1" },
    ]
  ) {
    const index = indexOf(...withSatellite);
    const check = createAvailabilityCheck(index);
    assert.equal(
      rankEntry(spec, index, check).providers[0],
      resolveEntry(spec, index, check).provider,
    );
  }
});

Deno.test("rankEntry: a fallback chain lists the providers of the spec that won", () => {
  const chain: MeshDependencyEntry = [{ capability: "fast_geo" }, { capability: "geo" }];
  assert.deepEqual(ranked(chain, provider("a", "geo"), provider("b", "geo")), ["a", "b"]);
  assert.deepEqual(
    ranked(chain, provider("a", "geo"), provider("f2", "fast_geo"), provider("f1", "fast_geo")),
    ["f1", "f2"],
  );
  const index = indexOf();
  const none = rankEntry(chain, index, createAvailabilityCheck(index));
  assert.equal(none.provider, undefined);
  assert.deepEqual(none.providers, []);
  assert.equal(none.spec.capability, "fast_geo");
});
