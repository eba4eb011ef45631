/**
 * The context of the incoming call a tool runs in: its deadline (from
 * `X-Mesh-Timeout`), headers and cancellation, carried through the tool's
 * async work with `AsyncLocalStorage` so nested proxy calls get the remaining
 * budget and abort with the call they serve.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { MESH_TIMEOUT_HEADER } from "./protocol.ts";

/** What a tool's nested calls inherit from the request that invoked it. */
export interface CallContext {
  /** Epoch milliseconds by which the whole call must finish, when the caller set a budget. */
  readonly deadline?: number;
  /** Headers of the incoming HTTP request. */
  readonly headers: Headers;
  /**
   * Aborts when the call is cancelled: the client sent
   * `notifications/cancelled` for it, or its HTTP request closed (noticed
   * once the endpoint watches the request, see {@linkcode CallCancellation}).
   */
  readonly signal: AbortSignal;
}

/**
 * The cancellation of one call being served, shared by the tool's `signal`
 * and its nested proxy calls. Reading a request's `signal` costs Deno a
 * `DOMException` per request, so the request is only followed once
 * {@linkcode CallCancellation.watchRequest} is called (by the endpoint, for
 * calls that run long or read their signal).
 */
export class CallCancellation {
  #request: Request;
  #controller?: AbortController;
  #watching = false;

  /** The cancellation of the call `request` carries. */
  constructor(request: Request) {
    this.#request = request;
  }

  /** Aborts on {@linkcode cancel}, and when the request closes once watched. */
  get signal(): AbortSignal {
    return (this.#controller ??= new AbortController()).signal;
  }

  /** Cancels the call (a no-op when it already is). */
  cancel(reason: unknown): void {
    (this.#controller ??= new AbortController()).abort(reason);
  }

  /** Cancels the call when its HTTP request closes (the client went away). */
  watchRequest(): void {
    if (this.#watching) return;
    this.#watching = true;
    const request = this.#request.signal;
    if (request.aborted) return this.cancel(request.reason);
    request.addEventListener("abort", () => this.cancel(request.reason), { once: true });
  }
}

const storage = new AsyncLocalStorage<CallContext>();

/** Parses an `X-Mesh-Timeout` value (seconds) into a deadline, or undefined when absent or invalid. */
export function deadlineFrom(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) ? now + Math.max(0, seconds) * 1000 : undefined;
}

/**
 * Runs `fn` in the context of the incoming `request`: deadline from its
 * `X-Mesh-Timeout`, its headers, and `cancellation` (default: a fresh one
 * that only aborts when cancelled).
 */
export function runInCallContext<T>(
  request: Request,
  fn: () => T,
  cancellation?: CallCancellation,
): T {
  return storage.run(new ServedCall(request, cancellation ?? new CallCancellation(request)), fn);
}

/** The {@linkcode CallContext} of a request (a class: object literals with getters cost ~1 µs each). */
class ServedCall implements CallContext {
  readonly deadline?: number;
  readonly headers: Headers;
  readonly #cancellation: CallCancellation;

  constructor(request: Request, cancellation: CallCancellation) {
    this.headers = request.headers;
    this.deadline = deadlineFrom(this.headers.get(MESH_TIMEOUT_HEADER));
    this.#cancellation = cancellation;
  }

  get signal(): AbortSignal {
    return this.#cancellation.signal;
  }
}

/** The context of the incoming call being served, if any. */
export function currentCallContext(): CallContext | undefined {
  return storage.getStore();
}
