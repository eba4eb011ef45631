import assert from "node:assert/strict";
import { CallCancellation } from "./call_context.ts";
import { CallGate, type CallGateOptions, tokenEquals } from "./call_gate.ts";
import type { Logger } from "./log.ts";
import type { ToolCallInfo } from "./mcp_endpoint.ts";
import { MemorySessionStore } from "./session_store.ts";
import { freeLoopbackUrl } from "./tests/helpers.ts";

const SELF = "http://127.0.0.1:1111";
const quiet: Logger = { log: () => {} };

function gate(options: Partial<CallGateOptions> = {}): CallGate {
  return new CallGate({
    selfEndpoint: SELF,
    tool: (name) => ({ authRequired: name === "secret", sessionRequired: name === "counter" }),
    verifyToken: tokenEquals("s3cret"),
    healthy: () => true,
    logger: quiet,
    ...options,
  });
}

function call(name: string, args: Record<string, unknown> = {}, headers = {}): ToolCallInfo {
  const request = new Request(`${SELF}/mcp`, { method: "POST", headers });
  return { name, args, id: 9, request, cancellation: new CallCancellation() };
}

/** A `next` that records whether the call ran here. */
function runsHere(): { next: () => Promise<Response>; ran: () => boolean } {
  let ran = false;
  return {
    next: () => {
      ran = true;
      return Promise.resolve(Response.json({ jsonrpc: "2.0", id: 9, result: { content: [] } }));
    },
    ran: () => ran,
  };
}

async function errorOf(response: Response): Promise<{ code: number; message: string }> {
  return (await response.json()).error;
}

Deno.test("tokenEquals accepts exactly the configured token", () => {
  const verify = tokenEquals("s3cret");
  assert.equal(verify("s3cret", "t"), true);
  assert.equal(verify("s3cre", "t"), false);
  assert.equal(verify("s3cretx", "t"), false);
  assert.equal(verify("S3cret", "t"), false);
});

Deno.test("a spent budget, an unhealthy agent and a missing token are refused before running", async () => {
  const spent = runsHere();
  const late = await gate().intercept(call("echo", {}, { "X-Mesh-Timeout": "0" }), spent.next);
  assert.equal(late.status, 408);
  assert.match((await errorOf(late)).message, /budget is spent/);

  const sick = runsHere();
  const unhealthy = await gate({ healthy: () => false }).intercept(call("echo"), sick.next);
  assert.equal(unhealthy.status, 503);
  await unhealthy.body?.cancel();

  const anonymous = runsHere();
  const denied = await gate().intercept(call("secret"), anonymous.next);
  assert.equal(denied.status, 401);
  assert.equal(denied.headers.get("WWW-Authenticate"), 'Bearer realm="mcp-mesh"');
  assert.deepEqual(await errorOf(denied), {
    code: -32001,
    message: "tool secret requires a valid bearer token",
  });
  const noVerifier = runsHere();
  const closed = await gate({ verifyToken: undefined })
    .intercept(call("secret", {}, { Authorization: "Bearer s3cret" }), noVerifier.next);
  assert.equal(closed.status, 401, "no token configured: nobody gets in");
  await closed.body?.cancel();
  assert.deepEqual([spent.ran(), sick.ran(), anonymous.ran(), noVerifier.ran()], [
    false,
    false,
    false,
    false,
  ]);

  const admitted = runsHere();
  const ok = await gate().intercept(
    call("secret", {}, { Authorization: "bearer s3cret", "X-Mesh-Timeout": "5" }),
    admitted.next,
  );
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  assert.equal(admitted.ran(), true);
});

Deno.test("a session runs on its owner: here, forwarded there, or taken over when it is gone", async () => {
  const sessions = new MemorySessionStore();
  const g = gate({ sessions: () => sessions });

  const first = runsHere();
  const mine = await g.intercept(call("counter", { session_id: "s1" }), first.next);
  assert.equal(first.ran(), true);
  assert.equal(mine.headers.get("X-Mesh-Session-Owner"), SELF);
  await mine.body?.cancel();

  const forwarded: (string | null)[] = [];
  const owner = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    forwarded.push(request.headers.get("X-Mesh-Session-Forwarded"));
    return Response.json({ jsonrpc: "2.0", id: 9, result: { content: [], owner: true } });
  });
  const ownerUrl = `http://127.0.0.1:${owner.addr.port}`;
  try {
    await sessions.claim("s2", ownerUrl);
    const elsewhere = runsHere();
    const answer = await g.intercept(
      call("counter", {}, { "X-Session-ID": "s2" }),
      elsewhere.next,
    );
    assert.equal(elsewhere.ran(), false);
    assert.equal(answer.headers.get("X-Mesh-Session-Owner"), ownerUrl);
    assert.equal((await answer.json()).result.owner, true);
    assert.deepEqual(forwarded, ["1"]);
  } finally {
    await owner.shutdown();
  }

  const dead = freeLoopbackUrl();
  await sessions.claim("s3", dead);
  const takeover = runsHere();
  const taken = await g.intercept(call("counter", { session_id: "s3" }), takeover.next);
  assert.equal(takeover.ran(), true);
  assert.equal(taken.headers.get("X-Mesh-Session-Owner"), SELF);
  await taken.body?.cancel();
  assert.equal(await sessions.owner("s3"), SELF);
  await sessions.close();
});
