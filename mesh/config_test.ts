import assert from "node:assert/strict";
import { envAutoRun, envDebounceMs, resolveConfig } from "./config.ts";

function withEnv(vars: Record<string, string>, fn: () => void): void {
  for (const [key, value] of Object.entries(vars)) Deno.env.set(key, value);
  try {
    fn();
  } finally {
    for (const key of Object.keys(vars)) Deno.env.delete(key);
  }
}

Deno.test("defaults apply when nothing is set", () => {
  const config = resolveConfig({ name: "a" });
  assert.equal(config.httpHost, "127.0.0.1");
  assert.equal(config.httpPort, 0);
  assert.equal(config.namespace, "default");
  assert.equal(config.heartbeatIntervalMs, 5_000);
  assert.equal(config.registryUrl, "http://127.0.0.1:8000");
  assert.equal(config.version, "1.0.0");
});

Deno.test("environment beats decorator options, overrides beat both", () => {
  withEnv({
    MCP_MESH_AGENT_NAME: "from-env",
    MCP_MESH_HTTP_PORT: "9123",
    MCP_MESH_HEALTH_INTERVAL: "0.2",
    MCP_MESH_NAMESPACE: "prod",
    MCP_MESH_REGISTRY_URL: "http://registry:8000/",
    MCP_MESH_HTTP_HOST: "0.0.0.0",
  }, () => {
    const options = { name: "deco", httpPort: 1, heartbeatInterval: 9, namespace: "dev" };
    const config = resolveConfig(options);
    assert.equal(config.name, "from-env");
    assert.equal(config.httpPort, 9123);
    assert.equal(config.heartbeatIntervalMs, 200);
    assert.equal(config.namespace, "prod");
    assert.equal(config.registryUrl, "http://registry:8000");
    assert.equal(config.httpHost, "0.0.0.0");
    assert.equal(resolveConfig(options, { httpPort: 7 }).httpPort, 7);
  });
});

Deno.test("invalid numbers name the variable", () => {
  withEnv({ MCP_MESH_HTTP_PORT: "eighty" }, () => {
    assert.throws(() => resolveConfig({ name: "a" }), /MCP_MESH_HTTP_PORT="eighty" is not valid/);
  });
});

Deno.test("auto-run and debounce come from the environment", () => {
  assert.equal(envAutoRun(true), true);
  assert.equal(envDebounceMs(), 0);
  withEnv({ MCP_MESH_AUTO_RUN: "false", MCP_MESH_DEBOUNCE_DELAY: "0.5" }, () => {
    assert.equal(envAutoRun(true), false);
    assert.equal(envDebounceMs(), 500);
  });
});
