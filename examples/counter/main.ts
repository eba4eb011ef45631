/**
 * The `counter` agent: a stateful tool whose count per session lives in this
 * process's memory, so counts stay right across replicas only if every call
 * of a session reaches the replica that owns it (`sessionRequired: true`).
 * Run replicas sharing session owners through Redis with
 * `REDIS_URL=redis://127.0.0.1:6379 deno run -A examples/counter/main.ts`.
 *
 * @module
 */

import { mesh, type ToolContext } from "@mesh/sdk";
import { z } from "zod";

/** Most sessions one replica counts at once (the least recently used are forgotten). */
const MAX_SESSIONS = 10_000;

/** What `increment` returns. */
export interface CounterResult {
  /** The session counted. */
  session_id: string;
  /** Its count after this call. */
  count: number;
  /** The replica that counted it. */
  agent_id: string;
}

/** Counts per session, in memory. */
@mesh.agent({ name: "counter", description: "A per-session counter kept in memory" })
export class CounterAgent {
  #counts = new Map<string, number>();

  /** Adds `by` (default 1) to the session's count. */
  @mesh.tool({
    capability: "counter",
    description: "Adds `by` to the session's count and returns the new count",
    input: {
      session_id: z.string().min(1).describe("The session whose count changes"),
      by: z.number().int().default(1).describe("How much to add"),
    },
    output: { session_id: z.string(), count: z.number().int(), agent_id: z.string() },
    sessionRequired: true,
  })
  increment(
    { session_id, by }: { session_id: string; by: number },
    _dependencies: unknown,
    context: ToolContext,
  ): CounterResult {
    const count = (this.#counts.get(session_id) ?? 0) + by;
    // Re-inserting keeps the map in least-recently-used order.
    this.#counts.delete(session_id);
    this.#counts.set(session_id, count);
    if (this.#counts.size > MAX_SESSIONS) this.#counts.delete(this.#counts.keys().next().value!);
    return { session_id, count, agent_id: context.agentId };
  }
}
