import assert from "node:assert/strict";
import {
  isHttpHost,
  isRegistration,
  registrationSchema,
  validateRegistration,
} from "./validate.ts";

const TESTDATA = new URL("../../shared/mcp-mesh-api/testdata/", import.meta.url);

/** A body using every field the schema knows, plus unknown ones at each level. */
const rich = {
  agent_id: "rich-1",
  agent_type: "api",
  runtime: "typescript",
  name: "rich",
  version: "2.0.0",
  description: "every field",
  http_host: "127.0.0.1",
  http_port: 9000,
  timestamp: "2026-01-01T00:00:00Z",
  namespace: "prod",
  extra: { unknown: true },
  tools: [{
    function_name: "f",
    capability: "c",
    version: "1.2.0",
    tags: ["a", "b"],
    description: "tool",
    inputSchema: { type: "object" },
    outputSchema: { type: "string" },
    kwargs: {
      timeout: 1.5,
      retry_count: 2,
      custom_headers: { "x-a": "b" },
      streaming: true,
      auth_required: false,
      session_required: true,
      anything: [1],
    },
    dependencies: [
      { capability: "d", tags: ["x", "+y", "-z", ["p", "q"]], version: "^1", namespace: "n" },
      [{ capability: "e", required: true, unknown: 1 }, { capability: "g" }],
    ],
    unknown: "ignored",
  }],
};

const WRONG_VALUES: unknown[] = [
  undefined,
  null,
  true,
  0,
  -1,
  1.5,
  70_000,
  "",
  "x",
  "a b",
  "mcp_agent",
  [],
  [[]],
  ["x"],
  [["x"]],
  [{}],
  {},
  { capability: "c" },
];

/** Every body obtained by replacing (or removing) one value anywhere in `body`. */
function* mutations(body: unknown): Generator<unknown> {
  if (typeof body !== "object" || body === null) return;
  for (const key of Object.keys(body)) {
    const value = (body as Record<string, unknown>)[key];
    for (const wrong of WRONG_VALUES) yield replaced(body, key, wrong);
    for (const inner of mutations(value)) yield replaced(body, key, inner);
  }
}

function replaced(body: object, key: string, value: unknown): unknown {
  const copy: Record<string, unknown> | unknown[] = Array.isArray(body) ? [...body] : { ...body };
  if (value === undefined && !Array.isArray(copy)) delete copy[key];
  else (copy as Record<string, unknown>)[key] = value;
  return copy;
}

Deno.test("isRegistration accepts exactly what the schema accepts", async () => {
  const bodies: unknown[] = [rich, ...mutations(rich)];
  for await (const file of Deno.readDir(TESTDATA)) {
    if (!file.name.includes("registration") && !file.name.includes("request")) continue;
    const body = JSON.parse(await Deno.readTextFile(new URL(file.name, TESTDATA)));
    bodies.push(body, ...mutations(body));
  }
  let accepted = 0;
  for (const body of bodies) {
    const expected = registrationSchema.safeParse(body).success;
    assert.equal(isRegistration(body), expected, JSON.stringify(body));
    if (expected) accepted++;
  }
  assert.ok(accepted > 100 && accepted < bodies.length, `${accepted} of ${bodies.length}`);
});

Deno.test("validateRegistration stores the same content whichever path validated it", () => {
  for (const body of [rich, ...mutations(rich)]) {
    const parsed = registrationSchema.safeParse(body);
    if (!parsed.success) continue;
    const fast = validateRegistration(body);
    const viaSchema = validateRegistration(parsed.data);
    assert.deepEqual(fast, viaSchema, JSON.stringify(body));
  }
  const result = validateRegistration(rich);
  assert.ok(result.ok);
  assert.deepEqual(result.content.tools[0].dependencies[1], [
    { capability: "e", required: true },
    { capability: "g" },
  ]);
});

Deno.test("isHttpHost takes names and addresses, not URL pieces", () => {
  for (const host of ["", "localhost", "Example.COM", "my_service", "10.0.0.5", "0.0.0.0"]) {
    assert.ok(isHttpHost(host), host);
  }
  for (const host of ["::1", "[::1]", "fe80::1%eth0", "::ffff:10.0.0.5"]) {
    assert.ok(isHttpHost(host), host);
  }
  for (
    const host of [
      "a b",
      "host/path",
      "example.com:80",
      "10.0.0.5:80",
      ":",
      "http://x",
      "x@y",
      "[::1",
      "::1]",
      "[]",
    ]
  ) {
    assert.ok(!isHttpHost(host), host);
  }
});
