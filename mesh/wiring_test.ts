import assert from "node:assert/strict";
import type { DependencyResolution } from "./protocol.ts";
import { LocalTool, RemoteTool } from "./proxy.ts";
import { DependencyWiring, fingerprint } from "./wiring.ts";

const calls: string[] = [];
function wiring(): DependencyWiring {
  return new DependencyWiring({
    selfId: "me-00000001",
    selfEndpoint: "http://127.0.0.1:1",
    invokeLocal: (name, args) => {
      calls.push(`${name}:${JSON.stringify(args)}`);
      return Promise.resolve({ content: [{ type: "text", text: `local ${name}` }] });
    },
  });
}

const remoteTime: DependencyResolution = {
  agent_id: "system-0000000a",
  function_name: "get_current_time",
  endpoint: "http://127.0.0.1:2",
  capability: "time_service",
  status: "available",
};

Deno.test("fingerprint ignores key order", () => {
  assert.equal(fingerprint({ a: 1, b: { c: 2, d: 3 } }), fingerprint({ b: { d: 3, c: 2 }, a: 1 }));
  assert.notEqual(fingerprint({ a: [1, 2] }), fingerprint({ a: [2, 1] }));
});

Deno.test("proxies are rebuilt only when the resolved topology changes", () => {
  const deps = wiring();
  assert.deepEqual(deps.get("greet", 1), [undefined]);
  assert.equal(deps.update({ greet: [remoteTime] }), true);
  const first = deps.get("greet", 1)[0];
  assert.ok(first instanceof RemoteTool);
  assert.equal(first.endpoint, "http://127.0.0.1:2");

  // Same answer with keys in another order: nothing rebuilt.
  assert.equal(deps.update({ greet: [{ ...remoteTime }] }), false);
  assert.equal(deps.get("greet", 1)[0], first);

  // Provider gone: unwired.
  assert.equal(
    deps.update({ greet: [{ capability: "time_service", status: "unresolved" }] }),
    true,
  );
  assert.deepEqual(deps.get("greet", 1), [undefined]);
});

Deno.test("a dependency resolved to the agent itself is called in-process", async () => {
  const deps = wiring();
  deps.update({
    greet: [{ ...remoteTime, agent_id: "me-00000001", function_name: "now" }, {
      capability: "weather",
      status: "unresolved",
    }],
  });
  const [self, missing] = deps.get("greet", 2);
  assert.ok(self instanceof LocalTool);
  assert.equal(missing, undefined);
  assert.equal(await self.call({ tz: "UTC" }), "local now");
  assert.deepEqual(calls, ['now:{"tz":"UTC"}']);
});
