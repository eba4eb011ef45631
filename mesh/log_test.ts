import assert from "node:assert/strict";
import { describeError } from "./log.ts";

Deno.test("describeError adds the cause once, and only when the message lacks it", () => {
  const refused = new Error("Connection refused (os error 111)");
  assert.equal(
    describeError(new TypeError("fetch failed", { cause: refused })),
    "fetch failed: Connection refused (os error 111)",
  );
  assert.equal(
    describeError(
      new Error("f at http://h:1 is unreachable: Connection refused (os error 111)", {
        cause: refused,
      }),
    ),
    "f at http://h:1 is unreachable: Connection refused (os error 111)",
  );
  assert.equal(describeError(new Error("plain")), "plain");
  assert.equal(describeError("a string"), "a string");
});
