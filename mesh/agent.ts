/**
 * Starting agents: a class decorated with `@mesh.agent` ({@linkcode startAgent})
 * or an existing `McpServer` of the MCP SDK ({@linkcode serve}).
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types";
import { z } from "zod";
import { type AgentOverrides, resolveConfig } from "./config.ts";
import { type AgentClass, agentDefinition, type ToolDefinition } from "./definition.ts";
import type { AgentOptions, MeshToolOptions, ZodInput } from "./options.ts";
import type { McpServerLike, ToolContext } from "./mcp_types.ts";
import type { McpMeshTool } from "./proxy.ts";
import { defaultAllowedHostnames } from "./hostnames.ts";
import { type AgentHandle, newAgentId, type RuntimeInit, startRuntime } from "./runtime.ts";
import type { SessionOptions } from "./stateful_endpoint.ts";
import type { FastTool } from "./fast_call.ts";
import { toCallToolResult, toErrorResult } from "./tool_result.ts";
import { LocalToolContext } from "./local_context.ts";

type McpServerModule = typeof import("@modelcontextprotocol/sdk/server/mcp");

type Invocable = (
  args: Record<string, unknown>,
  dependencies: (McpMeshTool | undefined)[],
  context: ToolContext | undefined,
) => unknown;

function toObjectSchema(
  tool: string,
  input: ZodInput | undefined,
): z.ZodObject<z.ZodRawShape> | undefined {
  if (input === undefined) return undefined;
  if (input instanceof z.ZodObject) return input;
  if ("_zod" in input) {
    throw new TypeError(`tool ${tool}: input/output must be a zod object or a shape of one`);
  }
  return z.object(input as z.ZodRawShape);
}

/** How the SDK's `tools/list` shows a tool without an input schema. */
const EMPTY_INPUT_SCHEMA: Tool["inputSchema"] = { type: "object", properties: {} };

/** A zod object as JSON Schema, converted as the SDK's `tools/list` converts it. */
function toJsonSchema(
  schema: z.ZodObject<z.ZodRawShape>,
  io: "input" | "output",
): Tool["inputSchema"] {
  return z.toJSONSchema(schema, { target: "draft-7", io }) as Tool["inputSchema"];
}

function validationError(kind: "Input" | "Output", tool: string, error: z.ZodError): Error {
  return new Error(`${kind} validation error for tool ${tool}: ${z.prettifyError(error)}`);
}

/** A decorated method bound to its instance, ready to run with mapped results. */
class BoundTool {
  readonly name: string;
  readonly input?: z.ZodObject<z.ZodRawShape>;
  readonly output?: z.ZodObject<z.ZodRawShape>;
  readonly definition: ToolDefinition;
  #method: Invocable;
  #agentId: () => string;

  /** `agentId` names the running agent once it started. */
  constructor(definition: ToolDefinition, instance: object, agentId: () => string) {
    this.definition = definition;
    this.name = definition.name;
    this.input = toObjectSchema(definition.name, definition.options.input);
    this.output = toObjectSchema(definition.name, definition.options.output);
    this.#method = (definition.method as unknown as Invocable).bind(instance);
    this.#agentId = agentId;
  }

  /**
   * The tool as the SDK's `McpServer` lists it after `registerTool` (same
   * fields, same JSON Schema conversion), computed without loading the SDK.
   */
  listing(): Tool {
    const { options } = this.definition;
    const listing: Tool = {
      name: this.name,
      title: options.title,
      description: options.description,
      inputSchema: this.input ? toJsonSchema(this.input, "input") : EMPTY_INPUT_SCHEMA,
      annotations: options.annotations,
      execution: { taskSupport: "forbidden" },
    };
    if (this.output) listing.outputSchema = toJsonSchema(this.output, "output");
    return listing;
  }

  /** Validates `args` and runs the method (in-process calls). */
  async runUnchecked(
    args: Record<string, unknown>,
    dependencies: (McpMeshTool | undefined)[],
    context: ToolContext,
  ): Promise<CallToolResult> {
    const parsed = this.input?.safeParse(args);
    if (parsed && !parsed.success) {
      return toErrorResult(validationError("Input", this.name, parsed.error));
    }
    return await this.run(parsed?.data ?? args, dependencies, context);
  }

