/**
 * Starting agents: a class decorated with `@mesh.agent` ({@linkcode startAgent})
 * or an existing `McpServer` of the MCP SDK ({@linkcode serve}).
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types";
import { z } from "zod";
import { type AgentOverrides, resolveConfig } from "./config.ts";
import { type AgentClass, agentDefinition, type ToolDefinition } from "./definition.ts";
import type { AgentOptions, MeshToolOptions, ZodInput } from "./options.ts";
import type { McpServerLike, ToolContext } from "./mcp_types.ts";
import type { McpMeshTool } from "./proxy.ts";
import { type AgentHandle, newAgentId, startRuntime } from "./runtime.ts";
import type { FastTool } from "./fast_call.ts";
import { toCallToolResult, toErrorResult } from "./tool_result.ts";

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

  /** Validates `args` and runs the method (in-process calls). */
  async runUnchecked(
    args: Record<string, unknown>,
    dependencies: (McpMeshTool | undefined)[],
  ): Promise<CallToolResult> {
    const parsed = this.input?.safeParse(args);
    if (parsed && !parsed.success) {
      return toErrorResult(validationError("Input", this.name, parsed.error));
    }
    return await this.run(parsed?.data ?? args, dependencies, undefined);
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
  const server = new McpServer({ name: config.name, version: config.version });
  const wired: { handle?: AgentHandle } = {};
  const dependenciesOf = (name: string) => wired.handle?.dependencies(name) ?? [];
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
  // Fast path of `/mcp`: the same runs as the handlers registered above.
  const fastTools = new Map([...tools.values()].map((tool): [string, FastTool] => [tool.name, {
    input: tool.input,
    hasOutputSchema: tool.output !== undefined,
    run: (args, context) => tool.run(args, dependenciesOf(tool.name), context),
  }]));
  wired.handle = await startRuntime({
    agentId,
    config,
    verifyToken: definition.options.authVerifier,
    server,
    meshOptions: (name) => tools.get(name)?.definition.options ?? {},
    fastTools: {
      tool: (name) => fastTools.get(name),
      notify: (notification, relatedRequestId) =>
        server.server.notification(
          notification as Parameters<typeof server.server.notification>[0],
          { relatedRequestId },
        ),
    },
    invokeLocal: async (name, args) => {
      const tool = tools.get(name);
      if (!tool) return toErrorResult(new Error(`Tool ${name} not found`));
      return await tool.runUnchecked(args, dependenciesOf(name));
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
  return await startRuntime({
    config: resolveConfig(options, {
      registryUrl: options.registryUrl,
      authToken: options.authToken,
    }),
    server,
    meshOptions: (name) => options.tools?.[name] ?? {},
    verifyToken: options.authVerifier,
  });
}
