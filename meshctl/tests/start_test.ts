/**
 * `meshctl start` as a real subprocess: attached with Ctrl-C, embedded
 * registry, detached with logs and stop, watch-restart, and the permission
 * scoping of agent processes.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isAlive } from "../pids.ts";
import {
  cliEnv,
  eventually,
  meshctl,
  registeredAgents,
  ROOT,
  spawnMeshctl,
  startRegistry,
} from "./helpers.ts";

const HELLO = join(ROOT, "examples/hello/main.ts");
const SYSTEM = join(ROOT, "examples/system/main.ts");
const COUNTER = join(ROOT, "meshctl/tests/agents/counter/main.ts");

/** A registry in a new home and an attached `meshctl start` of hello and system against it. */
async function startHelloAndSystem(prefix: string) {
  const home = await Deno.makeTempDir({ prefix });
  const registry = startRegistry(home);
  const cli = spawnMeshctl(
    ["--registry-url", registry.url, "start", HELLO, SYSTEM, "--allow-sys"],
    cliEnv(home),
  );
  return { home, registry, cli };
}

Deno.test("start runs agents against an existing registry; Ctrl-C unregisters them", async () => {
  const { home, registry, cli } = await startHelloAndSystem("meshctl-start-");
  try {
    await cli.waitFor(/^meshctl \| ready: 2\/2 agents registered/);
    assert.match(
      cli.output,
      new RegExp(`^meshctl \\| using the registry at ${registry.url}$`, "m"),
    );
    assert.match(cli.output, /^hello +\| agent hello hello-\S+ listening on http:/m);
    assert.match(cli.output, /^system +\| agent system system-\S+ listening on http:/m);
    const { agents } = await registeredAgents(registry.url);
    assert.deepEqual(agents.map((agent) => agent.name).sort(), ["hello", "system"]);
    assert.ok(agents.every((agent) => agent.status === "healthy"));

    cli.kill("SIGINT");
    const status = await cli.status();
    assert.equal(status.code, 0, cli.output);
    assert.match(cli.output, /^meshctl \| stopping hello, system…$/m);
    assert.equal((await registeredAgents(registry.url)).count, 0, "agents unregistered");
  } finally {
    await cli.close();
    await registry.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("start --registry-only serves an embedded registry until SIGTERM", async () => {
  const home = await Deno.makeTempDir({ prefix: "meshctl-registry-" });
  const database = join(home, "mesh.db");
  const cli = spawnMeshctl(
    ["start", "--registry-only", "--registry-port", "0", "--db-path", database],
    cliEnv(home),
  );
  try {
    const [, url] = await cli.waitFor(/registry started at (\S+) \(database /);
    await cli.waitFor(/registry ready at/);
    const health = await (await fetch(`${url}/health`)).json();
    assert.equal(health.status, "healthy");
    assert.ok((await Deno.stat(database)).isFile);

    cli.kill("SIGTERM");
    assert.equal((await cli.status()).code, 0);
    assert.match(cli.output, /registry at \S+ stopped/);
    await assert.rejects(fetch(`${url}/health`), TypeError, "registry closed");
  } finally {
    await cli.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("start --detach runs in the background; logs and stop manage it", async () => {
  const home = await Deno.makeTempDir({ prefix: "meshctl-detach-" });
  const env = cliEnv(home);
  try {
    const started = await meshctl(
      ["start", "-d", "--registry-port", "0", "--allow-sys", HELLO, SYSTEM],
      env,
    );
    assert.equal(started.code, 0, started.stdout + started.stderr);
    assert.match(started.stdout, /^meshctl \| hello: registered as hello-\S+$/m);
    const [, pid, url] = started.stdout.match(
      /^Mesh running in the background \(pid (\d+)\), registry (\S+)\.$/m,
    )!;
    assert.ok(isAlive(Number(pid)));
    assert.equal(await Deno.readTextFile(join(home, "run/meshctl.pid")), `${pid}\n`);

    const again = await meshctl(["start", "-d", HELLO], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error: a detached mesh is already running \(pid \d+\)/);

    assert.match(started.stdout, /^ {2}meshctl list +see the agents$/m, "no --registry-url hint");
    const listed = await meshctl(["list"], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^hello-\S+ +healthy/m);
    assert.match(listed.stdout, /^system-\S+ +healthy/m);
    const status = await meshctl(["status"], env);
    assert.match(status.stdout, new RegExp(`^Registry +${url}$`, "m"), "found via state.json");
    const events = await meshctl(["events", "-n", "5"], env);
    assert.match(events.stdout, /^\S+ ago +register +hello-\S+/m);
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const elsewhere = `http://127.0.0.1:${closed.addr.port}`;
    closed.close();
    const fromEnv = await meshctl(["list"], { ...env, MCP_MESH_REGISTRY_URL: elsewhere });
    assert.match(fromEnv.stderr, new RegExp(`cannot reach the registry at ${elsewhere} `));
    const fromFlag = await meshctl(["--registry-url", elsewhere, "list"], env);
    assert.match(fromFlag.stderr, new RegExp(`cannot reach the registry at ${elsewhere} `));

    const logs = await meshctl(["logs", "hello", "-n", "50"], env);
    assert.equal(logs.code, 0);
    assert.match(logs.stdout, /^agent hello hello-\S+ listening on http:/m);
    const helloPid = (await Deno.readTextFile(join(home, "run/hello.pid"))).trim();
    assert.match(
      logs.stdout.split("\n")[0],
      new RegExp(`^--- \\d{4}-\\d\\d-\\d\\dT\\S+Z started ${HELLO} \\(pid ${helloPid}\\) ---$`),
      "the run starts with a marker line",
    );
    const own = await meshctl(["logs", "meshctl"], env);
    assert.match(own.stdout, /ready: 2\/2 agents registered/);
    const typo = await meshctl(["logs", "helo"], env);
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /^error: no log for "helo" in .*; did you mean hello\?$/m);
    const unlike = await meshctl(["logs", "zzzz"], env);
    assert.equal(unlike.code, 1);
    assert.equal(
      unlike.stderr,
      `error: no log for "zzzz" in ${home}/logs; available logs: hello, meshctl, system\n`,
    );
    const stopUnknown = await meshctl(["stop", "zzzz"], env);
    assert.equal(stopUnknown.code, 1);
    assert.equal(
      stopUnknown.stderr,
      'error: no detached agent "zzzz"; available agents: hello, system\n',
    );

    // `-n 1` prints exactly the last old line: once it is out, the follower is
    // following, so the exit line written by `stop` cannot slip past it.
    const follower = spawnMeshctl(["logs", "meshctl", "-f", "-n", "1"], env);
    try {
      await follower.waitFor(/./);
      const lastOld = (await meshctl(["logs", "meshctl", "-n", "1"], env)).stdout.trimEnd();
      assert.deepEqual(follower.lines, [lastOld], "-n 1 prints only the last old line");
      const stopHello = await meshctl(["stop", "hello"], env);
      assert.equal(stopHello.stdout, "hello: stopped\n");
      await follower.waitFor(/ hello: exited with code 0$/, 1);
    } finally {
      await follower.close();
    }
    const { agents } = await registeredAgents(url);
    assert.deepEqual(agents.map((agent) => agent.name), ["system"], "hello unregistered");

    const stopAll = await meshctl(["stop"], env);
    assert.equal(stopAll.code, 0, stopAll.stderr);
    assert.match(stopAll.stdout, /Mesh stopped: agents unregistered, registry closed\./);
    assert.ok(!isAlive(Number(pid)));
    await assert.rejects(fetch(`${url}/health`), TypeError, "registry closed");
    const leftovers = [...Deno.readDirSync(join(home, "run"))].map((entry) => entry.name);
    assert.deepEqual(leftovers, []);
    assert.equal(
      (await meshctl(["stop"], env)).stdout,
      `No detached mesh is running (nothing in ${home}/run).\n`,
    );
  } finally {
    await meshctl(["stop", "--grace", "2"], env);
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("start hints --registry-url only when a later command would miss the registry", async () => {
  const home = await Deno.makeTempDir({ prefix: "meshctl-hint-" });
  const env = cliEnv(home);
  // Its own directory: the detached mesh's embedded registry locks home/registry.db.
  await Deno.mkdir(join(home, "other"));
  const other = startRegistry(join(home, "other"));
  try {
    const detached = await meshctl(["start", "-d", "--registry-port", "0", HELLO], env);
    assert.equal(detached.code, 0, detached.stdout + detached.stderr);
    const [, url] = detached.stdout.match(/, registry (\S+)\.$/m)!;

    // Later commands from this home resolve the detached mesh's registry: no flag needed.
    const joined = spawnMeshctl(["--registry-url", url, "start", COUNTER], env);
    try {
      const [next] = await joined.waitFor(/^meshctl \| next: .*$/);
      assert.equal(
        next,
        "meshctl | next: `meshctl list --tools`, `meshctl call <tool> '{…}'`; Ctrl-C to stop",
      );
      const listed = await meshctl(["list"], env);
      assert.match(listed.stdout, /^counter-\S+ +healthy/m);
    } finally {
      await joined.close();
    }

    // Another registry: a plain `meshctl list` would go to the detached mesh's.
    const apart = spawnMeshctl(["--registry-url", other.url, "start", COUNTER], env);
    try {
      const [next] = await apart.waitFor(/^meshctl \| next: .*$/);
      assert.match(next, new RegExp(`\`meshctl --registry-url ${other.url} list --tools\``));
    } finally {
      await apart.close();
    }

    // A second detached run appends to the same log, after its own marker.
    assert.equal((await meshctl(["stop"], env)).code, 0);
    const again = await meshctl(["start", "-d", "--registry-port", "0", HELLO], env);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const { stdout } = await meshctl(["logs", "hello", "-n", "1000"], env);
    const markers = [...stdout.matchAll(/^--- \S+ started (\S+) \(pid (\d+)\) ---$/gm)];
    assert.deepEqual(markers.map((marker) => marker[1]), [HELLO, HELLO]);
    assert.notEqual(markers[0][2], markers[1][2], "each run has its own pid");
    const secondRun = stdout.slice(markers[1].index);
    assert.equal(secondRun.match(/listening on http:/g)?.length, 1, "one run after each marker");
  } finally {
    await meshctl(["stop", "--grace", "2"], env);
    await other.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("start --watch restarts only the agent whose sources changed, not on lock or editor files", async () => {
  const scratch = join(ROOT, "meshctl/.tmp");
  await Deno.mkdir(scratch, { recursive: true });
  const work = await Deno.makeTempDir({ dir: scratch, prefix: "watch-" });
  const registry = startRegistry(work);
  for (const name of ["hello", "system"]) {
    await Deno.mkdir(join(work, name));
    await Deno.copyFile(join(ROOT, `examples/${name}/main.ts`), join(work, name, "main.ts"));
  }
  const cli = spawnMeshctl(
    [
      "--registry-url",
      registry.url,
      "start",
      "-w",
      join(work, "hello/main.ts"),
      join(work, "system/main.ts"),
    ],
    cliEnv(work),
  );
  try {
    await cli.waitFor(/ready: 2\/2 agents registered/);
    const [, firstHello] = await cli.waitFor(/^meshctl \| hello: registered as (\S+)/);
    const [, system] = await cli.waitFor(/^meshctl \| system: registered as (\S+)/);
    const mark = cli.lines.length;

    // What Deno and editors write beside the sources: none of it restarts anything.
    const hello = join(work, "hello");
    await Deno.writeTextFile(join(hello, "deno.aa408b96.tmp"), "{}");
    await Deno.rename(join(hello, "deno.aa408b96.tmp"), join(hello, "deno.lock"));
    for (const name of [".main.ts.swp", ".#main.ts", "main.ts~", "4913"]) {
      await Deno.writeTextFile(join(hello, name), "x");
    }
    await Deno.mkdir(join(hello, ".git"));
    await Deno.writeTextFile(join(hello, ".git/index"), "x");

    const file = join(work, "hello/main.ts");
    const source = await Deno.readTextFile(file);
    await Deno.writeTextFile(file, source.replace("`Hello, ${name}!`", "`Hi there, ${name}!`"));

    await cli.waitFor(/^meshctl \| hello: main\.ts changed, restarting$/, mark);
    const [, secondHello] = await cli.waitFor(/^meshctl \| hello: registered as (\S+)/, mark);
    assert.notEqual(secondHello, firstHello);
    const after = cli.lines.slice(mark).join("\n");
    assert.doesNotMatch(after, /system: .*restarting/);
    assert.equal(after.match(/restarting/g)?.length, 1, "only main.ts restarted hello");
    await eventually(async () => {
      const names = (await registeredAgents(registry.url)).agents.map((agent) => agent.id).sort();
      return names.join() === [secondHello, system].sort().join();
    }, "old hello unregistered, system untouched");
    const call = await meshctl(
      ["--registry-url", registry.url, "call", "say_hello", '{"name": "Watch"}'],
      cliEnv(work),
    );
    assert.equal(call.stdout, "Hi there, Watch!\n");

    cli.kill("SIGINT");
    assert.equal((await cli.status()).code, 0);
  } finally {
    await cli.close();
    await registry.close();
    await Deno.remove(work, { recursive: true });
  }
});

const PROBE_AGENT = `
const dir = new URL(".", import.meta.url).pathname;
console.log("own file:", (await Deno.readTextFile(dir + "own.txt")).trim());
const attempts = {
  "read outside": () => Deno.readTextFile(Deno.env.get("SECRET_FILE")),
  "write own dir": () => Deno.writeTextFile(dir + "written.txt", "x"),
  "run a program": () => new Deno.Command("true").output(),
};
for (const [what, attempt] of Object.entries(attempts)) {
  try {
    await attempt();
    console.log(what + ": allowed");
  } catch (error) {
    console.log(what + ": denied " + error.name);
  }
}
`;

Deno.test("start runs agents with only net, env and their own directory", async () => {
  const home = await Deno.makeTempDir({ prefix: "meshctl-perm-" });
  const agentDir = join(home, "probe");
  await Deno.mkdir(agentDir);
  await Deno.writeTextFile(join(agentDir, "main.ts"), PROBE_AGENT);
  await Deno.writeTextFile(join(agentDir, "own.txt"), "mine\n");
  const secret = join(home, "secret.txt");
  await Deno.writeTextFile(secret, "top secret\n");
  const env = cliEnv(home, { SECRET_FILE: secret });
  const registry = startRegistry(home);
  try {
    const args = [
      "--registry-url",
      registry.url,
      "start",
      "--wait",
      "1",
      join(agentDir, "main.ts"),
    ];
    const scoped = await meshctl(args, env);
    assert.equal(scoped.code, 0, scoped.stderr);
    assert.match(scoped.stdout, /^probe +\| own file: mine$/m);
    assert.match(scoped.stdout, /^probe +\| read outside: denied NotCapable$/m);
    assert.match(scoped.stdout, /^probe +\| write own dir: denied NotCapable$/m);
    assert.match(scoped.stdout, /^probe +\| run a program: denied NotCapable$/m);
    assert.doesNotMatch(scoped.stdout, /top secret/);

    const granted = await meshctl([...args, "--allow-write-dir", agentDir], env);
    assert.match(granted.stdout, /^probe +\| write own dir: allowed$/m);
    assert.match(granted.stdout, /^probe +\| read outside: denied NotCapable$/m);
  } finally {
    await registry.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("start checks every agent file before starting anything", async () => {
  const home = await Deno.makeTempDir({ prefix: "meshctl-files-" });
  try {
    const cases: [string[], string][] = [
      [["README.md"], "error: not an agent file: README.md (expected .ts, .tsx, .mts, .js, .mjs)"],
      [
        ["-d", HELLO, "README.md"],
        "error: not an agent file: README.md (expected .ts, .tsx, .mts, .js, .mjs)",
      ],
      [[HELLO, "nosuch/main.ts"], "error: agent file not found: nosuch/main.ts"],
      [["examples"], "error: not a file: examples (give the agent's .ts file)"],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await meshctl(
        ["start", "--registry-port", "0", ...args],
        cliEnv(home),
        { cwd: ROOT },
      );
      assert.equal(code, 2, args.join(" "));
      assert.equal(stdout, "", "nothing started");
      assert.equal(stderr, `${message}\n`);
    }
    assert.deepEqual([...Deno.readDirSync(home)], [], "no registry database, logs or pid files");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("start unregisters an agent whose process was killed", async () => {
  const { home, registry, cli } = await startHelloAndSystem("meshctl-kill-");
  try {
    await cli.waitFor(/^meshctl \| ready: 2\/2 agents registered/);
    const [, pid] = await cli.waitFor(/^meshctl \| hello: started .* \(pid (\d+)\)$/);
    const [, id] = await cli.waitFor(/^meshctl \| hello: registered as (hello-\S+) /);
    Deno.kill(Number(pid), "SIGKILL");
    await cli.waitFor(
      new RegExp(
        `^meshctl \\| hello: unregistered ${id} from the registry \\(its process is gone\\)$`,
      ),
    );
    assert.match(cli.output, /^meshctl \| hello: exited on SIGKILL$/m);
    const { agents } = await registeredAgents(registry.url);
    assert.deepEqual(agents.map((agent) => agent.name), ["system"], "hello is gone at once");
    const call = await meshctl(["--registry-url", registry.url, "call", "say_hello"], cliEnv(home));
    assert.equal(call.code, 1);
    assert.match(call.stderr, /^error: unknown tool "say_hello"/);
  } finally {
    await cli.close();
    await registry.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("start says the registry refused an agent's token instead of asking if it is an agent", async () => {
  const home = await Deno.makeTempDir({ prefix: "meshctl-token-" });
  const registry = startRegistry(home, "s3cret");
  const env = cliEnv(home);
  try {
    const cli = spawnMeshctl(["--registry-url", registry.url, "start", "--wait", "3", HELLO], env);
    try {
      await cli.waitFor(/^hello +\| .*registry .*HTTP 401/);
      const [hint] = await cli.waitFor(/^meshctl \| hello: not registered: .*$/);
      assert.equal(
        hint,
        `meshctl | hello: not registered: the registry at ${registry.url} refused its token ` +
          "(HTTP 401); set MCP_MESH_REGISTRY_TOKEN to the registry's token",
      );
      assert.doesNotMatch(cli.output, /is it a mesh agent\?/);
      cli.kill("SIGINT");
      assert.equal((await cli.status()).code, 0, "attached: Ctrl-C ends it with 0");
    } finally {
      await cli.close();
    }

    const detached = await meshctl(
      ["--registry-url", registry.url, "start", "-d", "--wait", "3", HELLO],
      env,
    );
    assert.equal(detached.code, 1, "detached: an agent that did not register fails the start");
    assert.match(detached.stdout, /Mesh running in the background/);
    const log = await meshctl(["logs", "meshctl"], env);
    assert.match(log.stdout, /hello: not registered: the registry at \S+ refused its token/);
  } finally {
    await meshctl(["stop", "--grace", "2"], env);
    await registry.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("start gives agents NO_COLOR unless a terminal watches, so logs stay plain", async () => {
  const home = await Deno.makeTempDir({ prefix: "meshctl-color-" });
  const agentDir = join(home, "boom");
  await Deno.mkdir(agentDir);
  const agent = join(agentDir, "main.ts");
  await Deno.writeTextFile(agent, 'throw new Error("boom");\n');
  // No NO_COLOR here: Deno colours an uncaught error even into a pipe unless told not to.
  const env = { MCP_MESH_HOME: home };
  try {
    const attached = await meshctl(["start", "--registry-port", "0", agent], env);
    assert.equal(attached.code, 1, attached.stdout + attached.stderr);
    assert.match(attached.stdout, /^boom +\| error: Uncaught .*Error: boom$/m);
    assert.ok(!attached.stdout.includes("\x1b["), "no ANSI codes in the output");

    const detached = await meshctl(["start", "-d", "--registry-port", "0", agent], env);
    assert.equal(detached.code, 1, detached.stdout + detached.stderr);
    const log = await Deno.readTextFile(join(home, "logs/boom.log"));
    assert.match(log, /^error: Uncaught .*Error: boom$/m);
    assert.ok(!log.includes("\x1b["), "no ANSI codes in the log");
  } finally {
    await meshctl(["stop", "--grace", "2"], env);
    await Deno.remove(home, { recursive: true });
  }
});
