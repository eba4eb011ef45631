import assert from "node:assert/strict";
import { createRegistry } from "@mesh/registry";
import { backoffDelay, HeartbeatLoop } from "./heartbeat.ts";
import { createLogger } from "./log.ts";
import type { DependencyResolution, MeshAgentRegistration } from "./protocol.ts";
import { RegistryClient } from "./registry_client.ts";
import { waitFor } from "./tests/helpers.ts";

function registration(
  agentId: string,
  tools: MeshAgentRegistration["tools"],
): MeshAgentRegistration {
  return { agent_id: agentId, http_host: "127.0.0.1", http_port: 9, tools };
}

Deno.test("heartbeat: POST first, HEAD after, POST again on 202 and 410", async () => {
  const dir = await Deno.makeTempDir();
  const registry = createRegistry({ databaseUrl: `${dir}/registry.db` });
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    seen.push(`${request.method} ${new URL(request.url).pathname}`);
    return registry.handler(request);
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  const answers: Record<string, DependencyResolution[]>[] = [];
  const loop = new HeartbeatLoop({
    client: new RegistryClient(url),
    intervalMs: 50,
    registration: () =>
      registration("consumer-00000001", [
        { function_name: "use", capability: "user", dependencies: [{ capability: "thing" }] },
      ]),
    onResolved: (resolved) => answers.push(resolved),
    healthy: () => Promise.resolve(true),
    logger: createLogger("test"),
  });
  try {
    loop.start();
    await waitFor(
      "HEAD beats",
      () => seen.filter((s) => s.startsWith("HEAD")).length >= 2 || undefined,
    );
    assert.equal(seen[0], "POST /heartbeat");
    assert.equal(answers[0].use[0].status, "unresolved");
    assert.ok(loop.registered);

    // A provider appears: the next HEAD answers 202 and the loop POSTs for the new topology.
    const provider = new RegistryClient(url);
    await provider.register(
      registration("provider-00000002", [{ function_name: "make", capability: "thing" }]),
    );
    await waitFor(
      "rewired answer",
      () => answers.at(-1)?.use[0].status === "available" || undefined,
    );

    // The registry forgets the consumer: HEAD answers 410 and the loop registers again.
    const before = seen.length;
    await new RegistryClient(url).unregister("consumer-00000001");
    await waitFor(
      "re-registration",
      () => seen.slice(before).includes("POST /heartbeat") || undefined,
    );
    const agent = await fetch(`${url}/agents/consumer-00000001`);
    assert.equal(agent.status, 200);
    await agent.body?.cancel();
  } finally {
    await loop.stop();
    await server.shutdown();
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("heartbeat: an unresolved dependency shortens the interval until it resolves", async () => {
  const dir = await Deno.makeTempDir();
  const registry = createRegistry({ databaseUrl: `${dir}/registry.db` });
  const heads: number[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    if (request.method === "HEAD") heads.push(Date.now());
    return registry.handler(request);
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  const answers: Record<string, DependencyResolution[]>[] = [];
  // An hour between beats: without the short interval nothing below would happen.
  const loop = new HeartbeatLoop({
    client: new RegistryClient(url),
    intervalMs: 3_600_000,
    registration: () =>
      registration("waiting-00000001", [
        { function_name: "use", capability: "user", dependencies: [{ capability: "late" }] },
      ]),
    onResolved: (resolved) => answers.push(resolved),
    healthy: () => Promise.resolve(true),
    logger: createLogger("test"),
  });
  try {
    loop.start();
    await waitFor("a HEAD beat", () => heads.length >= 1 || undefined);
    assert.equal(answers[0].use[0].status, "unresolved");
    await new RegistryClient(url).register(
      registration("late-00000002", [{ function_name: "make", capability: "late" }]),
    );
    await waitFor("wired", () => answers.at(-1)?.use[0].status === "available" || undefined);
    // Resolved: back to the hour-long interval (no beat for longer than the short one)…
    const count = heads.length;
    const answered = answers.length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(heads.length, count);
    // …while the loop is alive: a beat brought forward still happens.
    loop.beatSoon();
    await waitFor("a beat brought forward", () => answers.length > answered || undefined);
  } finally {
    await loop.stop();
    await server.shutdown();
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("heartbeat: a refused registry token is one error line naming the setting", async () => {
  const dir = await Deno.makeTempDir();
  const registry = createRegistry({ databaseUrl: `${dir}/registry.db`, token: "right" });
  let posts = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    if (request.method === "POST") posts++;
    return registry.handler(request);
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  const lines: string[] = [];
  const loop = new HeartbeatLoop({
    client: new RegistryClient(url, { token: "wrong" }),
    intervalMs: 20,
    registration: () => registration("refused-00000001", []),
    onResolved: () => {},
    healthy: () => Promise.resolve(true),
    logger: { log: (level, message) => lines.push(`${level}: ${message}`) },
  });
  try {
    loop.start();
    await waitFor("a few refused beats", () => posts >= 3 || undefined);
    assert.deepEqual(lines, [
      `error: registry ${url} refuses this agent's registry token (HTTP 401): ` +
      "set MCP_MESH_REGISTRY_TOKEN to the registry's token; retrying",
    ]);
    assert.equal(loop.registered, false);
  } finally {
    await loop.stop();
    await server.shutdown();
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("backoff grows, is jittered and capped at two intervals", () => {
  for (let failures = 1; failures < 12; failures++) {
    const delay = backoffDelay(200, failures);
    const full = Math.min(400, 200 * 2 ** (failures - 1));
    assert.ok(delay >= full / 2 && delay <= full, `${failures}: ${delay}`);
  }
});
