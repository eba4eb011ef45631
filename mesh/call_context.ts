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
   * `notifications/cancelled` for it, or it went away before the answer
   * (noticed once the endpoint follows it, see {@linkcode CallCancellation}).
   */
  readonly signal: AbortSignal;
}

/**
 * The cancellation of one call being served, shared by the tool's `signal`
 * and its nested proxy calls. The request's own `signal` is never read (on
 * Deno it also aborts after successful responses, and reading it makes
 * `Deno.serve` warn about that): a client going away is noticed through the
 * answer's body stream instead ({@linkcode followClient}), which the endpoint
 * sets up for calls that run long
 * ({@linkcode CallCancellation.watchClient}).
 */
export class CallCancellation {
  #controller?: AbortController;
  #watch?: () => void;

  /** Aborts on {@linkcode cancel}. */
  get signal(): AbortSignal {
    return (this.#controller ??= new AbortController()).signal;
  }

  /** Cancels the call (a no-op when it already is). */
  cancel(reason: unknown): void {
    (this.#controller ??= new AbortController()).abort(reason);
  }

  /** Sets how {@linkcode watchClient} starts following the client. */
  watchWith(watch: () => void): void {
    this.#watch = watch;
  }

  /** Starts following the client (once), so it going away cancels the call. */
  watchClient(): void {
    const watch = this.#watch;
    this.#watch = undefined;
    watch?.();
  }

  /** Cancels the call as its client went away. */
  clientGone(): void {
    this.cancel(new DOMException("the client went away", "AbortError"));
  }
}

/**
 * `response` with its body followed: when the client goes away before the
 * body ended (`Deno.serve` then cancels the body stream), `cancellation` is
 * cancelled. A body that ends normally changes nothing.
 */
export function followClient(response: Response, cancellation: CallCancellation): Response {
  const body = response.body;
  if (!body) return response;
  const reader = body.getReader();
  const followed = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      cancellation.clientGone();
      return reader.cancel(reason);
    },
  });
  const { status, statusText, headers } = response;
  return new Response(followed, { status, statusText, headers });
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
  return storage.run(new ServedCall(request, cancellation ?? new CallCancellation()), fn);
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
