import assert from "node:assert/strict";
import { resolve } from "node:path";
import { agentName, agentRunArgs, uniqueNames } from "./permissions.ts";

Deno.test("agentName uses the directory for entry files, else the file name", () => {
  assert.equal(agentName("examples/hello/main.ts"), "hello");
  assert.equal(agentName("/srv/weather/mod.ts"), "weather");
  assert.equal(agentName("agents/forecast.ts"), "forecast");
});

Deno.test("uniqueNames suffixes repeats", () => {
  assert.deepEqual(uniqueNames(["a", "b", "a", "a"]), ["a", "b", "a-2", "a-3"]);
});

Deno.test("agentRunArgs grants net, env and reading the agent's directory only", () => {
  const args = agentRunArgs("examples/hello/main.ts");
  assert.deepEqual(args, [
    "run",
    "--no-prompt",
    "--allow-net",
    "--allow-env",
    `--allow-read=${resolve("examples/hello")}`,
    resolve("examples/hello/main.ts"),
  ]);
  assert.ok(!args.includes("-A") && !args.includes("--allow-all"));
});

Deno.test("agentRunArgs adds granted write directories and sys", () => {
  const args = agentRunArgs("/a/agent.ts", { writeDirs: ["/tmp/x", "/tmp/y"], sys: true });
  assert.ok(args.includes("--allow-write=/tmp/x,/tmp/y"));
  assert.ok(args.includes("--allow-sys"));
  assert.equal(args.at(-1), "/a/agent.ts");
});
