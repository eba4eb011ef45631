import assert from "node:assert/strict";
import { dependencyResolutionJson, registrationResponseJson } from "./response_json.ts";
import { parseVersion, type Provider } from "./resolver.ts";

function provider(agentId: string, kwargs?: Provider["kwargs"]): Provider {
  return {
    agentId,
    functionName: "now",
    capability: "time",
    version: "1.2.0",
    semver: parseVersion("1.2.0"),
    tags: [],
    namespace: "default",
    endpoint: `http://127.0.0.1:9000/${agentId}`,
    healthy: true,
    requiredDependencies: [],
    ...(kwargs === undefined ? {} : { kwargs }),
  };
}

Deno.test("dependencyResolutionJson: chosen provider fields, then every provider", () => {
  const a = provider("a", { timeout: 5, "x-custom": '"quoted"' });
  const b = provider("b");
  const spec = { capability: "time" };
  const expected = {
    agent_id: "a",
    function_name: "now",
    endpoint: "http://127.0.0.1:9000/a",
    capability: "time",
    status: "available",
    kwargs: { timeout: 5, "x-custom": '"quoted"' },
    providers: [
      {
        agent_id: "a",
        function_name: "now",
        endpoint: "http://127.0.0.1:9000/a",
        version: "1.2.0",
        kwargs: { timeout: 5, "x-custom": '"quoted"' },
      },
      {
        agent_id: "b",
        function_name: "now",
        endpoint: "http://127.0.0.1:9000/b",
        version: "1.2.0",
      },
    ],
  };
  const resolution = { spec, provider: a, providers: [a, b] };
  assert.deepEqual(JSON.parse(dependencyResolutionJson(resolution)), expected);
  assert.equal(
    dependencyResolutionJson(resolution),
    dependencyResolutionJson(resolution),
    "cached fragments give the same text",
  );
  assert.deepEqual(JSON.parse(dependencyResolutionJson({ spec, providers: [] })), {
    capability: "time",
    status: "unresolved",
  });
});

Deno.test("registrationResponseJson: fields, dependencies_resolved by function, warnings", () => {
  const fields = {
    status: "success" as const,
    timestamp: "2026-01-01T00:00:00.000Z",
    message: "Agent registered via heartbeat",
    agent_id: 'a"b',
  };
  const unresolved = dependencyResolutionJson({ spec: { capability: "x" }, providers: [] });
  assert.deepEqual(JSON.parse(registrationResponseJson(fields, new Map())), {
    ...fields,
    dependencies_resolved: {},
  });
  assert.deepEqual(
    JSON.parse(
      registrationResponseJson(
        { ...fields, warnings: ["truncated"] },
        new Map([["f", [unresolved, unresolved]], ['g"', [unresolved]]]),
      ),
    ),
    {
      ...fields,
      warnings: ["truncated"],
      dependencies_resolved: {
        f: [{ capability: "x", status: "unresolved" }, { capability: "x", status: "unresolved" }],
        'g"': [{ capability: "x", status: "unresolved" }],
      },
    },
  );
});
