import assert from "node:assert/strict";
import { MAX_BODY_BYTES, MAX_TOOLS_PER_AGENT } from "@mesh/sdk/protocol";
import { agent, type TestRegistry, withRegistry } from "./harness.ts";

const tool = { function_name: "f", capability: "c" };

/** Everything a bad request must leave untouched. */
async function snapshot(registry: TestRegistry): Promise<string> {
  const agents = (await registry.get("/agents")).body.agents;
  const events = (await registry.get("/events?limit=500")).body.events;
  return JSON.stringify({ agents, events });
}

const badBodies: [string, unknown, string, number?][] = [
  ["empty body", "", "body"],
  ["malformed JSON", '{"agent_id": ', "body"],
  ["not an object", "[1, 2]", "body"],
  ["missing agent_id", { tools: [tool] }, "agent_id"],
  ["missing tools", { agent_id: "x" }, "tools"],
  ["agent_id with a space", { agent_id: "a b", tools: [tool] }, "agent_id"],
  ["agent_id too long", { agent_id: "a".repeat(65), tools: [tool] }, "agent_id"],
  ["agent_id empty", { agent_id: "", tools: [tool] }, "agent_id"],
  ["wrong type: port", agent("x", [tool], { http_port: "80" as unknown as number }), "http_port"],
  ["host with a space and a slash", agent("x", [tool], { http_host: "evil host/" }), "http_host"],
  ["host with a port", agent("x", [tool], { http_host: "example.com:80" }), "http_host"],
  ["wrong type: tools", { agent_id: "x", tools: {} }, "tools"],
  [
    "missing capability",
    { agent_id: "x", tools: [tool, tool, { function_name: "g" }] },
    "tools[2].capability",
  ],
  [
    "empty function_name",
    { agent_id: "x", tools: [{ ...tool, function_name: "" }] },
    "tools[0].function_name",
  ],
  ["duplicate function_name", { agent_id: "x", tools: [tool, tool] }, "tools[1].function_name"],
  ["wrong type: tags", { agent_id: "x", tools: [{ ...tool, tags: "a" }] }, "tools[0].tags"],
  [
    "dependency without capability",
    { agent_id: "x", tools: [{ ...tool, dependencies: [{ tags: [] }] }] },
    "tools[0].dependencies[0].capability",
  ],
  [
    "bad spec inside a fallback chain",
    {
      agent_id: "x",
      tools: [{ ...tool, dependencies: [[{ capability: "a" }, { capability: 3 }]] }],
    },
    "tools[0].dependencies[0][1].capability",
  ],
  [
    "wrong type: kwargs.timeout",
    { agent_id: "x", tools: [{ ...tool, kwargs: { timeout: "5" } }] },
    "tools[0].kwargs.timeout",
  ],
  [
    "too many tools",
    {
      agent_id: "x",
      tools: Array.from(
        { length: MAX_TOOLS_PER_AGENT + 1 },
        (_, i) => ({ ...tool, function_name: `f${i}` }),
      ),
    },
    "tools",
  ],
];

Deno.test("bad POST /heartbeat bodies get 400 naming the field and change nothing", async () => {
  await withRegistry(async (registry) => {
    await registry.post("/heartbeat", agent("x", [{ function_name: "keep", capability: "kept" }]));
    const before = await snapshot(registry);
    for (const [name, body, field] of badBodies) {
      const response = await registry.post("/heartbeat", body);
      assert.equal(response.status, 400, name);
      assert.equal(response.body.details.field, field, name);
      assert.match(response.body.error, new RegExp(field.replace(/[[\].]/g, "\\$&")), name);
      assert.ok(!Number.isNaN(Date.parse(response.body.timestamp)), name);
    }
    assert.equal(await snapshot(registry), before);
  });
});

Deno.test("bodies over 1 MiB get 413, by Content-Length and by streamed size", async () => {
  await withRegistry(async (registry) => {
    const before = await snapshot(registry);
    const big = JSON.stringify(
      agent("big", [{ ...tool, description: "x".repeat(MAX_BODY_BYTES) }]),
    );
    const declared = await registry.post("/heartbeat", big);
    assert.equal(declared.status, 413);
    assert.equal(declared.body.details.field, "body");

    // A chunked body has no Content-Length: the registry counts while reading.
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_BODY_BYTES * 2) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const streamed = await fetch(`${registry.url}/heartbeat`, { method: "POST", body: stream });
    assert.equal(streamed.status, 413);
    assert.equal((await streamed.json()).details.field, "body");
    assert.equal(await snapshot(registry), before);
  });
});

Deno.test("unknown fields are ignored, never an error", async () => {
  await withRegistry(async (registry) => {
    const futureTool = { ...tool, llm_filter: { x: 1 }, inputSchemaHash: "sha256:00" };
    const response = await registry.post("/heartbeat", {
      ...agent("future", [futureTool]),
      surfaces: [],
      a2a_producer: false,
      brand_new_field: { nested: true },
    });
    assert.equal(response.status, 200);
    assert.equal((await registry.get("/agents/future")).body.capabilities[0].name, "c");
  });
});
