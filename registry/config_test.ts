import assert from "node:assert/strict";
import { ConfigError, parseConfig, parseDatabaseUrl, USAGE, wantsHelp } from "./config.ts";

const env = (values: Record<string, string>) => (name: string) => values[name];

Deno.test("parseConfig: defaults, env, and flags overriding env", () => {
  assert.deepEqual(parseConfig([], env({})), {
    hostname: "127.0.0.1",
    port: 8000,
    databaseUrl: "mcp_mesh_registry.db",
    healthCheckIntervalMs: 10_000,
    timeoutThresholdMs: 20_000,
    evictionThresholdMs: 60_000,
    token: "",
  });
  const config = parseConfig(
    ["--port", "0", "--db", "flag.db"],
    env({
      HOST: "0.0.0.0",
      PORT: "9",
      DATABASE_URL: "env.db",
      HEALTH_CHECK_INTERVAL: "0.5",
      DEFAULT_TIMEOUT_THRESHOLD: "3",
      DEFAULT_EVICTION_THRESHOLD: "7",
      MCP_MESH_REGISTRY_TOKEN: "from-env",
    }),
  );
  assert.deepEqual(config, {
    hostname: "0.0.0.0",
    port: 0,
    databaseUrl: "flag.db",
    healthCheckIntervalMs: 500,
    timeoutThresholdMs: 3000,
    evictionThresholdMs: 7000,
    token: "from-env",
  });
  assert.equal(
    parseConfig(["--token", "from-flag"], env({ MCP_MESH_REGISTRY_TOKEN: "from-env" })).token,
    "from-flag",
  );
});

Deno.test("parseConfig: invalid values name the setting", () => {
  assert.throws(
    () => parseConfig([], env({ PORT: "abc" })),
    new ConfigError('PORT must be an integer 0..65535, got "abc"'),
  );
  assert.throws(() => parseConfig(["--port=-1"], env({})), /--port must be an integer/);
  assert.throws(() => parseConfig([], env({ PORT: "" })), /PORT/);
  assert.throws(
    () => parseConfig([], env({ HEALTH_CHECK_INTERVAL: "0" })),
    /HEALTH_CHECK_INTERVAL/,
  );
  assert.throws(() => parseConfig(["--nope"], env({})), ConfigError);
  assert.throws(() => parseConfig(["positional"], env({})), ConfigError);
});

Deno.test("parseDatabaseUrl: paths, sqlite: and file: URLs; PostgreSQL not yet", () => {
  assert.equal(parseDatabaseUrl("mesh.db"), "mesh.db");
  assert.equal(parseDatabaseUrl(":memory:"), ":memory:");
  assert.equal(parseDatabaseUrl("sqlite:///var/lib/mesh.db"), "/var/lib/mesh.db");
  assert.equal(parseDatabaseUrl("sqlite://rel/mesh.db"), "rel/mesh.db");
  assert.equal(parseDatabaseUrl("file:///var/lib/mesh.db"), "/var/lib/mesh.db");
  assert.equal(parseDatabaseUrl("file:rel.db"), "rel.db");
  assert.throws(() => parseDatabaseUrl("postgres://h/db"), /PostgreSQL is not supported yet/);
  assert.throws(() => parseDatabaseUrl("postgresql://h/db"), /PostgreSQL is not supported yet/);
  assert.throws(() => parseDatabaseUrl("mysql://h/db"), /unsupported database URL/);
  assert.throws(() => parseDatabaseUrl(""), /must not be empty/);
});

Deno.test("wantsHelp finds --help and -h as flags, not as values; USAGE names every setting", () => {
  assert.ok(wantsHelp(["--help"]));
  assert.ok(wantsHelp(["--port", "0", "-h"]));
  assert.ok(!wantsHelp(["--token=-h"]));
  assert.ok(!wantsHelp(["--port", "0"]));
  for (
    const name of [
      "--host",
      "--port",
      "--db",
      "--token",
      "DATABASE_URL",
      "HEALTH_CHECK_INTERVAL",
      "DEFAULT_TIMEOUT_THRESHOLD",
      "DEFAULT_EVICTION_THRESHOLD",
      "MCP_MESH_REGISTRY_TOKEN",
    ]
  ) {
    assert.ok(USAGE.includes(name), name);
  }
});
