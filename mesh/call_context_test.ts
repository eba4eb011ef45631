import assert from "node:assert/strict";
import {
  CallCancellation,
  currentCallContext,
  deadlineFrom,
  runInCallContext,
} from "./call_context.ts";

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

Deno.test("a request without budget still gives nested calls its cancellation", async () => {
  const plain = new Request("http://agent/mcp", { method: "POST" });
  const cancellation = new CallCancellation(plain);
  const seen = await runInCallContext(
    plain,
    () => Promise.resolve(currentCallContext()),
    cancellation,
  );
  assert.equal(seen?.deadline, undefined);
  assert.equal(seen?.signal.aborted, false);
  cancellation.cancel("client cancelled");
  assert.equal(seen?.signal.aborted, true);
  assert.equal(seen?.signal.reason, "client cancelled");
  // Nested in a served call, a plain request gets its own context.
  const outer = new Request("http://agent/mcp", {
    method: "POST",
    headers: { "X-Mesh-Timeout": "5" },
  });
  const inner = runInCallContext(outer, () => runInCallContext(plain, () => currentCallContext()));
  assert.equal(inner?.deadline, undefined);
});

Deno.test("a watched cancellation follows its request's signal", () => {
  const client = new AbortController();
  const request = new Request("http://agent/mcp", { method: "POST", signal: client.signal });
  const unwatched = new CallCancellation(request);
  const watched = new CallCancellation(request);
  watched.watchRequest();
  client.abort("client went away");
  assert.equal(unwatched.signal.aborted, false);
  assert.equal(watched.signal.reason, "client went away");
  // Watching an already aborted request cancels at once.
  const late = new CallCancellation(request);
  late.watchRequest();
  assert.equal(late.signal.aborted, true);
});
