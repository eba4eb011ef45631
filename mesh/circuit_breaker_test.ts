import assert from "node:assert/strict";
import { BreakerBoard, CircuitBreaker } from "./circuit_breaker.ts";

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => time += ms };
}

Deno.test("consecutive failures open the circuit; a probe after the delay closes it", () => {
  const { now, advance } = clock();
  const breaker = new CircuitBreaker({ failureThreshold: 3, resetTimeoutMs: 1_000 }, now);
  breaker.failure();
  breaker.failure();
  assert.equal(breaker.state, "closed");
  breaker.failure();
  assert.equal(breaker.state, "open");
  assert.equal(breaker.admits, false);
  advance(999);
  assert.equal(breaker.admits, false);
  advance(1);
  assert.equal(breaker.state, "half-open");
  assert.equal(breaker.admits, true);
  breaker.acquire();
  assert.equal(breaker.admits, false, "one probe at a time");
  breaker.success();
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.admits, true);
});

Deno.test("a failed probe reopens the circuit for another delay", () => {
  const { now, advance } = clock();
  const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 500 }, now);
  breaker.failure();
  advance(500);
  breaker.acquire();
  breaker.failure();
  assert.equal(breaker.state, "open");
  advance(499);
  assert.equal(breaker.state, "open");
  advance(1);
  assert.equal(breaker.state, "half-open");
});

Deno.test("a failure ratio over the window opens the circuit once enough calls are seen", () => {
  const { now, advance } = clock();
  const breaker = new CircuitBreaker(
    { failureThreshold: 100, failureRatio: 0.5, minimumCalls: 6, windowMs: 1_000 },
    now,
  );
  for (let i = 0; i < 2; i++) {
    breaker.success();
    breaker.failure();
  }
  assert.equal(breaker.state, "closed", "4 calls are under minimumCalls");
  breaker.success();
  breaker.failure();
  assert.equal(breaker.state, "open", "3 of 6 failed");
  const fresh = new CircuitBreaker(
    { failureThreshold: 100, failureRatio: 0.5, minimumCalls: 4, windowMs: 1_000 },
    now,
  );
  fresh.failure();
  fresh.failure();
  advance(1_500); // the old failures leave the window
  fresh.success();
  fresh.success();
  fresh.failure();
  fresh.success();
  assert.equal(fresh.state, "closed", "1 of 4 in the window failed");
});

Deno.test("a failure starts a cool-down; success ends it", () => {
  const { now, advance } = clock();
  const breaker = new CircuitBreaker({ coolDownMs: 200 }, now);
  breaker.failure();
  assert.equal(breaker.coolingDown, true);
  advance(200);
  assert.equal(breaker.coolingDown, false);
  breaker.failure();
  breaker.success();
  assert.equal(breaker.coolingDown, false);
});

Deno.test("the board keeps one breaker per endpoint and reports states", () => {
  const board = new BreakerBoard();
  const a = board.get("http://a", { failureThreshold: 1 });
  assert.equal(board.get("http://a"), a);
  a.failure();
  board.get("http://b");
  assert.deepEqual(board.states(), [["http://a", "open"], ["http://b", "closed"]]);
});
