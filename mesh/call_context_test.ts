import assert from "node:assert/strict";
import {
  CallCancellation,
  currentCallContext,
  deadlineFrom,
  followClient,
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
  const cancellation = new CallCancellation();
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

Deno.test("watchClient runs the watcher set with watchWith, once", () => {
  const cancellation = new CallCancellation();
  cancellation.watchClient();
  let watched = 0;
  cancellation.watchWith(() => watched++);
  cancellation.watchClient();
  cancellation.watchClient();
  assert.equal(watched, 1);
});

Deno.test("followClient cancels when the client leaves mid-body, not when the body ends", async () => {
  const gone = new CallCancellation();
  const done = new CallCancellation();
  let cancelled: () => void;
  const bodyCancelled = new Promise<void>((resolve) => cancelled = resolve);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    if (new URL(request.url).pathname === "/done") {
      return followClient(new Response("whole answer"), done);
    }
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => controller.enqueue(new TextEncoder().encode("first part")),
      cancel: () => cancelled(),
    });
    return followClient(new Response(body), gone);
  });
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    assert.equal(await (await fetch(`${base}/done`)).text(), "whole answer");
    const client = new AbortController();
    const response = await fetch(`${base}/gone`, { signal: client.signal });
    const reader = response.body!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "first part");
    client.abort();
    await reader.cancel().catch(() => {});
    await bodyCancelled;
    assert.equal(gone.signal.aborted, true);
    assert.equal((gone.signal.reason as DOMException).name, "AbortError");
    assert.equal(done.signal.aborted, false);
  } finally {
    await server.shutdown();
  }
});
