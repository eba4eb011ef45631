/**
 * Stateless Streamable HTTP endpoint for one long-lived `McpServer`.
 *
 * The MCP SDK's web-standard transport must be fresh for every stateless
 * request, while an `McpServer` connects to exactly one transport. This
 * endpoint is that one transport: each HTTP request gets its own
 * `WebStandardStreamableHTTPServerTransport`, whose JSON-RPC request ids are
 * renamed to endpoint-unique ids on the way in and restored on the way out,
 * so any number of clients share the server concurrently, and progress or
 * server-to-client requests travel on the SSE stream of the request they
 * belong to.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type JSONRPCResponse,
  type MessageExtraInfo,
  type RequestId,
} from "@modelcontextprotocol/sdk/types.js";

type Deliver = (message: JSONRPCMessage, options?: TransportSendOptions) => Promise<void>;

interface Route {
  originalId: RequestId;
  deliver: Deliver;
}

function isResponse(message: JSONRPCMessage): message is JSONRPCResponse {
  return isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message);
}

/** The single transport of an agent's `McpServer`, fed by many HTTP requests. */
export class StatelessMcpEndpoint implements Transport {
  /** Set by the SDK when the server connects. */
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  /** Set by the SDK when the server connects. */
  onclose?: () => void;
  /** Set by the SDK when the server connects. */
  onerror?: (error: Error) => void;

  #nextId = 0;
  #routes = new Map<RequestId, Route>();
  #onUnrouted?: (message: JSONRPCMessage) => void;

  /** `onUnrouted` receives server messages no request waits for (such as `list_changed`). */
  constructor(onUnrouted?: (message: JSONRPCMessage) => void) {
    this.#onUnrouted = onUnrouted;
  }

  /** No-op: requests arrive through {@linkcode handle}. */
  async start(): Promise<void> {}

  /** Drops pending routes and tells the server the transport closed. */
  close(): Promise<void> {
    this.#routes.clear();
    this.onclose?.();
    return Promise.resolve();
  }

  /** Routes a server message to the HTTP request it answers or relates to. */
  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const id = isResponse(message) ? message.id : options?.relatedRequestId;
    const route = id === undefined ? undefined : this.#routes.get(id);
    // Stateless: no standalone stream exists for unrelated notifications.
    if (!route) return this.#onUnrouted?.(message);
    try {
      if (isResponse(message)) {
        this.#routes.delete(id!);
        await route.deliver({ ...message, id: route.originalId });
      } else {
        await route.deliver(message, { relatedRequestId: route.originalId });
      }
    } catch (error) {
      // The client went away before its answer was ready; nothing to deliver to.
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #receive(message: JSONRPCMessage, deliver: Deliver, extra?: MessageExtraInfo): void {
    if (!isJSONRPCRequest(message)) {
      this.onmessage?.(message, extra);
      return;
    }
    const id = `mesh-${++this.#nextId}`;
    this.#routes.set(id, { originalId: message.id, deliver });
    this.onmessage?.({ ...message, id }, extra);
  }

  /** Answers one HTTP request to `/mcp` (POST; GET and DELETE get 405 in stateless mode). */
  async handle(request: Request): Promise<Response> {
    if (request.method !== "POST") {
      await request.body?.cancel();
      return Response.json(
        {
          jsonrpc: "2.0",
          error: { code: -32000, message: "Method not allowed: this server is stateless" },
          id: null,
        },
        { status: 405, headers: { Allow: "POST" } },
      );
    }
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
    });
    const deliver: Deliver = (message, options) => transport.send(message, options);
    transport.onmessage = (message: JSONRPCMessage, extra?: MessageExtraInfo) =>
      this.#receive(message, deliver, extra);
    await transport.start();
    return await transport.handleRequest(request);
  }

  /** Sends a request to the server in-process (no HTTP) and resolves with its answer. */
  dispatch(request: Omit<JSONRPCRequest, "jsonrpc" | "id">): Promise<JSONRPCResponse> {
    return new Promise((resolve) => {
      const deliver: Deliver = (message) => {
        if (isResponse(message)) resolve(message);
        return Promise.resolve();
      };
      this.#receive({ jsonrpc: "2.0", id: 0, ...request } as JSONRPCRequest, deliver);
    });
  }
}
