/**
 * The everything agent as a mesh agent: one {@link createEverythingServer}
 * per MCP session, served by the SDK's stateful endpoint
 * ({@linkcode serveStateful}), registered with the registry like any agent.
 *
 * @module
 */

import { type AgentHandle, serveStateful, type StatefulServeOptions } from "@mesh/sdk";
import { BoundedEventStore } from "./event_store.ts";
import { createEverythingServer, SERVER_NAME, SERVER_VERSION } from "./server.ts";
import { WatchedResource } from "./watched_resource.ts";

/** Settings of {@linkcode serveEverything}; every field has a default. */
export type EverythingAgentOptions = Partial<StatefulServeOptions>;

/**
 * Starts the agent: resumable SSE streams (a {@linkcode BoundedEventStore}
 * per session), clients told to reconnect after 1 s, sessions closed after
 * 30 idle minutes. `MCP_MESH_*` variables configure it as any agent.
 */
export async function serveEverything(options: EverythingAgentOptions = {}): Promise<AgentHandle> {
  const watched = new WatchedResource();
  return await serveStateful(() => createEverythingServer(watched), {
    name: SERVER_NAME,
    version: SERVER_VERSION,
    description: "Exercises every MCP feature the SDK offers a tool author",
    createEventStore: () => new BoundedEventStore(),
    retryInterval: 1_000,
    idleTimeoutMs: 30 * 60_000,
    ...options,
  });
}
