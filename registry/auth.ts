/**
 * The registry write token: write routes require `Authorization: Bearer
 * <token>` when one is configured. Tokens are compared as SHA-256 digests
 * with a constant-time comparison, so neither their content nor their length
 * leaks through timing.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import { bearerTokenOf } from "@mesh/sdk/protocol";

/** Environment variable holding the registry write token. */
export const REGISTRY_TOKEN_ENV = "MCP_MESH_REGISTRY_TOKEN";

/** Tells whether a request carries the expected bearer token. */
export type TokenCheck = (request: Request) => boolean;

/**
 * A check accepting only requests with `Authorization: Bearer <token>`
 * (the scheme is case-insensitive, the token is not).
 *
 * @example
 * ```ts
 * import { createTokenCheck } from "./auth.ts";
 * const check = createTokenCheck("s3cret");
 * check(new Request("http://r/", { headers: { authorization: "Bearer s3cret" } })); // true
 * check(new Request("http://r/")); // false
 * ```
 */
export function createTokenCheck(token: string): TokenCheck {
  const expected = digest(token);
  return (request) => {
    const token = bearerTokenOf(request.headers.get("authorization"));
    return token !== undefined && timingSafeEqual(digest(token), expected);
  };
}

function digest(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}
