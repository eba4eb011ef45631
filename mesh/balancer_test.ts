import assert from "node:assert/strict";
import { Balancer, NoProviderError, type Provider } from "./balancer.ts";
import { CircuitBreaker } from "./circuit_breaker.ts";

function provider(endpoint: string, inflight = 0): Provider {
  return {
    agentId: endpoint.slice(7),
    endpoint,
    functionName: "tool",
    inflight,
    breaker: new CircuitBreaker({ failureThreshold: 1, coolDownMs: 60_000 }),
  };
}

const none = new Set<string>();

Deno.test("round-robin spreads calls evenly", () => {
  const balancer = new Balancer([provider("http://a"), provider("http://b"), provider("http://c")]);
  const picks = Array.from({ length: 6 }, () => balancer.pick(none).endpoint);
  assert.deepEqual(picks, ["http://a", "http://b", "http://c", "http://a", "http://b", "http://c"]);
});

Deno.test("least-inflight picks the idlest provider and rotates ties", () => {
  const busy = provider("http://a", 3);
  const idle = provider("http://b", 0);
  const balancer = new Balancer([busy, idle, provider("http://c", 1)], "least-inflight");
  assert.equal(balancer.pick(none), idle);
  idle.inflight = 5;
  assert.equal(balancer.pick(none).endpoint, "http://c");
  const tied = new Balancer([provider("http://x"), provider("http://y")], "least-inflight");
  const picks = new Set(Array.from({ length: 4 }, () => tied.pick(none).endpoint));
  assert.equal(picks.size, 2);
});

Deno.test("excluded endpoints, open circuits and cool-downs are skipped", () => {
  const a = provider("http://a");
  const b = provider("http://b");
  const c = provider("http://c");
  const balancer = new Balancer([a, b, c]);
  a.breaker.failure(); // open (threshold 1)
  for (let i = 0; i < 4; i++) {
    assert.equal(balancer.pick(new Set(["http://b"])), c);
  }
  assert.throws(() => balancer.pick(new Set(["http://b", "http://c"])), NoProviderError);
  assert.throws(
    () => balancer.pick(new Set(["http://b", "http://c"])),
    /http:\/\/a \(circuit open\), http:\/\/b \(failed this call\)/,
  );
});

Deno.test("a provider in cool-down is used only when nothing else is eligible", () => {
  const a = new CircuitBreaker({ failureThreshold: 10, coolDownMs: 60_000 });
  const cooling: Provider = { ...provider("http://a"), breaker: a };
  const b = provider("http://b");
  a.failure();
  const balancer = new Balancer([cooling, b]);
  assert.equal(balancer.pick(none), b);
  assert.equal(balancer.pick(none), b);
  assert.equal(balancer.pick(new Set(["http://b"])), cooling);
});

Deno.test("the preferred endpoint (a session's owner) wins when eligible", () => {
  const balancer = new Balancer([provider("http://a"), provider("http://b")]);
  for (let i = 0; i < 3; i++) assert.equal(balancer.pick(none, "http://b").endpoint, "http://b");
  assert.equal(balancer.pick(new Set(["http://b"]), "http://b").endpoint, "http://a");
});

Deno.test("a custom strategy chooses among the eligible providers", () => {
  const balancer = new Balancer(
    [provider("http://a"), provider("http://b"), provider("http://c")],
    (providers) => providers.at(-1),
  );
  assert.equal(balancer.pick(none).endpoint, "http://c");
  assert.equal(balancer.pick(new Set(["http://c"])).endpoint, "http://b");
  const refusing = new Balancer([provider("http://a")], () => undefined);
  assert.throws(() => refusing.pick(none), /chose no eligible provider/);
});
