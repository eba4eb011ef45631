import assert from "node:assert/strict";
import { resolveRegistryUrl } from "./context.ts";
import { type DetachedState, meshPaths, writeState } from "./home.ts";
import { DEFAULT_REGISTRY_URL } from "./registry_client.ts";

const MESH_REGISTRY = "http://127.0.0.1:40303";

/** A home whose run/state.json says a mesh with supervisor `pid` uses {@linkcode MESH_REGISTRY}. */
async function homeWithState(pid: number, extra: Partial<DetachedState> = {}) {
  const paths = meshPaths(await Deno.makeTempDir({ prefix: "meshctl-context-" }));
  await Deno.mkdir(paths.run, { recursive: true });
  await writeState(paths, {
    pid,
    registryUrl: MESH_REGISTRY,
    ownsRegistry: true,
    settled: true,
    agents: [],
    ...extra,
  });
  return { paths, [Symbol.asyncDispose]: () => Deno.remove(paths.home, { recursive: true }) };
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", ""],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await child.status;
  return child.pid;
}

Deno.test("resolveRegistryUrl: a given URL (flag or env) wins over a live mesh", async () => {
  await using home = await homeWithState(Deno.pid);
  assert.equal(
    await resolveRegistryUrl("http://127.0.0.1:9100/", home.paths),
    "http://127.0.0.1:9100",
  );
});

Deno.test("resolveRegistryUrl: the registry of a live detached mesh", async () => {
  await using home = await homeWithState(Deno.pid);
  assert.equal(await resolveRegistryUrl(undefined, home.paths), MESH_REGISTRY);
});

Deno.test("resolveRegistryUrl: a state file whose supervisor is dead is ignored", async () => {
  await using home = await homeWithState(await deadPid());
  assert.equal(await resolveRegistryUrl(undefined, home.paths), DEFAULT_REGISTRY_URL);
});

Deno.test("resolveRegistryUrl: a state file of a mesh that failed to start is ignored", async () => {
  await using home = await homeWithState(Deno.pid, { error: "port 8000 is in use" });
  assert.equal(await resolveRegistryUrl(undefined, home.paths), DEFAULT_REGISTRY_URL);
});

Deno.test("resolveRegistryUrl: without a state file, the default", async () => {
  const home = await Deno.makeTempDir({ prefix: "meshctl-context-" });
  try {
    assert.equal(await resolveRegistryUrl(undefined, meshPaths(home)), DEFAULT_REGISTRY_URL);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("resolveRegistryUrl: an invalid given URL is a usage error", async () => {
  await assert.rejects(
    resolveRegistryUrl("ftp://example.com", meshPaths("/nonexistent")),
    {
      name: "UsageError",
      exitCode: 2,
      message: 'invalid registry URL "ftp://example.com": use http:// or https://',
    },
  );
});
