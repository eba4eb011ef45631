/**
 * `meshctl stop` of a detached mesh whose supervisor is gone (`kill -9`):
 * the agents it left running are stopped, unregistered and their run files
 * removed; a stale pid file never gets an unrelated process signalled.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isAlive, runsWith } from "../pids.ts";
import { cliEnv, eventually, meshctl, registeredAgents, ROOT, startRegistry } from "./helpers.ts";

const HELLO = join(ROOT, "examples/hello/main.ts");
const SYSTEM = join(ROOT, "examples/system/main.ts");

async function pidOf(home: string, name: string): Promise<number> {
  return Number((await Deno.readTextFile(join(home, "run", `${name}.pid`))).trim());
}

Deno.test("stop stops the agents a killed supervisor left running", async () => {
  const home = await Deno.makeTempDir({ prefix: "meshctl-orphans-" });
  const registry = startRegistry(home);
  const env = cliEnv(home);
  try {
    const started = await meshctl(
      ["--registry-url", registry.url, "start", "-d", "--allow-sys", HELLO, SYSTEM],
      env,
    );
    assert.equal(started.code, 0, started.stdout + started.stderr);
    const supervisor = await pidOf(home, "meshctl");
    const hello = await pidOf(home, "hello");
    const system = await pidOf(home, "system");
    Deno.kill(supervisor, "SIGKILL");
    await eventually(async () => !(await runsWith(supervisor, "--supervise")), "supervisor dead");
    assert.ok(isAlive(hello) && isAlive(system), "its agents keep running");

    const stopHello = await meshctl(["stop", "hello", "--grace", "5"], env);
    assert.equal(stopHello.code, 0, stopHello.stderr);
    assert.equal(
      stopHello.stdout.split("\n")[0],
      `The mesh supervisor (pid ${supervisor}) is gone; stopping the agents it left running: hello`,
    );
    assert.match(stopHello.stdout, /^hello: stopped$/m);
    assert.ok(!isAlive(hello), "hello stopped");
    assert.ok(isAlive(system), "system untouched");
    const { agents } = await registeredAgents(registry.url);
    assert.deepEqual(agents.map((agent) => agent.name), ["system"], "hello unregistered");

    const stopAll = await meshctl(["stop", "--grace", "5"], env);
    assert.equal(stopAll.code, 0, stopAll.stderr);
    assert.match(stopAll.stdout, /is gone; stopping the agents it left running: system$/m);
    assert.match(stopAll.stdout, /^system: stopped$/m);
    assert.ok(!isAlive(system), "system stopped");
    assert.equal((await registeredAgents(registry.url)).count, 0, "system unregistered");
    assert.deepEqual([...Deno.readDirSync(join(home, "run"))], [], "run files removed");
    assert.equal(
      (await meshctl(["stop"], env)).stdout,
      `No detached mesh is running (nothing in ${home}/run).\n`,
    );
  } finally {
    await meshctl(["stop", "--grace", "2"], env);
    await registry.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("stop never signals a process that reuses a stale agent pid", async () => {
  const home = await Deno.makeTempDir({ prefix: "meshctl-stale-" });
  const env = cliEnv(home);
  const stranger = new Deno.Command("sleep", { args: ["60"] }).spawn();
  try {
    await Deno.mkdir(join(home, "run"));
    await Deno.writeTextFile(join(home, "run/meshctl.pid"), `${stranger.pid}\n`);
    await Deno.writeTextFile(join(home, "run/hello.pid"), `${stranger.pid}\n`);
    await Deno.writeTextFile(
      join(home, "run/state.json"),
      JSON.stringify({
        pid: stranger.pid,
        registryUrl: "http://127.0.0.1:9",
        ownsRegistry: true,
        settled: true,
        agents: [{ name: "hello", file: HELLO, status: "registered", agentId: "hello-1" }],
      }),
    );
    const named = await meshctl(["stop", "hello"], env);
    assert.equal(named.code, 1);
    assert.equal(named.stderr, `error: no detached mesh is running (nothing in ${home}/run)\n`);
    const all = await meshctl(["stop"], env);
    assert.equal(all.stdout, `No detached mesh is running (nothing in ${home}/run).\n`);
    assert.ok(isAlive(stranger.pid), "the process behind the stale pid files lives on");
    assert.deepEqual([...Deno.readDirSync(join(home, "run"))], [], "stale run files removed");
  } finally {
    stranger.kill("SIGKILL");
    await stranger.status;
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("stop in a home where no mesh ever ran says so", async () => {
  const home = await Deno.makeTempDir({ prefix: "meshctl-empty-" });
  try {
    const all = await meshctl(["stop"], cliEnv(home));
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, `No detached mesh is running (nothing in ${join(home, "run")}).\n`);
    const named = await meshctl(["stop", "hello"], cliEnv(home));
    assert.equal(named.code, 1);
    assert.equal(
      named.stderr,
      `error: no detached mesh is running (nothing in ${join(home, "run")})\n`,
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
