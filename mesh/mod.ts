/**
 * MCP Mesh for Deno: decorated agent classes become MCP servers that
 * register with the mesh registry and get their dependencies injected.
 *
 * @example
 * ```ts ignore
 * import { mesh, type McpMeshTool } from "@mesh/sdk";
 * import { z } from "zod";
 *
 * @mesh.agent({ name: "hello", httpPort: 0 })
 * export class HelloAgent {
 *   @mesh.tool({
 *     capability: "time_greeting",
 *     input: { name: z.string() },
 *     dependencies: ["time_service"],
 *   })
 *   async greet({ name }: { name: string }, [time]: (McpMeshTool | undefined)[]) {
 *     const now = time ? await time.call() : "time unavailable";
 *     return `Hello ${name}, it is ${now}`;
 *   }
 * }
 * ```
 *
 * `deno run -A hello.ts` serves it: after a short debounce the agent listens
 * on `POST /mcp`, registers with `MCP_MESH_REGISTRY_URL` and heartbeats.
 *
 * @module
 */

import { envAutoRun, envDebounceMs } from "./config.ts";
import { type AgentClass, defineAgent, recordTool, type ToolMethod } from "./definition.ts";
import { startAgent } from "./agent.ts";
import { runUntilSignal } from "./process.ts";
import type { AgentOptions, ToolOptions } from "./options.ts";
import type { AgentHandle } from "./runtime.ts";

export {
  serve,
  type ServeOptions,
  serveStateful,
  startAgent,
  type StatefulServeOptions,
} from "./agent.ts";
export { defaultAllowedHostnames, LOOPBACK_HOSTNAMES } from "./hostnames.ts";
export type { SessionEventStore, SessionOptions } from "./stateful_endpoint.ts";
export type {
  ContentBlock,
  McpServerLike,
  McpTransportLike,
  ToolAnnotations,
  ToolCallResult,
  ToolContext,
  ToolNotification,
  ToolProgress,
} from "./mcp_types.ts";
export type { ProviderView, SelectionFunction, SelectionStrategy } from "./balancer.ts";
export { type CircuitBreakerOptions, DEFAULT_BREAKER } from "./circuit_breaker.ts";
export { type AgentOverrides, DEFAULT_REGISTRY_URL } from "./config.ts";
export type { AgentClass, ToolMethod } from "./definition.ts";
export type { TagSpec } from "./protocol.ts";
export type {
  AgentOptions,
  DependencyFilter,
  DependencySpec,
  HealthCheck,
  HealthVerdict,
  MeshToolOptions,
  ToolOptions,
  ZodInput,
  ZodSchemaLike,
} from "./options.ts";
export type { CallOptions, McpMeshTool, ToolStreamEvent } from "./proxy.ts";
export type { AgentHandle, AgentMeshInfo, DependencyInfo } from "./runtime.ts";

/** Starts a decorated class as the process's agent and exits 0 after SIGINT/SIGTERM. */
async function runMain(agentClass: AgentClass): Promise<AgentHandle> {
  const handle = await startAgent(agentClass);
  runUntilSignal(handle);
  return handle;
}

/** What `@mesh.agent(...)` returns: a standard class decorator. */
export type AgentDecorator = (
  value: AgentClass,
  context: ClassDecoratorContext<AgentClass>,
) => void;

/** What `@mesh.tool(...)` returns: a standard method decorator. */
export type ToolDecorator = (value: ToolMethod, context: ClassMethodDecoratorContext) => void;

/** Class decorator `@mesh.agent(options)`. */
function agent(options: AgentOptions): AgentDecorator {
  return (value, context) => {
    defineAgent(value, context, options);
    if (!envAutoRun(options.autoRun ?? true)) return;
    setTimeout(() => {
      runMain(value).catch((error) => {
        console.error(`agent ${options.name} failed to start: ${error?.message ?? error}`);
        Deno.exit(1);
      });
    }, envDebounceMs());
  };
}

/** Method decorator `@mesh.tool(options)`. */
function tool(options: ToolOptions = {}): ToolDecorator {
  return (value, context) => recordTool(value, context, options);
}

/** The decorators: `@mesh.agent({...})` on a class, `@mesh.tool({...})` on its methods. */
export const mesh: {
  /** Marks a class as an agent; it starts after a short debounce unless `autoRun` is false. */
  agent(options: AgentOptions): AgentDecorator;
  /** Marks a method as an MCP tool providing a capability. */
  tool(options?: ToolOptions): ToolDecorator;
} = { agent, tool };
