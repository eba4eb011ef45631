import assert from "node:assert/strict";
import { currentCallContext, deadlineFrom, runInCallContext } from "./call_context.ts";

Deno.test("X-Mesh-Timeout seconds become a deadline; junk is ignored", () => {
  assert.equal(deadlineFrom("1.5", 1_000), 2_500);
  assert.equal(deadlineFrom("0", 1_000), 1_000);
  assert.equal(deadlineFrom("-3", 1_000), 1_000);
  assert.equal(deadlineFrom(null, 1_000), undefined);
  assert.equal(deadlineFrom(" ", 1_000), undefined);
  assert.equal(deadlineFrom("soon", 1_000), undefined);
});

Deno.test("the call context follows async work and ends with it", async () => {
  const request = new Request("http://agent/mcp", {
    method: "POST",
    headers: { "X-Mesh-Timeout": "10", "X-Session-ID": "s1" },
  });
  const before = Date.now();
  const seen = await runInCallContext(request, async () => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    return currentCallContext();
  });
  assert.ok(seen?.deadline !== undefined && seen.deadline >= before + 10_000);
  assert.equal(seen.headers.get("x-session-id"), "s1");
  assert.equal(currentCallContext(), undefined);
});

Deno.test("a request without budget or session id leaves nothing to inherit", async () => {
  const plain = new Request("http://agent/mcp", { method: "POST" });
  assert.equal(
    await runInCallContext(plain, () => Promise.resolve(currentCallContext())),
    undefined,
  );
  const session = new Request("http://agent/mcp", {
    method: "POST",
    headers: { "Mcp-Session-Id": "s2" },
  });
  const seen = runInCallContext(session, () => currentCallContext());
  assert.equal(seen?.deadline, undefined);
  assert.equal(seen?.headers.get("mcp-session-id"), "s2");
  // Nested in a served call, a plain request still gets its own (empty) context.
  const outer = new Request("http://agent/mcp", {
    method: "POST",
    headers: { "X-Mesh-Timeout": "5" },
  });
  const inner = runInCallContext(outer, () => runInCallContext(plain, () => currentCallContext()));
  assert.equal(inner?.deadline, undefined);
});
