import assert from "node:assert/strict";
import type { MeshRegistrationResponse } from "@mesh/sdk/protocol";
import { agent, fixture, withRegistry } from "./harness.ts";

const FASTMCP_ID = "fastmcp-service-3a65d884";

/** Golden responses name another provider id; map it to the one we registered. */
function expectedResolution(
  golden: MeshRegistrationResponse,
): MeshRegistrationResponse["dependencies_resolved"] {
  return Object.fromEntries(
    Object.entries(golden.dependencies_resolved).map(([name, list]) => [
      name,
      list.map((entry) => ("agent_id" in entry ? { ...entry, agent_id: FASTMCP_ID } : entry)),
    ]),
  );
}

/**
 * `dependencies_resolved` without our additive `providers` lists, for exact
 * comparison with mcp-mesh goldens; checks on the way that each list starts
 * with the chosen provider.
 */
function withoutProviders(
  resolved: MeshRegistrationResponse["dependencies_resolved"],
): MeshRegistrationResponse["dependencies_resolved"] {
  return Object.fromEntries(
    Object.entries(resolved).map(([name, list]) => [
      name,
      list.map((entry) => {
        if (!("providers" in entry)) return entry;
        const { providers, ...chosen } = entry;
        assert.deepEqual(
          [providers![0].agent_id, providers![0].function_name, providers![0].endpoint],
          [chosen.agent_id, chosen.function_name, chosen.endpoint],
        );
        return chosen;
      }),
    ]),
  );
}

Deno.test("golden fixtures round-trip: provider, self-dependency, dependent, no deps", async () => {
  await withRegistry(async (registry) => {
    const provider = await fixture("fastmcp_agent_registration.json");
    const first = await registry.post("/heartbeat", provider);
    assert.equal(first.status, 200);
    assert.equal(first.body.message, "Agent registered via heartbeat");
    const again = await registry.post("/heartbeat", provider);
    const golden = await fixture<MeshRegistrationResponse>("fastmcp_agent_response.json");
    assert.equal(again.body.status, golden.status);
    assert.equal(again.body.message, golden.message);
    assert.equal(again.body.agent_id, FASTMCP_ID);
    assert.ok(!Number.isNaN(Date.parse(again.body.timestamp)));
    assert.deepEqual(
      withoutProviders(again.body.dependencies_resolved),
      expectedResolution(golden),
    );

    const dependent = await fixture("dependent_agent_registration.json");
    const registered = await registry.post("/heartbeat", dependent);
    const goldenDependent = await fixture<MeshRegistrationResponse>(
      "dependent_agent_response.json",
    );
    assert.equal(registered.body.message, goldenDependent.message);
    assert.equal(registered.body.agent_id, goldenDependent.agent_id);
    assert.deepEqual(
      withoutProviders(registered.body.dependencies_resolved),
      expectedResolution(goldenDependent),
    );

    const withoutDeps = {
      ...dependent,
      tools: dependent.tools.map((tool) => ({ ...tool, dependencies: [] })),
    };
    const updated = await registry.post("/heartbeat", withoutDeps);
    const goldenNoDeps = await fixture<MeshRegistrationResponse>(
      "dependent_agent_response_no_deps.json",
    );
    assert.equal(updated.body.message, goldenNoDeps.message);
    assert.deepEqual(updated.body.dependencies_resolved, goldenNoDeps.dependencies_resolved);
  });
});

Deno.test("POST /heartbeat accepts every sample fixture; kwargs reach consumers", async () => {
  await withRegistry(async (registry) => {
    for (
      const name of [
        "mesh_agent_registration_minimal.json",
        "mesh_agent_registration_sample.json",
        "mesh_agent_registration_complex.json",
        "mesh_agent_registration_with_kwargs.json",
        "multiple_functions_request.json",
      ]
    ) {
      const response = await registry.post("/heartbeat", await fixture(name));
      assert.equal(response.status, 200, name);
    }
    const complex = await registry.post(
      "/heartbeat",
      await fixture("mesh_agent_registration_complex.json"),
    );
    assert.deepEqual(complex.body.dependencies_resolved.process_data, [
      { capability: "database_service", status: "unresolved" },
      { capability: "cache_service", status: "unresolved" },
    ]);
    assert.equal(complex.body.dependencies_resolved.generate_report.length, 3);
    assert.equal(complex.body.dependencies_resolved.validate_input, undefined);
    const consumer = await registry.post(
      "/heartbeat",
      agent("consumer", [{
        function_name: "use",
        capability: "user",
        dependencies: [{ capability: "quick_ops" }, { capability: "standard_capability" }],
      }]),
    );
    assert.deepEqual(withoutProviders(consumer.body.dependencies_resolved).use, [
      {
        agent_id: "enhanced-kwargs-agent",
        function_name: "quick_operation",
        endpoint: "http://localhost:8080",
        capability: "quick_ops",
        status: "available",
        kwargs: { timeout: 5, cache_enabled: true },
      },
      {
        agent_id: "enhanced-kwargs-agent",
        function_name: "no_kwargs_function",
        endpoint: "http://localhost:8080",
        capability: "standard_capability",
        status: "available",
      },
    ]);
  });
});

