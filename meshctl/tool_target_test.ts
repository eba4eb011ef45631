import assert from "node:assert/strict";
import { CliError } from "./errors.ts";
import { chooseProvider, mcpUrl, parseToolRef } from "./tool_target.ts";
import { agentInfo, capability } from "./tests/fixtures.ts";

const hello = agentInfo("hello-00000001", {
  endpoint: "http://127.0.0.1:9001",
  capabilities: [capability("say_hello", "greeting")],
});
const system = agentInfo("system-00000002", {
  endpoint: "http://127.0.0.1:9002",
  capabilities: [capability("get_current_time", "time_service")],
});

function failure(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof CliError);
    return error.message;
  }
  throw new Error("did not fail");
}

Deno.test("parseToolRef splits an optional agent prefix", () => {
  assert.deepEqual(parseToolRef("say_hello"), { tool: "say_hello" });
  assert.deepEqual(parseToolRef("hello-1:say_hello"), { agent: "hello-1", tool: "say_hello" });
  assert.match(failure(() => parseToolRef("hello:")), /invalid tool reference/);
  assert.match(failure(() => parseToolRef(":x")), /invalid tool reference/);
});

Deno.test("chooseProvider finds a tool by name or by capability", () => {
  assert.equal(chooseProvider([hello, system], { tool: "say_hello" }).agent, hello);
  const byCapability = chooseProvider([hello, system], { tool: "time_service" });
  assert.equal(byCapability.agent, system);
  assert.equal(byCapability.capability.function_name, "get_current_time");
});

Deno.test("chooseProvider prefers healthy, then most recently seen providers", () => {
  const degraded = { ...hello, id: "hello-degraded", status: "degraded" as const };
  const older = { ...hello, id: "hello-older", last_seen: "2025-01-01T00:00:10Z" };
  assert.equal(chooseProvider([degraded, older, hello], { tool: "say_hello" }).agent, hello);
  assert.equal(chooseProvider([degraded], { tool: "say_hello" }).agent, degraded);
});

Deno.test("chooseProvider honours the agent prefix (id or name)", () => {
  const other = { ...hello, id: "hello-00000003", endpoint: "http://127.0.0.1:9003" };
  assert.equal(
    chooseProvider([hello, other], { agent: "hello-00000003", tool: "say_hello" }).agent,
    other,
  );
  assert.equal(chooseProvider([system, hello], { agent: "hello", tool: "greeting" }).agent, hello);
  assert.equal(
    failure(() => chooseProvider([hello], { agent: "helo", tool: "say_hello" })),
    'no agent "helo" in the registry; did you mean hello?',
  );
  assert.match(
    failure(() => chooseProvider([hello, system], { agent: "system", tool: "say_hello" })),
    /^unknown tool "say_hello" on agent "system"/,
  );
});

Deno.test("chooseProvider suggests close tool names for unknown tools", () => {
  assert.equal(
    failure(() => chooseProvider([hello, system], { tool: "say_helo" })),
    'unknown tool "say_helo"; did you mean say_hello?',
  );
  assert.equal(
    failure(() => chooseProvider([hello], { tool: "zzz" })),
    'unknown tool "zzz"; available tools: say_hello',
  );
  assert.equal(
    failure(() => chooseProvider([], { tool: "nosuch_tool" })),
    'unknown tool "nosuch_tool"; no tools available',
  );
});

Deno.test("chooseProvider never picks unhealthy agents", () => {
  const sick = { ...hello, status: "unhealthy" as const };
  assert.match(
    failure(() => chooseProvider([sick], { tool: "say_hello" })),
    /only by agents that are not healthy: hello-00000001 \(unhealthy\)/,
  );
});

Deno.test("mcpUrl appends /mcp once", () => {
  assert.equal(mcpUrl("http://127.0.0.1:9001").href, "http://127.0.0.1:9001/mcp");
  assert.equal(mcpUrl("http://127.0.0.1:9001/").href, "http://127.0.0.1:9001/mcp");
  assert.equal(mcpUrl("http://127.0.0.1:9001/mcp").href, "http://127.0.0.1:9001/mcp");
  assert.match(failure(() => mcpUrl("nope")), /invalid agent URL/);
});
