/**
 * The everything agent's features beyond what the conformance suite checks,
 * driven over real HTTP on loopback with the official MCP SDK client.
 */

import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  type CallToolResult,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { AgentHandle } from "@mesh/sdk";
import { type EverythingAgentOptions, serveEverything } from "./agent.ts";
import { WATCHED_RESOURCE_INITIAL_TEXT, WATCHED_RESOURCE_URI } from "./watched_resource.ts";

interface Connected {
  client: Client;
  /** Settles once the client's standalone SSE stream (GET) is open. */
  standaloneStream: Promise<void>;
}

/** A loopback URL where nothing listens: the agents under test run standalone. */
function deadRegistryUrl(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  listener.close();
  return `http://127.0.0.1:${listener.addr.port}`;
}

async function connect(
  agent: AgentHandle,
  capabilities: ConstructorParameters<typeof Client>[1] = {},
): Promise<Connected> {
  const { promise: standaloneStream, resolve } = Promise.withResolvers<void>();
  const transport = new StreamableHTTPClientTransport(new URL(`${agent.url}/mcp`), {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (init?.method === "GET" && response.ok) resolve();
      return response;
    },
  });
  const client = new Client({ name: "everything-test", version: "1.0.0" }, capabilities);
  await client.connect(transport);
  return { client, standaloneStream };
}

/** Runs `body` against a fresh agent and shuts everything down afterwards. */
function withAgent(
  body: (agent: AgentHandle, clients: Client[]) => Promise<void>,
  options: EverythingAgentOptions = {},
): () => Promise<void> {
  return async () => {
    const agent = await serveEverything({
      httpPort: 0,
      registryUrl: deadRegistryUrl(),
      retryInterval: 10,
      ...options,
    });
    const clients: Client[] = [];
    try {
      await body(agent, clients);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await agent.close();
    }
  };
}

function textOf(result: unknown): string {
  const [first] = (result as CallToolResult).content;
  assert.equal(first?.type, "text");
  return first.text;
}

Deno.test(
  "add_numbers answers structured content that matches its output schema",
  withAgent(async (agent, clients) => {
    const { client } = await connect(agent);
    clients.push(client);
    const { tools } = await client.listTools();
    const tool = tools.find((candidate) => candidate.name === "add_numbers");
    assert.deepEqual(tool?.outputSchema?.properties, {
      sum: { type: "number", description: "a + b" },
    });
    const result = await client.callTool({ name: "add_numbers", arguments: { a: 2, b: 3.5 } });
    assert.deepEqual(result.structuredContent, { sum: 5.5 });
    assert.equal(textOf(result), '{"sum":5.5}');
  }),
);

Deno.test(
  "json_schema_2020_12_tool lists a JSON Schema 2020-12 every time and validates calls",
  withAgent(async (agent, clients) => {
    const { client } = await connect(agent);
    clients.push(client);
    const expected = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } },
      additionalProperties: false,
      $defs: {
        address: {
          type: "object",
          properties: { street: { type: "string" }, city: { type: "string" } },
        },
      },
    };
    for (let listing = 0; listing < 2; listing++) {
      const { tools } = await client.listTools();
      const tool = tools.find((candidate) => candidate.name === "json_schema_2020_12_tool");
      assert.deepEqual(tool?.inputSchema, expected);
    }
    const ok = await client.callTool({
      name: "json_schema_2020_12_tool",
      arguments: { name: "Ada", address: { city: "London" } },
    });
    assert.match(textOf(ok), /"city":"London"/);
    const rejected = await client.callTool({
      name: "json_schema_2020_12_tool",
      arguments: { nickname: "Ada" },
    });
    assert.equal(rejected.isError, true);
    assert.match(textOf(rejected), /nickname/);
  }),
);

