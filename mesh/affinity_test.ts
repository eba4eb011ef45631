import assert from "node:assert/strict";
import { sessionIdOf, SessionRoutes } from "./affinity.ts";

Deno.test("the session id comes from the argument, then Mcp-Session-Id, then X-Session-ID", () => {
  const both = new Headers({ "Mcp-Session-Id": "mcp", "X-Session-ID": "x" });
  assert.equal(sessionIdOf({ session_id: "arg" }, both), "arg");
  assert.equal(sessionIdOf({}, both), "mcp");
  assert.equal(sessionIdOf({}, new Headers({ "X-Session-ID": "x" })), "x");
  assert.equal(sessionIdOf({}, undefined, new Headers({ "X-Session-ID": "later" })), "later");
  assert.equal(sessionIdOf({ session_id: "" }), undefined);
  assert.equal(sessionIdOf({ session_id: 7 }), undefined);
});

Deno.test("session routes remember the latest owner", () => {
  const routes = new SessionRoutes();
  routes.set("s", "http://a");
  routes.set("s", "http://b");
  assert.equal(routes.get("s"), "http://b");
  assert.equal(routes.get("other"), undefined);
});