Deno.test("resolution over HTTP: tags, versions, namespace, fallback chains, required deps", async () => {
  await withRegistry(async (registry) => {
    const geo = (id: string, version: string, tags: string[], namespace = "default") =>
      registry.post(
        "/heartbeat",
        agent(id, [{ function_name: "locate", capability: "geo", version, tags }], { namespace }),
      );
    await geo("geo-old", "1.2.0", ["eu"]);
    await geo("geo-new", "2.3.0", ["eu", "beta"]);
    await geo("geo-fast", "1.9.0", ["eu", "fast"]);
    await geo("geo-prod", "9.0.0", ["eu"], "prod");
    const consumer = await registry.post(
      "/heartbeat",
      agent("consumer", [{
        function_name: "f",
        capability: "c",
        dependencies: [
          { capability: "geo" },
          { capability: "geo", version: "^1" },
          { capability: "geo", tags: ["+fast"] },
          { capability: "geo", tags: ["-beta", "-fast"] },
          { capability: "geo", namespace: "prod" },
          { capability: "geo", tags: [["us", "fast"]] },
          [{ capability: "weather" }, { capability: "geo", version: "~1.2" }],
          [{ capability: "weather" }, { capability: "rain" }],
          { capability: "geo", version: ">=10" },
        ],
      }]),
    );
    const picked = consumer.body.dependencies_resolved.f.map((entry: { agent_id?: string }) =>
      entry.agent_id ?? "-"
    );
    assert.deepEqual(picked, [
      "geo-new",
      "geo-fast",
      "geo-fast",
      "geo-old",
      "geo-prod",
      "geo-fast",
      "geo-old",
      "-",
      "-",
    ]);
    assert.deepEqual(consumer.body.dependencies_resolved.f[7], {
      capability: "weather",
      status: "unresolved",
    });

    // A required dependency gates the provider's own capability.
    await registry.post(
      "/heartbeat",
      agent("forecaster", [{
        function_name: "forecast",
        capability: "forecast",
        dependencies: [{ capability: "satellite", required: true }],
      }]),
    );
    const wants = agent("planner", [{
      function_name: "plan",
      capability: "plan",
      dependencies: [{ capability: "forecast" }],
    }]);
    let planner = await registry.post("/heartbeat", wants);
    assert.equal(planner.body.dependencies_resolved.plan[0].status, "unresolved");
    const info = await registry.get("/agents/forecaster");
    assert.equal(info.body.capabilities[0].available, false);
    assert.equal(
      info.body.capabilities[0].unavailable_reason,
      "required dep 'satellite' unresolved",
    );
    await registry.post(
      "/heartbeat",
      agent("sat", [{ function_name: "image", capability: "satellite" }]),
    );
    planner = await registry.post("/heartbeat", wants);
    assert.equal(planner.body.dependencies_resolved.plan[0].agent_id, "forecaster");
    assert.equal((await registry.get("/agents/forecaster")).body.capabilities[0].available, true);
  });
});

Deno.test("a stdio-only agent (http_port 0) is listed but never handed out", async () => {
  await withRegistry(async (registry) => {
    const stdio = await registry.post(
      "/heartbeat",
      agent("stdio", [{ function_name: "now", capability: "time" }], { http_port: 0 }),
    );
    assert.equal(stdio.status, 200);
    const wants = agent("consumer", [{
      function_name: "f",
      capability: "c",
      dependencies: [{ capability: "time" }],
    }]);
    let consumer = await registry.post("/heartbeat", wants);
    assert.deepEqual(consumer.body.dependencies_resolved.f, [
      { capability: "time", status: "unresolved" },
    ]);
    const info = await registry.get("/agents/stdio");
    assert.equal(info.body.capabilities[0].available, false);
    assert.equal(
      info.body.capabilities[0].unavailable_reason,
      "no HTTP endpoint (http_port 0: stdio only)",
    );
    // The same agent on a port is a provider again.
    await registry.post(
      "/heartbeat",
      agent("stdio", [{ function_name: "now", capability: "time" }], { http_port: 9300 }),
    );
    consumer = await registry.post("/heartbeat", wants);
    assert.equal(consumer.body.dependencies_resolved.f[0].endpoint, "http://127.0.0.1:9300");
  });
});

