/**
 * The context of the incoming call a tool runs in: its deadline (from
 * `X-Mesh-Timeout`) and headers, carried through the tool's async work with
 * `AsyncLocalStorage` so nested proxy calls get the remaining budget.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { sessionIdOf } from "./affinity.ts";
import { MESH_TIMEOUT_HEADER } from "./protocol.ts";

/** What a tool's nested calls inherit from the request that invoked it. */
export interface CallContext {
  /** Epoch milliseconds by which the whole call must finish, when the caller set a budget. */
  readonly deadline?: number;
  /** Headers of the incoming HTTP request. */
  readonly headers: Headers;
}

const storage = new AsyncLocalStorage<CallContext>();

/** Parses an `X-Mesh-Timeout` value (seconds) into a deadline, or undefined when absent or invalid. */
export function deadlineFrom(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) ? now + Math.max(0, seconds) * 1000 : undefined;
}

/**
 * Runs `fn` in the context of the incoming `request` (deadline from its
 * `X-Mesh-Timeout`). A request that carries neither a budget nor a session
 * id header gives nested calls nothing to inherit: outside any context, `fn`
 * then runs as is, sparing the cost of entering one.
 */
export function runInCallContext<T>(request: Request, fn: () => T): T {
  const { headers } = request;
  const deadline = deadlineFrom(headers.get(MESH_TIMEOUT_HEADER));
  if (
    deadline === undefined && storage.getStore() === undefined &&
    sessionIdOf({}, headers) === undefined
  ) {
    return fn();
  }
  return storage.run({ deadline, headers }, fn);
}

/** The context of the incoming call being served, if any. */
export function currentCallContext(): CallContext | undefined {
  return storage.getStore();
}
