import assert from "node:assert/strict";

const MAIN = new URL("../main.ts", import.meta.url);

function spawnRegistry(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      MAIN.href,
      ...args,
    ],
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Reads a child's output line by line as it arrives, then the rest at once. */
function lineReader(stream: ReadableStream<Uint8Array>) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  return {
    async line(): Promise<string> {
      while (!buffered.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += value;
      }
      const end = buffered.indexOf("\n");
      const line = end < 0 ? buffered : buffered.slice(0, end);
      buffered = end < 0 ? "" : buffered.slice(end + 1);
      return line;
    },
    async rest(): Promise<string> {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return buffered;
        buffered += value;
      }
    },
  };
}

Deno.test("main.ts prints one line, serves /health, exits 0 on SIGTERM", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mesh_registry_main_" });
  const child = spawnRegistry(
    ["--port", "0", "--db", `sqlite://${dir}/mesh.db`, "--token", "main-secret"],
    { HEALTH_CHECK_INTERVAL: "0.5" },
  );
  const output = lineReader(child.stdout);
  try {
    const line = await output.line();
    const match = line.match(/listening on (http:\/\/127\.0\.0\.1:(\d+)) \(database: (.+)\)$/);
    assert.ok(match, line);
    assert.equal(match[3], `${dir}/mesh.db`);
    const health = await fetch(`${match[1]}/health`);
    assert.equal((await health.json()).service, "mcp-mesh-registry");
    const head = (headers: HeadersInit) =>
      fetch(`${match[1]}/heartbeat/someone`, { method: "HEAD", headers });
    assert.equal((await head({})).status, 401, "--token protects the write routes");
    assert.equal((await head({ authorization: "Bearer main-secret" })).status, 410);
    child.kill("SIGTERM");
    const [status, rest] = await Promise.all([child.status, output.rest()]);
    assert.equal(status.code, 0);
    assert.equal(rest, "mcp-mesh registry stopping (SIGTERM)\nmcp-mesh registry stopped\n");
    assert.ok((await Deno.stat(`${dir}/mesh.db`)).isFile);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await output.rest();
    await child.stderr.cancel();
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main.ts rejects invalid configuration with one line and exit 2", async () => {
  for (
    const [args, env, pattern] of [
      [[], { PORT: "abc" }, /PORT must be an integer/],
      [["--port", "70000"], {}, /--port must be an integer/],
      [[], { DATABASE_URL: "postgres://db/mesh" }, /PostgreSQL is not supported yet/],
      [[], { DEFAULT_TIMEOUT_THRESHOLD: "-1" }, /DEFAULT_TIMEOUT_THRESHOLD/],
      [["--verbose"], {}, /Unknown option '--verbose'/],
    ] as [string[], Record<string, string>, RegExp][]
  ) {
    const child = spawnRegistry(args, env);
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    assert.equal(status.code, 2, stderr);
    assert.equal(stdout, "");
    assert.match(stderr, pattern);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  }
});

Deno.test("main.ts --help lists every flag and setting, exits 0", async () => {
  for (const flag of ["--help", "-h"]) {
    const child = spawnRegistry([flag, "--port", "1"]);
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    assert.equal(status.code, 0, stderr);
    for (
      const word of ["--host", "--port", "--db", "--token", "DATABASE_URL", "HEALTH_CHECK_INTERVAL"]
    ) {
      assert.ok(stdout.includes(word), `${flag}: ${word}`);
    }
  }
});
