import assert from "node:assert/strict";

Deno.test("the demo narrates wired → degraded → rewired and exits 0", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "examples/demo.ts"],
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(stdout);
  assert.equal(code, 0, `${output}\n${new TextDecoder().decode(stderr)}`);
  const steps = [...output.matchAll(/^\[(\w+)\]/gm)].map((match) => match[1]);
  assert.deepEqual(steps, [
    "registry",
    "agents",
    "agents",
    "wired",
    "stop",
    "degraded",
    "restart",
    "rewired",
    "shutdown",
    "done",
    "next",
  ]);
  assert.match(output, /\[wired\] .*The time is \d{4}-\d\d-\d\dT[\d:.]+Z\./);
  assert.match(output, /\[stop\] .*exit code 0/);
  assert.match(output, /\[degraded\] .*\(time unavailable\)/);
  assert.match(output, /\[rewired\] .*The time is \d{4}-\d\d-\d\dT[\d:.]+Z\./);
  assert.match(output, /\[shutdown\] .*lists 0 agents/);
});
