import assert from "node:assert/strict";
import { CliError } from "./errors.ts";
import { lineAndColumn, parseJsonArgs } from "./json_args.ts";

function messageOf(text: string): string {
  try {
    parseJsonArgs(text, "test");
  } catch (error) {
    assert.ok(error instanceof CliError);
    assert.equal(error.exitCode, 2);
    return error.message;
  }
  throw new Error(`parsed: ${text}`);
}

Deno.test("parseJsonArgs returns objects", () => {
  assert.deepEqual(parseJsonArgs('{"name": "World", "n": [1]}', "test"), {
    name: "World",
    n: [1],
  });
});

Deno.test("parseJsonArgs names line and column of syntax errors", () => {
  assert.equal(
    messageOf('{"name": "World",}'),
    "invalid JSON arguments (test) at line 1, column 18: Expected double-quoted property name",
  );
  assert.equal(
    messageOf('{\n  "a": 1\n  "b": 2\n}'),
    "invalid JSON arguments (test) at line 3, column 3: Expected ',' or '}' after property value",
  );
});

Deno.test("parseJsonArgs locates errors V8 reports without a position", () => {
  assert.equal(
    messageOf('{"a": tx}'),
    "invalid JSON arguments (test) at line 1, column 8: Unexpected token 'x'",
  );
  assert.equal(
    messageOf('{"a": 1,\n "b": nul'),
    "invalid JSON arguments (test) at line 2, column 10: unexpected end of input",
  );
});

Deno.test("parseJsonArgs rejects values that are not objects", () => {
  assert.match(messageOf("[1, 2]"), /expected an object .* got an array$/);
  assert.match(messageOf("null"), /got null$/);
  assert.match(messageOf('"x"'), /got string$/);
});

Deno.test("lineAndColumn is 1-based", () => {
  assert.deepEqual(lineAndColumn("ab\ncd", 0), { line: 1, column: 1 });
  assert.deepEqual(lineAndColumn("ab\ncd", 4), { line: 2, column: 2 });
});
