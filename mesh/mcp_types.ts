/**
 * The MCP shapes that appear in the SDK's public API, declared structurally so
 * the API documents itself without exposing the MCP SDK's internal types. The
 * SDK's own values (`CallToolResult`, `RequestHandlerExtra`, `McpServer`) are
 * assignable to them.
 *
 * @module
 */

/** One content item of a tool result (`text`, `image`, `audio`, `resource`, …). */
export interface ContentBlock {
  /** Content kind, such as `"text"`. */
  type: string;
  /** Kind-specific fields (`text` for text content). */
  [field: string]: unknown;
}

/** The MCP `CallToolResult` of a tool call. */
export interface ToolCallResult {
  /** Unstructured content, usually one text block. */
  content: ContentBlock[];
  /** Structured result, when the tool returns one. */
  structuredContent?: Record<string, unknown>;
  /** True when the tool failed; `content` then holds the message. */
  isError?: boolean;
  /** Protocol metadata. */
  _meta?: Record<string, unknown>;
  /** Further fields of newer protocol versions. */
  [field: string]: unknown;
}

/** An MCP progress notification's payload. */
export interface ToolProgress {
  /** Progress so far; increases with every notification. */
  progress: number;
  /** Total, when known. */
  total?: number;
  /** Human-readable status. */
  message?: string;
  /** Further fields of newer protocol versions. */
  [field: string]: unknown;
}

/** MCP tool annotations: hints about a tool's behaviour for clients. */
export interface ToolAnnotations {
  /** Human-readable title. */
  title?: string;
  /** The tool does not modify its environment. */
  readOnlyHint?: boolean;
  /** The tool may perform destructive updates. */
  destructiveHint?: boolean;
  /** Calling it again with the same arguments has no further effect. */
  idempotentHint?: boolean;
  /** The tool interacts with an open world of external entities. */
  openWorldHint?: boolean;
}

/** A notification a tool sends to its caller while it runs. */
export interface ToolNotification {
  /** Notification method, such as `"notifications/progress"`. */
  method: string;
  /** Its parameters. */
  params?: Record<string, unknown>;
}

/** The MCP request context a tool method receives as its third argument. */
export interface ToolContext {
  /** Aborted when the caller cancels the request or the connection closes. */
  signal: AbortSignal;
  /** The MCP session id, when the transport has sessions. */
  sessionId?: string;
  /** JSON-RPC id of the request being served. */
  requestId: string | number;
  /** The request's `_meta`, holding a `progressToken` when the caller wants progress. */
  _meta?: { progressToken?: string | number; [field: string]: unknown };
  /** The HTTP request, for headers. */
  requestInfo?: { headers: Record<string, string | string[] | undefined> };
  /** Authentication the transport validated, if any. */
  authInfo?: { token: string; clientId: string; scopes: string[]; [field: string]: unknown };
  /** Id of the agent running the tool. */
  agentId: string;
  /** Sends a notification (such as progress) related to this request. */
  sendNotification(notification: ToolNotification): Promise<void>;
}

/** A transport an MCP server connects to (the SDK's `Transport`). */
export interface McpTransportLike {
  /** Starts the transport. */
  start(): Promise<void>;
  /** Sends one JSON-RPC message. */
  send(message: unknown, options?: unknown): Promise<void>;
  /** Closes the transport. */
  close(): Promise<void>;
}

/** What the runtime needs of an MCP server: the SDK's `McpServer` fits. */
export interface McpServerLike {
  /** Connects the server to a transport and starts serving through it. */
  connect(transport: McpTransportLike): Promise<void>;
  /** Closes the server and its transport. */
  close(): Promise<void>;
}
