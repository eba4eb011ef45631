import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/types"
import { type CallToolResult, CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import {
  acceptsPost,
  answerOutcome,
  FastAnswer,
  sseEvent,
  toolCallAnswer,
  toolCallOf,
} from "./fast_call.ts";

const base = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "t", arguments: {} } };

Deno.test("toolCallOf finds a single tools/call and marks the plain ones", () => {
  assert.equal(toolCallOf(base)?.plain, true);
  assert.equal(
    toolCallOf({ ...base, params: { name: "t", _meta: { progressToken: "p" } } })?.plain,
    true,
  );
  assert.deepEqual(toolCallOf({ ...base, params: { name: "t" } }), {
    id: 1,
    name: "t",
    args: {},
    meta: undefined,
    plain: true,
  });
  for (
    const odd of [
      { ...base, extra: 1 },
      { ...base, id: 1.5 },
      { ...base, jsonrpc: "1.0" },
      { ...base, params: { name: "t", arguments: [1] } },
      { ...base, params: { name: "t", task: { ttl: 1 } } },
      { ...base, params: { name: "t", _meta: { progressToken: true } } },
      { ...base, params: { name: "t", _meta: { "io.modelcontextprotocol/related-task": {} } } },
      { ...base, params: { arguments: {} } },
    ]
  ) {
    assert.equal(toolCallOf(odd)?.plain, false, JSON.stringify(odd));
  }
  assert.equal(toolCallOf([base]), undefined);
  assert.equal(toolCallOf({ ...base, method: "tools/list" }), undefined);
  assert.equal(toolCallOf({ ...base, id: undefined }), undefined);
});

Deno.test("acceptsPost applies the transport's header checks", () => {
  const ok = {
    accept: "application/json, text/event-stream",
    "content-type": "application/json; charset=utf-8",
  };
  assert.equal(acceptsPost(new Headers(ok)), true);
  assert.equal(acceptsPost(new Headers({ ...ok, accept: "application/json" })), false);
  assert.equal(acceptsPost(new Headers({ ...ok, "content-type": "text/plain" })), false);
  assert.equal(acceptsPost(new Headers({ ...ok, "mcp-protocol-version": "2025-06-18" })), true);
  assert.equal(acceptsPost(new Headers({ ...ok, "mcp-protocol-version": "1.0" })), false);
});

Deno.test("toolCallAnswer serializes like CallToolResultSchema's output", () => {
  const results = [
    { content: [{ type: "text", text: "a" }] },
    { isError: true, content: [{ text: "b", type: "text" }] },
    { structuredContent: { z: 1, a: [2] }, content: [{ type: "text", text: "{}" }] },
    { content: [{ type: "text", text: "c", annotations: { priority: 1 } }], _meta: { m: 1 } },
    { content: [{ type: "text", text: "d", stray: true }], extra: "kept" },
  ] as unknown as CallToolResult[];
  for (const result of results) {
    const expected = { result: CallToolResultSchema.parse(result), jsonrpc: "2.0", id: 4 };
    assert.equal(JSON.stringify(toolCallAnswer(4, result)), JSON.stringify(expected));
  }
  const invalid = toolCallAnswer(
    4,
    { content: [{ type: "nope" }] } as unknown as CallToolResult,
  ) as {
    error: { code: number; message: string };
  };
  assert.equal(invalid.error.code, -32602);
  assert.match(invalid.error.message, /^MCP error -32602: Invalid tools\/call result: /);
  assert.equal(answerOutcome(invalid), "error");
  assert.equal(answerOutcome(toolCallAnswer(4, { content: [], isError: true })), "error");
  assert.equal(answerOutcome(toolCallAnswer(4, { content: [] })), "success");
});

Deno.test("FastAnswer sends one sized body, or streams once something comes first", async () => {
  const single = new FastAnswer();
  single.finish(sseEvent({ id: 1 }));
  const plain = await single.response;
  assert.equal(plain.headers.get("content-type"), "text/event-stream");
  assert.equal(await plain.text(), 'event: message\ndata: {"id":1}\n\n');

  const streamed = new FastAnswer();
  streamed.write(sseEvent({ method: "notifications/progress" }));
  const response = await streamed.response;
  streamed.write(": keepalive\n\n");
  streamed.finish(sseEvent({ id: 2 }));
  assert.equal(
    await response.text(),
    'event: message\ndata: {"method":"notifications/progress"}\n\n: keepalive\n\n' +
      'event: message\ndata: {"id":2}\n\n',
  );
});
