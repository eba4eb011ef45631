import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/types"
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { bearerTokenOf, MCP_PROTOCOL_VERSION } from "./protocol.ts";

Deno.test("proxies announce the MCP SDK's latest protocol version", () => {
  assert.equal(MCP_PROTOCOL_VERSION, LATEST_PROTOCOL_VERSION);
});

Deno.test("bearerTokenOf reads the token of a Bearer authorization in any case of the scheme", () => {
  assert.equal(bearerTokenOf("Bearer s3cret"), "s3cret");
  assert.equal(bearerTokenOf("bearer s3cret"), "s3cret");
  assert.equal(bearerTokenOf("BEARER   s3cret "), "s3cret");
  for (const refused of [null, undefined, "", "Bearer", "Bearer ", "Basic s3cret", "Bearer a b"]) {
    assert.equal(bearerTokenOf(refused), undefined, String(refused));
  }
});
