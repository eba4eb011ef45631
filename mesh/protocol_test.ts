import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/types"
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { MCP_PROTOCOL_VERSION } from "./protocol.ts";

Deno.test("proxies announce the MCP SDK's latest protocol version", () => {
  assert.equal(MCP_PROTOCOL_VERSION, LATEST_PROTOCOL_VERSION);
});
