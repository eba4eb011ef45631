/**
 * The {@linkcode ToolContext} of an in-process call: a tool calling a
 * dependency its own agent provides gets what a remote call would give it,
 * without HTTP.
 *
 * @module
 */

import { currentCallContext } from "./call_context.ts";
import type { ToolContext, ToolNotification } from "./mcp_types.ts";
import type { LocalCall } from "./proxy.ts";

let localCalls = 0;

/** A signal that never aborts, for calls made outside any served call without a signal. */
const NEVER: AbortSignal = new AbortController().signal;

/**
 * The context of one in-process call: the caller's signal (its own, else
 * that of the call being served), headers (those of the call being served,
 * then the call's own), a progress token when the caller streams, and
 * progress notifications delivered to that stream.
 */
export class LocalToolContext implements ToolContext {
  /** `local-{n}`: unique within the process. */
  readonly requestId: string;
  /** Aborts with the caller's signal. */
  readonly signal: AbortSignal;
  /** Holds a `progressToken` when the caller streams. */
  readonly _meta?: ToolContext["_meta"];
  /** Set by the tool runner. */
  agentId = "";
  #call: LocalCall;
  #headers?: Headers;

  /** The context of `call`, made in the call being served (if any). */
  constructor(call: LocalCall) {
    const caller = currentCallContext();
    this.requestId = `local-${++localCalls}`;
    this.signal = call.options.signal ?? caller?.signal ?? NEVER;
    if (call.onProgress) this._meta = { progressToken: this.requestId };
    this.#call = call;
    this.#headers = caller?.headers;
  }

  /** Headers of the call being served, overridden by the call's own `headers`. */
  get requestInfo(): ToolContext["requestInfo"] {
    const headers: Record<string, string> = this.#headers ? Object.fromEntries(this.#headers) : {};
    for (const [name, value] of Object.entries(this.#call.options.headers ?? {})) {
      headers[name.toLowerCase()] = value;
    }
    return { headers };
  }

  /** Delivers progress to the caller's stream; other notifications have nowhere to go. */
  sendNotification(notification: ToolNotification): Promise<void> {
    if (notification.method === "notifications/progress" && notification.params) {
      this.#call.onProgress?.(notification.params as { progress: number });
    }
    return Promise.resolve();
  }
}
