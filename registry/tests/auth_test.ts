import assert from "node:assert/strict";
import { mesh, startAgent } from "@mesh/sdk";
import { REGISTRY_TOKEN_ENV } from "../mod.ts";
import { agent, type Json, startRegistry, waitFor, withRegistry } from "./harness.ts";

const TOKEN = "s3cret-token";
const registration = agent("writer", [{ function_name: "f", capability: "c" }]);

type Credentials = "none" | "wrong" | "right";

function authorization(credentials: Credentials): Record<string, string> {
  if (credentials === "none") return {};
  return { authorization: `Bearer ${credentials === "right" ? TOKEN : `${TOKEN}x`}` };
}

/** Sends a request with the given credentials; returns status, headers and parsed body. */
async function send(
  url: string,
  method: string,
  credentials: Credentials,
  body?: unknown,
): Promise<{ status: number; headers: Headers; body: Json }> {
  const response = await fetch(url, {
    method,
    headers: { ...authorization(credentials), "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === "" ? undefined : JSON.parse(text),
  };
}

function assertUnauthorized(answer: { status: number; headers: Headers; body: Json }): void {
  assert.equal(answer.status, 401);
  assert.match(answer.headers.get("www-authenticate") ?? "", /^Bearer /);
  assert.equal(typeof answer.body.error, "string");
  assert.ok(!Number.isNaN(Date.parse(answer.body.timestamp)));
  assert.equal(answer.body.details.header, "Authorization");
}

Deno.test("registry token: POST /heartbeat needs the bearer; a refusal stores nothing", async () => {
  await withRegistry(async (registry) => {
    const post = (credentials: Credentials, body: unknown = registration) =>
      send(`${registry.url}/heartbeat`, "POST", credentials, body);
    assertUnauthorized(await post("none"));
    assertUnauthorized(await post("wrong"));
    assertUnauthorized(await post("none", "{ not even json"));
    assert.equal((await registry.get("/agents")).body.count, 0);
    assert.equal((await registry.get("/events")).body.count, 0);
    const accepted = await post("right");
    assert.equal(accepted.status, 200);
    assert.equal(accepted.body.agent_id, "writer");
    const lowercase = await fetch(`${registry.url}/heartbeat`, {
      method: "POST",
      headers: { authorization: `bearer ${TOKEN}` },
      body: JSON.stringify(registration),
    });
    assert.equal(lowercase.status, 200, "the scheme is case-insensitive");
    await lowercase.body?.cancel();
  }, { token: TOKEN });
});

Deno.test("registry token: HEAD /heartbeat/{id} needs it and a refusal does not refresh liveness", async () => {
  await withRegistry(async (registry) => {
    await send(`${registry.url}/heartbeat`, "POST", "right", registration);
    const head = (id: string, credentials: Credentials) =>
      send(`${registry.url}/heartbeat/${id}`, "HEAD", credentials);
    const lastSeen = async () => (await registry.get("/agents/writer")).body.last_seen;
    const before = await lastSeen();
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (const credentials of ["none", "wrong"] as const) {
      const refused = await head("writer", credentials);
      assert.equal(refused.status, 401);
      assert.equal(refused.body, undefined, "HEAD answers without a body");
      assert.equal((await head("nobody", credentials)).status, 401, "no hint about ids");
    }
    assert.equal(await lastSeen(), before, "a refused HEAD is not a heartbeat");
    assert.equal((await head("writer", "right")).status, 200);
    assert.notEqual(await lastSeen(), before);
    assert.equal((await head("nobody", "right")).status, 410);
  }, { token: TOKEN });
});

Deno.test("registry token: DELETE /agents/{id} needs it; reads stay open", async () => {
  await withRegistry(async (registry) => {
    await send(`${registry.url}/heartbeat`, "POST", "right", registration);
    const remove = (credentials: Credentials) =>
      send(`${registry.url}/agents/writer`, "DELETE", credentials);
    assertUnauthorized(await remove("none"));
    assertUnauthorized(await remove("wrong"));
    assert.equal((await registry.get("/agents/writer")).status, 200, "still registered");
    for (const path of ["/", "/health", "/agents", "/agents/writer", "/events"]) {
      assert.equal((await registry.get(path)).status, 200, path);
    }
    assert.equal(await registry.send("HEAD", "/health"), 200);
    assert.equal((await remove("right")).status, 204);
    assert.equal((await registry.get("/agents/writer")).status, 404);
  }, { token: TOKEN });
});

Deno.test("registry token: read from MCP_MESH_REGISTRY_TOKEN; an empty option turns it off", async () => {
  const previous = Deno.env.get(REGISTRY_TOKEN_ENV);
  Deno.env.set(REGISTRY_TOKEN_ENV, TOKEN);
  try {
    await withRegistry(async (registry) => {
      assert.equal(
        (await send(`${registry.url}/heartbeat`, "POST", "none", registration)).status,
        401,
      );
      assert.equal(
        (await send(`${registry.url}/heartbeat`, "POST", "right", registration)).status,
        200,
      );
    });
    await withRegistry(async (registry) => {
      assert.equal(
        (await send(`${registry.url}/heartbeat`, "POST", "none", registration)).status,
        200,
      );
    }, { token: "" });
  } finally {
    if (previous === undefined) Deno.env.delete(REGISTRY_TOKEN_ENV);
    else Deno.env.set(REGISTRY_TOKEN_ENV, previous);
  }
});

@mesh.agent({ name: "token-agent", autoRun: false })
class TokenAgent {
  @mesh.tool({ capability: "token_echo" })
  echo(): string {
    return "echo";
  }
}

Deno.test("registry token: an agent with MCP_MESH_REGISTRY_TOKEN registers and heartbeats", async () => {
  const registry = await startRegistry({ token: TOKEN });
  const previous = Deno.env.get(REGISTRY_TOKEN_ENV);
  Deno.env.set(REGISTRY_TOKEN_ENV, TOKEN);
  try {
    const handle = await startAgent(TokenAgent, {
      registryUrl: registry.url,
      httpPort: 0,
      heartbeatInterval: 0.05,
    });
    try {
      await waitFor(
        "the agent registered",
        async () => (await registry.get("/agents?capability=token_echo")).body.count === 1,
      );
      const [registered] = (await registry.get("/agents?capability=token_echo")).body.agents;
      const seen = registered.last_seen;
      await waitFor(
        "a fast heartbeat",
        async () => (await registry.get(`/agents/${registered.id}`)).body.last_seen !== seen,
      );
    } finally {
      await handle.close();
    }
    assert.equal(
      (await registry.get("/agents")).body.count,
      0,
      "the agent unregistered on close (DELETE with the token)",
    );
  } finally {
    if (previous === undefined) Deno.env.delete(REGISTRY_TOKEN_ENV);
    else Deno.env.set(REGISTRY_TOKEN_ENV, previous);
    await registry.close();
    await Deno.remove(registry.dir, { recursive: true });
  }
});
