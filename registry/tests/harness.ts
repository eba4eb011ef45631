/**
 * Test harness: a real registry on a free loopback port with a SQLite file in
 * a temporary directory, plus small HTTP helpers.
 *
 * @module
 */

import type { MeshAgentRegistration } from "@mesh/sdk/protocol";
import { type RegistryOptions, type RunningRegistry, serveRegistry } from "../mod.ts";
import type { StoredAgent } from "../store.ts";

/** Directory of the mcp-mesh golden fixtures. */
export const TESTDATA = new URL("../../../shared/mcp-mesh-api/testdata/", import.meta.url);

/** Reads a golden fixture. */
export async function fixture<T = MeshAgentRegistration>(name: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(new URL(name, TESTDATA)));
}

/** A parsed JSON answer; tests read fields freely. */
// deno-lint-ignore no-explicit-any
export type Json = any;

/** A running registry and its database file. */
export interface TestRegistry extends RunningRegistry {
  /** Temporary directory holding the database. */
  dir: string;
  /** POSTs a JSON body (or raw text) to `path`, returns status and parsed body. */
  post(path: string, body: unknown): Promise<{ status: number; body: Json }>;
  /** GETs `path`, returns status and parsed body. */
  get(path: string): Promise<{ status: number; body: Json }>;
  /** Sends a body-less request, returns the status. */
  send(method: string, path: string): Promise<number>;
}

/** Starts a registry on port 0 over a file in `dir` (a fresh temp dir by default). */
export async function startRegistry(
  options: RegistryOptions & { dir?: string } = {},
): Promise<TestRegistry> {
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "mesh_registry_test_" });
  const running = serveRegistry({
    databaseUrl: `${dir}/registry.db`,
    ...options,
    hostname: "127.0.0.1",
    port: 0,
  });
  const parse = async (response: Response) => {
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
  };
  return {
    ...running,
    dir,
    post: async (path, body) =>
      parse(
        await fetch(`${running.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: typeof body === "string" ? body : JSON.stringify(body),
        }),
      ),
    get: async (path) => parse(await fetch(`${running.url}${path}`)),
    send: async (method, path) => {
      const response = await fetch(`${running.url}${path}`, { method });
      await response.body?.cancel();
      return response.status;
    },
  };
}

/** Runs `test` against a fresh registry, then closes it and removes its files. */
export async function withRegistry(
  test: (registry: TestRegistry) => Promise<void>,
  options: RegistryOptions = {},
): Promise<void> {
  const registry = await startRegistry(options);
  try {
    await test(registry);
  } finally {
    await registry.close();
    await Deno.remove(registry.dir, { recursive: true });
  }
}

/** Polls `probe` until it returns true (no timing assertions; gives up after 10 s). */
export async function waitFor(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A minimal valid registration. */
export function agent(
  id: string,
  tools: MeshAgentRegistration["tools"],
  extra: Partial<MeshAgentRegistration> = {},
): MeshAgentRegistration {
  return { agent_id: id, http_host: "127.0.0.1", http_port: 9000, tools, ...extra };
}

/** A small deterministic PRNG (mulberry32), so that a failing seed replays. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A healthy stored agent on 127.0.0.1:9000 with `tools`; `fields` override the rest. */
export function storedAgent(
  id: string,
  tools: StoredAgent["tools"],
  fields: Partial<StoredAgent> = {},
): StoredAgent {
  return {
    id,
    name: id,
    agent_type: "mcp_agent",
    version: "1.0.0",
    http_host: "127.0.0.1",
    http_port: 9000,
    namespace: "default",
    status: "healthy",
    created_at: 0,
    updated_at: 0,
    last_seen: 0,
    tools,
    ...fields,
  };
}