Deno.test("HEAD /heartbeat/{id}: 410 unknown, 200 unchanged, 202 after topology changes", async () => {
  await withRegistry(async (registry) => {
    const head = (id: string) => registry.send("HEAD", `/heartbeat/${id}`);
    assert.equal(await head("nobody"), 410);
    assert.equal(await head("bad%20id"), 400);
    const a = agent("a", [{ function_name: "fa", capability: "ca" }]);
    const b = agent("b", [{ function_name: "fb", capability: "cb" }]);
    await registry.post("/heartbeat", a);
    assert.equal(await head("a"), 200);
    await registry.post("/heartbeat", b);
    assert.equal(await head("a"), 202, "a new agent changes the topology");
    assert.equal(await head("a"), 202, "stays 202 until the agent POSTs");
    await registry.post("/heartbeat", a);
    assert.equal(await head("a"), 200);
    await registry.post("/heartbeat", b);
    assert.equal(await head("a"), 200, "an unchanged POST from b changes nothing");
    assert.equal(await head("b"), 200);
    await registry.post("/heartbeat", { ...b, http_port: 9100 });
    assert.equal(await head("a"), 202, "a changed endpoint changes the topology");
    await registry.post("/heartbeat", a);
    assert.equal(await registry.send("DELETE", "/agents/b"), 204);
    assert.equal(await head("a"), 202, "an unregistration changes the topology");
    assert.equal(await head("b"), 410);
    assert.equal(await registry.send("GET", "/heartbeat/a"), 405);
  });
});

Deno.test("providers lists every replica; adding or removing one makes dependents see 202", async () => {
  await withRegistry(async (registry) => {
    const head = (id: string) => registry.send("HEAD", `/heartbeat/${id}`);
    const replica = (id: string, port: number, extra: Record<string, unknown> = {}) =>
      registry.post(
        "/heartbeat",
        agent(id, [{ function_name: "now", capability: "time", version: "1.2.0", ...extra }], {
          http_port: port,
        }),
      );
    const consumer = agent("consumer", [{
      function_name: "use",
      capability: "user",
      dependencies: [{ capability: "time", tags: ["-beta"] }, { capability: "none" }],
    }]);
    const listed = async () => {
      const response = await registry.post("/heartbeat", consumer);
      const [time, none] = response.body.dependencies_resolved.use;
      assert.deepEqual(none, { capability: "none", status: "unresolved" });
      return time.providers;
    };
    await replica("time-b", 9002, { kwargs: { timeout: 5 } });
    assert.deepEqual(await listed(), [
      {
        agent_id: "time-b",
        function_name: "now",
        endpoint: "http://127.0.0.1:9002",
        version: "1.2.0",
        kwargs: { timeout: 5 },
      },
    ]);
    assert.equal(await head("consumer"), 200);

    await replica("time-a", 9001);
    await replica("time-beta", 9003, { tags: ["beta"] });
    assert.equal(await head("consumer"), 202, "a new replica changes the consumer's topology");
    assert.deepEqual(await listed(), [
      {
        agent_id: "time-a",
        function_name: "now",
        endpoint: "http://127.0.0.1:9001",
        version: "1.2.0",
      },
      {
        agent_id: "time-b",
        function_name: "now",
        endpoint: "http://127.0.0.1:9002",
        version: "1.2.0",
        kwargs: { timeout: 5 },
      },
    ]);
    assert.equal(await head("consumer"), 200);

    assert.equal(await registry.send("DELETE", "/agents/time-a"), 204);
    assert.equal(await head("consumer"), 202, "a removed replica changes the consumer's topology");
    assert.deepEqual((await listed()).map((p: { agent_id: string }) => p.agent_id), ["time-b"]);
    assert.equal(await head("consumer"), 200);
  });
});

