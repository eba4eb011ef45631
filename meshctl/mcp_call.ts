/**
 * Calling one tool of one agent over MCP (Streamable HTTP) with the official
 * SDK client, and rendering its result for a terminal.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { ErrorCode } from "@modelcontextprotocol/sdk/types.js";
import { availableNames, unknownNameHint } from "./closest.ts";
import { CliError } from "./errors.ts";
import { describeNetworkError } from "./registry_client.ts";
import denoConfig from "./deno.json" with { type: "json" };

/** A progress notification of a streaming tool (MCP `notifications/progress` params). */
export interface ToolProgress {
  /** Progress so far. */
  progress: number;
  /** Total, when known. */
  total?: number;
  /** Human-readable progress message. */
  message?: string;
}

/** One content block of a tool result (the MCP kinds meshctl renders). */
export type ToolContent =
  | { type: "text"; text: string }
  | { type: "image" | "audio"; data: string; mimeType: string }
  | { type: "resource"; resource: { uri: string; text?: string } }
  | { type: "resource_link"; uri: string };

/**
 * The result of an MCP `tools/call` (the SDK's `CallToolResult`, typed here
 * because the SDK's own type is inferred from zod and erodes to `any`).
 */
export interface ToolResult {
  /** Content blocks. */
  content: ToolContent[];
  /** Structured result matching the tool's output schema. */
  structuredContent?: Record<string, unknown>;
  /** True when the tool reports a failure. */
  isError?: boolean;
}

/** The agent called directly has no tool of that name (see {@linkcode CallOptions.verifyTool}). */
export class UnknownToolError extends CliError {
  /** The name asked for. */
  readonly tool: string;
  /** The agent's MCP endpoint. */
  readonly url: URL;
  /** The tools the agent lists. */
  readonly tools: string[];

  /**
   * @param tool The name asked for.
   * @param url The agent's MCP endpoint.
   * @param tools The tools the agent lists.
   * @param providedBy The tool whose capability is `tool`, when known.
   */
  constructor(tool: string, url: URL, tools: string[], providedBy?: string) {
    const capability = providedBy
      ? `: "${tool}" is the capability of tool ${providedBy} (--agent-url takes tool names)`
      : "";
    const hint = providedBy
      ? availableNames(tools, "tools")
      : unknownNameHint(tool, tools, "tools");
    super(`unknown tool "${tool}" at ${url}${capability}${hint}`);
    this.name = "UnknownToolError";
    this.tool = tool;
    this.url = url;
    this.tools = tools;
  }
}

/** Options of {@linkcode callTool}. */
export interface CallOptions {
  /** Give up after this many milliseconds without progress. */
  timeoutMs: number;
  /** Check that the tool exists first (suggesting close names when it does not). */
  verifyTool?: boolean;
  /** Called with every progress notification of a streaming tool. */
  onProgress?: (progress: ToolProgress) => void;
  /** Bearer token for `authRequired` tools. */
  token?: string;
}

/**
 * Calls `tool` with `args` on the MCP server at `url` and returns its result.
 *
 * @throws {CliError} when the agent cannot be reached, the tool does not
 * exist, or the call fails at the protocol level (a tool returning
 * `isError` is not a throw: the result says so).
 */
export async function callTool(
  url: URL,
  tool: string,
  args: Record<string, unknown>,
  options: CallOptions,
): Promise<ToolResult> {
  const client = new Client({ name: "meshctl", version: denoConfig.version });
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: options.token ? { headers: { Authorization: `Bearer ${options.token}` } } : {},
  });
  try {
    try {
      await client.connect(transport, { timeout: options.timeoutMs });
    } catch (error) {
      throw new CliError(`cannot reach the agent at ${url} (${describeNetworkError(error)})`, {
        cause: error,
      });
    }
    if (options.verifyTool) {
      const { tools } = await client.listTools(undefined, { timeout: options.timeoutMs });
      const names = (tools as { name: string }[]).map((entry) => entry.name);
      if (!names.includes(tool)) throw new UnknownToolError(tool, url, names);
    }
    try {
      return await client.callTool({ name: tool, arguments: args }, undefined, {
        timeout: options.timeoutMs,
        resetTimeoutOnProgress: true,
        onprogress: options.onProgress,
      }) as ToolResult;
    } catch (error) {
      if (error instanceof CliError) throw error;
      const code = (error as { code?: unknown }).code;
      if (code === ErrorCode.RequestTimeout) {
        throw new CliError(
          `${tool} at ${url} gave no answer or progress within ${options.timeoutMs / 1000}s ` +
            "(--timeout waits longer)",
          { cause: error },
        );
      }
      if (code === 401) {
        const hint = options.token
          ? "the token was refused"
          : "pass --token or set MCP_MESH_AUTH_TOKEN";
        throw new CliError(`${tool} at ${url} requires a valid bearer token (${hint})`, {
          cause: error,
        });
      }
      throw new CliError(`calling ${tool} at ${url} failed: ${describeNetworkError(error)}`, {
        cause: error,
      });
    }
  } finally {
    await client.close();
  }
}

/**
 * The text to print for a result: pretty JSON of `structuredContent` when
 * present, else the text of each content block (non-text blocks summarized).
 */
export function renderResult(result: ToolResult): string {
  if (result.structuredContent !== undefined && !result.isError) {
    return JSON.stringify(result.structuredContent, null, 2);
  }
  return result.content.map((block) => {
    switch (block.type) {
      case "text":
        return block.text;
      case "image":
      case "audio":
        return `[${block.type} ${block.mimeType}, ${Math.floor(block.data.length * 3 / 4)} bytes]`;
      case "resource":
        return block.resource.text ?? `[resource ${block.resource.uri}]`;
      case "resource_link":
        return `[resource ${block.uri}]`;
      default:
        return JSON.stringify(block);
    }
  }).join("\n");
}

/** One progress notification as a line: `[2/5] message`, `[40%]`, or `[3] message`. */
export function renderProgress(progress: ToolProgress): string {
  const { total } = progress;
  const amount = total === undefined
    ? `${progress.progress}`
    : total === 100
    ? `${progress.progress}%`
    : `${progress.progress}/${total}`;
  return `[${amount}]${progress.message ? ` ${progress.message}` : ""}`;
}
