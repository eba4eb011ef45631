import assert from "node:assert/strict";
import { closestNames, editDistance, unknownNameHint } from "./closest.ts";

Deno.test("editDistance counts insertions, deletions and substitutions", () => {
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("abc", ""), 3);
  assert.equal(editDistance("same", "same"), 0);
  assert.equal(editDistance("say_helo", "say_hello"), 1);
});

Deno.test("closestNames orders by distance and drops far names", () => {
  const names = ["say_hello", "greet_with_time", "get_current_time", "get_system_info"];
  assert.deepEqual(closestNames("say_helo", names), ["say_hello"]);
  assert.deepEqual(closestNames("get_current_tme", names), ["get_current_time"]);
  assert.deepEqual(closestNames("zzzzzz", names), []);
});

Deno.test("closestNames ignores case, removes duplicates and honours the limit", () => {
  assert.deepEqual(
    closestNames("HELLO", ["hello", "hello", "jello", "hallo", "help"], { limit: 2 }),
    [
      "hello",
      "hallo",
    ],
  );
});

Deno.test("closestNames keeps names that contain the target", () => {
  assert.deepEqual(closestNames("time", ["get_current_time", "greet_with_time", "say_hello"]), [
    "greet_with_time",
    "get_current_time",
  ]);
});

Deno.test("closestNames ignores containment of very short names", () => {
  assert.deepEqual(closestNames("nosuch_tool", ["c", "to", "say_hello"]), []);
  assert.deepEqual(closestNames("say", ["say_hello", "c"]), ["say_hello"]);
});

Deno.test("unknownNameHint suggests close names, else lists what exists", () => {
  assert.equal(
    unknownNameHint("say_helo", ["say_hello", "count"], "tools"),
    "; did you mean say_hello?",
  );
  assert.equal(
    unknownNameHint("nosuch_tool", ["say_hello", "c", "say_hello"], "tools"),
    "; available tools: c, say_hello",
  );
  assert.equal(
    unknownNameHint("nosuch_tool", ["greeting", "say_hello"], "tools", ["say_hello"]),
    "; available tools: say_hello",
  );
  assert.equal(unknownNameHint("nosuch_tool", [], "tools"), "; no tools available");
  const many = Array.from({ length: 12 }, (_, i) => `tool_number_${String(i).padStart(2, "0")}`);
  assert.match(
    unknownNameHint("zzzzzzzzzzzzzzzzzzzzzzzz", many, "tools"),
    /tool_number_09, … \(2 more\)$/,
  );
});