Deno.test("GET /agents, /agents/{id}, DELETE /agents/{id} and GET /events", async () => {
  await withRegistry(async (registry) => {
    await registry.post("/heartbeat", await fixture("fastmcp_agent_registration.json"));
    await registry.post("/heartbeat", await fixture("dependent_agent_registration.json"));
    await registry.post(
      "/heartbeat",
      agent("lonely", [{
        function_name: "f",
        capability: "c",
        dependencies: [{ capability: "x" }],
      }], {
        http_host: "0.0.0.0",
        description: "  padded  ",
      }),
    );

    const all = await registry.get("/agents");
    assert.equal(all.status, 200);
    assert.equal(all.body.count, 3);
    assert.deepEqual(all.body.agents.map((a: { id: string }) => a.id), [
      "dependent-service-00d6169a",
      FASTMCP_ID,
      "lonely",
    ]);
    const byCapability = await registry.get("/agents?capability=report_service");
    assert.deepEqual(byCapability.body.agents.map((a: { id: string }) => a.id), [
      "dependent-service-00d6169a",
    ]);
    assert.equal((await registry.get("/agents?status=unhealthy")).body.count, 0);
    assert.equal((await registry.get("/agents?status=healthy")).body.count, 3);
    const badStatus = await registry.get("/agents?status=sleepy");
    assert.equal(badStatus.status, 400);
    assert.equal(badStatus.body.details.field, "status");
    const emptyCapability = await registry.get("/agents?capability=");
    assert.equal(emptyCapability.status, 400);
    assert.equal(emptyCapability.body.details.field, "capability");

    const lonely = (await registry.get("/agents/lonely")).body;
    assert.equal(lonely.endpoint, "http://127.0.0.1:9000", "0.0.0.0 is reported as loopback");
    assert.equal(lonely.description, "padded");
    assert.equal(lonely.total_dependencies, 1);
    assert.equal(lonely.dependencies_resolved, 0);
    assert.deepEqual(lonely.dependency_resolutions, [
      { function_name: "f", capability: "x", tags: [], status: "unresolved" },
    ]);
    const dependent = (await registry.get("/agents/dependent-service-00d6169a")).body;
    assert.equal(dependent.status, "healthy");
    assert.equal(dependent.dependencies_resolved, 2);
    assert.equal(dependent.dependency_resolutions[0].provider_agent_id, FASTMCP_ID);
    assert.equal(dependent.dependency_resolutions[0].mcp_tool, "get_current_time");
    assert.equal(dependent.capabilities[0].name, "report_service");
    assert.ok(!Number.isNaN(Date.parse(dependent.created_at)));

    const missing = await registry.get("/agents/nobody");
    assert.equal(missing.status, 404);
    assert.equal(typeof missing.body.error, "string");
    assert.equal((await registry.get("/agents/bad$id")).status, 400);

    assert.equal(await registry.send("DELETE", "/agents/lonely"), 204);
    assert.equal(await registry.send("DELETE", "/agents/lonely"), 204, "idempotent");
    assert.equal((await registry.get("/agents/lonely")).status, 404);
    assert.equal(await registry.send("PUT", "/agents/lonely"), 405);

    const events = await registry.get("/events");
    assert.deepEqual(
      events.body.events.map((e: { event_type: string; agent_id: string }) =>
        `${e.event_type}:${e.agent_id}`
      ),
      [
        "unregister:lonely",
        "register:lonely",
        "register:dependent-service-00d6169a",
        `register:${FASTMCP_ID}`,
      ],
    );
    assert.equal(events.body.count, 4);
    assert.equal((await registry.get("/events?type=unregister")).body.count, 1);
    assert.equal((await registry.get("/events?agent_id=lonely")).body.count, 2);
    assert.equal((await registry.get("/events?limit=1")).body.events[0].event_type, "unregister");
    for (
      const bad of ["limit=0", "limit=501", "limit=abc", "limit=", "type=nope", "agent_id=a%20b"]
    ) {
      const response = await registry.get(`/events?${bad}`);
      assert.equal(response.status, 400, bad);
      assert.ok(response.body.details.field, bad);
    }

    await registry.post("/heartbeat", agent("changer", [{ function_name: "f", capability: "c" }]));
    await registry.post("/heartbeat", agent("changer", [{ function_name: "f", capability: "d" }]));
    assert.equal((await registry.get("/events?type=update")).body.events[0].agent_id, "changer");
  });
});

Deno.test("GET /, GET and HEAD /health, unknown routes and methods", async () => {
  await withRegistry(async (registry) => {
    const root = await registry.get("/");
    assert.equal(root.status, 200);
    assert.equal(root.body.service, "mcp-mesh-registry");
    assert.equal(root.body.status, "running");
    assert.ok(root.body.endpoints.includes("POST /heartbeat"));
    const health = await registry.get("/health");
    assert.equal(health.status, 200);
    assert.equal(health.body.status, "healthy");
    assert.equal(health.body.service, "mcp-mesh-registry");
    assert.equal(typeof health.body.uptime_seconds, "number");
    assert.equal(await registry.send("HEAD", "/health"), 200);
    const unknown = await registry.get("/nowhere");
    assert.equal(unknown.status, 404);
    assert.equal(typeof unknown.body.error, "string");
    const wrong = await fetch(`${registry.url}/heartbeat`);
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "POST");
    assert.equal(typeof (await wrong.json()).error, "string");
    assert.equal(await registry.send("POST", "/health"), 405);
  });
});

Deno.test("description is trimmed and truncated to 256 chars with a warning", async () => {
  await withRegistry(async (registry) => {
    const response = await registry.post(
      "/heartbeat",
      agent("wordy", [{ function_name: "f", capability: "c" }], {
        description: ` ${"x".repeat(300)} `,
      }),
    );
    assert.deepEqual(response.body.warnings, ["description truncated from 300 to 256 chars"]);
    assert.equal((await registry.get("/agents/wordy")).body.description.length, 256);
  });
});
