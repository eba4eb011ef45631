/**
 * Collection of decorator metadata: `@mesh.tool` records each method in the
 * class's `context.metadata` (TC39 decorator metadata), `@mesh.agent` turns
 * that list into an {@linkcode AgentDefinition} stored per class.
 *
 * @module
 */

import type { AgentOptions, ToolOptions } from "./options.ts";

/** Any decorated tool method (arguments are checked by the decorator's caller). */
export type ToolMethod = (...args: never[]) => unknown;

/** One decorated method. */
export interface ToolDefinition {
  /** MCP tool name: the method name. */
  name: string;
  /** Options given to `@mesh.tool`. */
  options: ToolOptions;
  /** The method itself. */
  method: ToolMethod;
}

/** Everything the decorators recorded about one agent class. */
export interface AgentDefinition {
  /** Options given to `@mesh.agent`. */
  options: AgentOptions;
  /** Decorated methods in declaration order. */
  tools: ToolDefinition[];
}

/** A class that can be instantiated without arguments. */
export type AgentClass = new () => object;

const TOOLS = Symbol("mesh.tools");
const definitions = new WeakMap<AgentClass, AgentDefinition>();

/** Records a decorated method in the class's decorator metadata. */
export function recordTool(
  method: ToolMethod,
  context: ClassMethodDecoratorContext,
  options: ToolOptions,
): void {
  if (context.static || context.private || typeof context.name !== "string") {
    throw new TypeError("@mesh.tool applies to public instance methods with a string name");
  }
  const metadata = context.metadata as Record<symbol, ToolDefinition[] | undefined>;
  // Metadata objects inherit from the parent class's: copy before adding.
  if (!Object.hasOwn(metadata, TOOLS)) metadata[TOOLS] = [...(metadata[TOOLS] ?? [])];
  metadata[TOOLS]!.push({ name: context.name, options, method });
}

/** Turns the recorded tools of a class into its {@linkcode AgentDefinition}. */
export function defineAgent(
  agentClass: AgentClass,
  context: ClassDecoratorContext,
  options: AgentOptions,
): AgentDefinition {
  const recorded = (context.metadata as Record<symbol, ToolDefinition[] | undefined>)[TOOLS];
  const definition = { options, tools: [...(recorded ?? [])] };
  definitions.set(agentClass, definition);
  return definition;
}

/** The definition of a class decorated with `@mesh.agent`, or throws. */
export function agentDefinition(agentClass: AgentClass): AgentDefinition {
  const definition = definitions.get(agentClass);
  if (!definition) throw new TypeError(`${agentClass.name} is not decorated with @mesh.agent`);
  return definition;
}
