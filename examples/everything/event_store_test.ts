import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/types"
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { BoundedEventStore } from "./event_store.ts";

const ping = (id: number): JSONRPCMessage => ({ jsonrpc: "2.0", id, method: "ping" });

async function replay(store: BoundedEventStore, lastEventId: string) {
  const sent: [string, JSONRPCMessage][] = [];
  const streamId = await store.replayEventsAfter(lastEventId, {
    send: (eventId, message) => {
      sent.push([eventId, message]);
      return Promise.resolve();
    },
  });
  return { streamId, sent };
}

Deno.test("replay sends the later events of the same stream, in order, without priming", async () => {
  const store = new BoundedEventStore();
  const priming = await store.storeEvent("a", {} as JSONRPCMessage);
  const a1 = await store.storeEvent("a", ping(1));
  await store.storeEvent("b", ping(2));
  const a3 = await store.storeEvent("a", ping(3));
  const a4 = await store.storeEvent("a", ping(4));

  assert.deepEqual(await replay(store, priming), {
    streamId: "a",
    sent: [[a1, ping(1)], [a3, ping(3)], [a4, ping(4)]],
  });
  assert.deepEqual(await replay(store, a3), { streamId: "a", sent: [[a4, ping(4)]] });
  assert.equal(await store.getStreamIdForEventId(a1), "a");
});

Deno.test("the oldest events are dropped beyond capacity and cannot be resumed from", async () => {
  const store = new BoundedEventStore(2);
  const first = await store.storeEvent("a", ping(1));
  const second = await store.storeEvent("a", ping(2));
  const third = await store.storeEvent("a", ping(3));

  assert.equal(store.size, 2);
  assert.equal(await store.getStreamIdForEventId(first), undefined);
  await assert.rejects(replay(store, first), /Unknown or expired event id/);
  assert.deepEqual(await replay(store, second), { streamId: "a", sent: [[third, ping(3)]] });
});

Deno.test("a capacity below one is refused", () => {
  assert.throws(() => new BoundedEventStore(0), /capacity must be a positive integer, got 0/);
});