  /** Runs the method with validated arguments and maps its outcome to a result. */
  async run(
    args: Record<string, unknown>,
    dependencies: (McpMeshTool | undefined)[],
    context: ToolContext | undefined,
  ): Promise<CallToolResult> {
    try {
      if (context) context.agentId = this.#agentId();
      const result = toCallToolResult(await this.#method(args, dependencies, context));
      if (this.output && result.structuredContent !== undefined && !result.isError) {
        const checked = this.output.safeParse(result.structuredContent);
        if (!checked.success) throw validationError("Output", this.name, checked.error);
      }
      return result;
    } catch (error) {
      return toErrorResult(error);
    }
  }
}

/**
 * Starts a class decorated with `@mesh.agent`: serves its tools over MCP,
 * registers with the registry and keeps it informed. `overrides` beat the
 * environment, which beats the decorator options.
 *
 * @example
 * ```ts ignore
 * const agent = await startAgent(HelloAgent, { httpPort: 0, heartbeatInterval: 0.2 });
 * console.log(agent.url);
 * await agent.close();
 * ```
 */
export async function startAgent(
  agentClass: AgentClass,
  overrides: AgentOverrides = {},
): Promise<AgentHandle> {
  const definition = agentDefinition(agentClass);
  const config = resolveConfig(definition.options, overrides);
  const instance = new agentClass();
  const agentId = newAgentId(config.name);
  const tools = new Map(
    definition.tools.map((tool) => [tool.name, new BoundTool(tool, instance, () => agentId)]),
  );
  const wired: { handle?: AgentHandle; server?: McpServer } = {};
  const dependenciesOf = (name: string) => wired.handle?.dependencies(name) ?? [];
  // The SDK takes ~150 ms to load: the runtime asks for the server on the first MCP request.
  const createServer = async (): Promise<McpServer> => {
    const { McpServer } = await import(
      "@modelcontextprotocol/sdk/server/mcp.js"
    ) as McpServerModule;
    const server = new McpServer({ name: config.name, version: config.version });
    for (const tool of tools.values()) {
      const { options } = tool.definition;
      server.registerTool(tool.name, {
        title: options.title,
        description: options.description,
        inputSchema: tool.input,
        outputSchema: tool.output,
        annotations: options.annotations,
      }, (...params: unknown[]) => {
        // The SDK passes (args, extra) with an input schema and (extra) without.
        const [args, context] = tool.input ? params : [{}, params[0]];
        return tool.run(
          args as Record<string, unknown>,
          dependenciesOf(tool.name),
          context as ToolContext,
        );
      });
    }
    return wired.server = server;
  };
  // Fast path of `/mcp`: the same runs as the handlers registered above.
  const fastTools = new Map([...tools.values()].map((tool): [string, FastTool] => [tool.name, {
    input: tool.input,
    hasOutputSchema: tool.output !== undefined,
    hasDependencies: (tool.definition.options.dependencies?.length ?? 0) > 0,
    run: (args, context) => tool.run(args, dependenciesOf(tool.name), context),
  }]));
  wired.handle = await startRuntime({
    agentId,
    config,
    verifyToken: definition.options.authVerifier,
    server: createServer,
    tools: [...tools.values()].map((tool) => tool.listing()),
    meshOptions: (name) => tools.get(name)?.definition.options ?? {},
    fastTools: {
      tool: (name) => fastTools.get(name),
      // Fast calls run once the runtime connected the server.
      notify: (notification, relatedRequestId) =>
        wired.server!.server.notification(
          notification as Parameters<McpServer["server"]["notification"]>[0],
          { relatedRequestId },
        ),
    },
    invokeLocal: async (name, args, call) => {
      const tool = tools.get(name);
      if (!tool) return toErrorResult(new Error(`Tool ${name} not found`));
      return await tool.runUnchecked(args, dependenciesOf(name), new LocalToolContext(call));
    },
  });
  return wired.handle;
}

/** Options of {@linkcode serve}: agent options plus mesh settings per tool name. */
export interface ServeOptions extends AgentOptions {
  /** Registry base URL (env `MCP_MESH_REGISTRY_URL`, default `http://127.0.0.1:8000`). */
  registryUrl?: string;
  /** Bearer token (env `MCP_MESH_AUTH_TOKEN`). */
  authToken?: string;
  /** Mesh settings of the server's tools by name (default capability: the tool name). */
  tools?: Record<string, MeshToolOptions>;
}

/**
 * Gradual adoption: serves an existing `McpServer` (tools already registered,
 * not connected) as a mesh agent, so it registers and heartbeats without being
 * rewritten. Its tools can reach their dependencies through
 * `handle.dependencies(toolName)`.
 *
 * @example
 * ```ts ignore
 * const server = new McpServer({ name: "legacy", version: "1.0.0" });
 * server.registerTool("echo", { inputSchema: { text: z.string() } }, ({ text }) => ({
 *   content: [{ type: "text", text }],
 * }));
 * const agent = await serve(server, { name: "legacy", tools: { echo: { capability: "echo" } } });
 * ```
 */
export async function serve(server: McpServerLike, options: ServeOptions): Promise<AgentHandle> {
  return await startRuntime({ ...servedRuntime(options), server });
}

/** What {@linkcode serve} and {@linkcode serveStateful} hand the runtime besides the server. */
function servedRuntime(options: ServeOptions): Omit<RuntimeInit, "server"> {
  return {
    config: resolveConfig(options, {
      registryUrl: options.registryUrl,
      authToken: options.authToken,
    }),
    meshOptions: (name) => options.tools?.[name] ?? {},
    verifyToken: options.authVerifier,
  };
}

/** Options of {@linkcode serveStateful}: those of {@linkcode serve} plus session settings. */
export interface StatefulServeOptions extends ServeOptions, SessionOptions {
  /**
   * Host names (without port) accepted in the `Host` and `Origin` headers of
   * `/mcp`; any other answers 403 (DNS-rebinding protection). Default: the
   * loopback names plus the bind host; nothing is checked on a wildcard bind.
   */
  allowedHostnames?: readonly string[];
}

/**
 * Gradual adoption of a stateful MCP server: `createServer` builds one
 * `McpServer` per MCP session (tools, resources and prompts registered, not
 * connected). `/mcp` then serves sessions (`Mcp-Session-Id`, the `GET` SSE
 * stream, `DELETE`, resumable streams with `createEventStore`), while the
 * agent registers the tools of one more instance and heartbeats like any
 * other. That instance also answers sessionless calls, such as the tool
 * calls of other agents' dependency proxies.
 *
 * @example
 * ```ts ignore
 * const agent = await serveStateful(() => {
 *   const server = new McpServer({ name: "notes", version: "1.0.0" });
 *   server.registerTool("echo", { inputSchema: { text: z.string() } }, ({ text }) => ({
 *     content: [{ type: "text", text }],
 *   }));
 *   return server;
 * }, { name: "notes", tools: { echo: { capability: "echo" } }, idleTimeoutMs: 600_000 });
 * ```
 */
export async function serveStateful(
  createServer: () => McpServerLike,
  options: StatefulServeOptions,
): Promise<AgentHandle> {
  // Loaded on demand: decorated agents never need sessions.
  const { StatefulMcpEndpoint } = await import("./stateful_endpoint.ts");
  const served = servedRuntime(options);
  const { createEventStore, retryInterval, idleTimeoutMs } = options;
  const allowedHostnames = options.allowedHostnames ??
    defaultAllowedHostnames(served.config.httpHost);
  let endpoint: InstanceType<typeof StatefulMcpEndpoint> | undefined;
  const handle = await startRuntime({
    ...served,
    server: createServer(),
    endpoint: (hooks) =>
      endpoint = new StatefulMcpEndpoint({
        ...hooks,
        createServer,
        allowedHostnames,
        createEventStore,
        retryInterval,
        idleTimeoutMs,
      }),
  });
  // Open SSE streams would hold the runtime's drain for its whole timeout.
  const close = handle.close.bind(handle);
  return Object.assign(handle, {
    close: (): Promise<void> => {
      endpoint?.drain();
      return close();
    },
  });
}
