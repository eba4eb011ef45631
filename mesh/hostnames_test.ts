import assert from "node:assert/strict";
import { defaultAllowedHostnames } from "./hostnames.ts";

Deno.test("default allowed host names follow the bind address", () => {
  assert.deepEqual(defaultAllowedHostnames("127.0.0.1"), ["localhost", "127.0.0.1", "[::1]"]);
  assert.deepEqual(defaultAllowedHostnames("10.0.0.5"), [
    "localhost",
    "127.0.0.1",
    "[::1]",
    "10.0.0.5",
  ]);
  assert.deepEqual(defaultAllowedHostnames("::1"), ["localhost", "127.0.0.1", "[::1]"]);
  assert.equal(defaultAllowedHostnames("0.0.0.0"), undefined);
  assert.equal(defaultAllowedHostnames("::"), undefined);
});