Deno.test(
  "log messages of a tool follow the level the client set",
  withAgent(async (agent, clients) => {
    const { client } = await connect(agent);
    clients.push(client);
    const logs: unknown[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, ({ params }) => {
      logs.push(params.data);
    });
    await client.setLoggingLevel("warning");
    await client.callTool({ name: "test_tool_with_logging" });
    assert.deepEqual(logs, []);
    await client.setLoggingLevel("info");
    await client.callTool({ name: "test_tool_with_logging" });
    assert.deepEqual(logs, [
      "Tool execution started",
      "Tool processing data",
      "Tool execution completed",
    ]);
  }),
);

async function readWatched(client: Client): Promise<unknown> {
  const { contents } = await client.readResource({ uri: WATCHED_RESOURCE_URI });
  return "text" in contents[0] ? contents[0].text : undefined;
}

Deno.test(
  "only subscribed sessions hear that the watched resource changed",
  withAgent(async (agent, clients) => {
    const watcher = await connect(agent);
    const bystander = await connect(agent);
    clients.push(watcher.client, bystander.client);
    await Promise.all([watcher.standaloneStream, bystander.standaloneStream]);
    const heard = (client: Client) => {
      const uris: string[] = [];
      const waiters: (() => void)[] = [];
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, ({ params }) => {
        uris.push(params.uri);
        waiters.shift()?.();
      });
      return { uris, next: () => new Promise<void>((resolve) => waiters.push(resolve)) };
    };
    const watcherHeard = heard(watcher.client);
    const bystanderHeard = heard(bystander.client);

    assert.equal(await readWatched(watcher.client), WATCHED_RESOURCE_INITIAL_TEXT);
    await watcher.client.subscribeResource({ uri: WATCHED_RESOURCE_URI });
    await bystander.client.subscribeResource({ uri: WATCHED_RESOURCE_URI });
    await bystander.client.unsubscribeResource({ uri: WATCHED_RESOURCE_URI });

    const first = watcherHeard.next();
    await bystander.client.callTool({ name: "update_watched_resource", arguments: { text: "v2" } });
    await first;
    assert.deepEqual(watcherHeard.uris, [WATCHED_RESOURCE_URI]);
    assert.equal(await readWatched(watcher.client), "v2");

    // Events on one stream arrive in order: had the first update reached the
    // bystander, it would be heard before this second one.
    await bystander.client.subscribeResource({ uri: WATCHED_RESOURCE_URI });
    const second = bystanderHeard.next();
    await watcher.client.callTool({ name: "update_watched_resource", arguments: { text: "v3" } });
    await second;
    assert.deepEqual(bystanderHeard.uris, [WATCHED_RESOURCE_URI]);
  }),
);

Deno.test(
  "test_reconnection's result reaches the client after the server closed the stream",
  withAgent(async (agent, clients) => {
    const { client } = await connect(agent);
    clients.push(client);
    const result = await client.callTool({ name: "test_reconnection" });
    assert.match(textOf(result), /replayed after the client reconnected/);
  }),
);

Deno.test(
  "completion suggests prompt arguments and template variables by prefix",
  withAgent(async (agent, clients) => {
    const { client } = await connect(agent);
    clients.push(client);
    const prompt = await client.complete({
      ref: { type: "ref/prompt", name: "test_prompt_with_arguments" },
      argument: { name: "arg1", value: "pa" },
    });
    assert.deepEqual(prompt.completion.values, ["paris", "park", "party"]);
    const template = await client.complete({
      ref: { type: "ref/resource", uri: "test://template/{id}/data" },
      argument: { name: "id", value: "12" },
    });
    assert.deepEqual(template.completion.values, ["123"]);
  }),
);

Deno.test(
  "sampling and elicitation fail clearly when the client lacks the capability",
  withAgent(async (agent, clients) => {
    const { client } = await connect(agent);
    clients.push(client);
    const sampling = await client.callTool({ name: "test_sampling", arguments: { prompt: "hi" } });
    assert.equal(sampling.isError, true);
    assert.match(textOf(sampling), /does not support sampling/);
    const elicitation = await client.callTool({
      name: "test_elicitation",
      arguments: { message: "who are you?" },
    });
    assert.equal(elicitation.isError, true);
    assert.match(textOf(elicitation), /does not support form elicitation/);
  }),
);
