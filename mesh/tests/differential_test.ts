/**
 * The `tools/call` fast path against the SDK's standard path: every tool of
 * the example agents and a set of edge and error cases are sent, byte for
 * byte the same request, to an agent serving the fast path and to one with
 * `MCP_MESH_FAST_PATH=false`; status, content type and body must be equal.
 * The clock and uptime are pinned so the tools' output is deterministic.
 *
 * @module
 */

import assert from "node:assert/strict";
import { z } from "zod";
import { mesh, type ToolContext } from "../mod.ts";
import { type AgentHandle, startAgent } from "../mod.ts";
import type { AgentClass } from "../definition.ts";
import { freeLoopbackUrl } from "./helpers.ts";

// The example modules start themselves unless told not to.
Deno.env.set("MCP_MESH_AUTO_RUN", "false");
const { SystemAgent } = await import("../../examples/system/main.ts");
const { HelloAgent } = await import("../../examples/hello/main.ts");
const { WeatherAgent } = await import("../../examples/weather/main.ts");
Deno.env.delete("MCP_MESH_AUTO_RUN");

/** Tools whose answers take the paths' less travelled branches. */
@mesh.agent({ name: "edges", autoRun: false })
class EdgeAgent {
  @mesh.tool({ capability: "fails" })
  fails(): string {
    throw new Error("boom: the tool failed");
  }

  @mesh.tool({ capability: "unstructured", output: { n: z.number() } })
  unstructured(): string {
    return "text where structured content was promised";
  }

  @mesh.tool({ capability: "mistyped", output: { n: z.number() } })
  mistyped(): Record<string, unknown> {
    return { n: "not a number" };
  }

  @mesh.tool({ capability: "invalid_result" })
  invalid_result(): object {
    return { content: [{ type: "bogus", payload: 1 }] };
  }

  @mesh.tool({ capability: "reordered" })
  reordered(): object {
    return {
      isError: false,
      _meta: { source: "edge" },
      content: [{ text: "extra keys are stripped", type: "text", extra: 1 }, {
        type: "image",
        data: "aGVsbG8=",
        mimeType: "image/png",
      }],
      custom: "kept",
    };
  }

  @mesh.tool({ capability: "structured", input: { a: z.number(), b: z.number().default(2) } })
  structured({ a, b }: { a: number; b: number }): object {
    return { sum: a + b, list: [a, b], nested: { ok: true } };
  }

  @mesh.tool({ capability: "counting", input: { to: z.number().int() } })
  async counting({ to }: { to: number }, _deps: unknown, context: ToolContext): Promise<string> {
    const token = context._meta?.progressToken;
    for (let i = 1; i <= to; i++) {
      await context.sendNotification({
        method: "notifications/progress",
        params: { progressToken: token ?? "none", progress: i, total: to },
      });
    }
    return `counted to ${to}`;
  }

  @mesh.tool({ capability: "logging" })
  async logging(_args: unknown, _deps: unknown, context: ToolContext): Promise<string> {
    await context.sendNotification({
      method: "notifications/message",
      params: { level: "info", data: "no logging capability declared" },
    });
    return "unreachable";
  }

  @mesh.tool({ capability: "context_echo", input: { x: z.string() } })
  context_echo({ x }: { x: string }, _deps: unknown, context: ToolContext): object {
    return {
      x,
      requestId: typeof context.requestId,
      meta: context._meta ?? null,
      accept: context.requestInfo?.headers.accept ?? null,
    };
  }
}

const FIXED_TIME = Date.UTC(2025, 0, 2, 3, 4, 5, 678);

/** Runs `fn` with `new Date()` and `Deno.osUptime()` pinned. */
async function withPinnedClock(fn: () => Promise<void>): Promise<void> {
  const RealDate = globalThis.Date;
  const realUptime = Deno.osUptime;
  class PinnedDate extends RealDate {
    constructor(...args: unknown[]) {
      super(...(args.length === 0 ? [FIXED_TIME] as const : args as [number]));
    }
  }
  globalThis.Date = PinnedDate as DateConstructor;
  Deno.osUptime = () => 4242;
  try {
    await fn();
  } finally {
    globalThis.Date = RealDate;
    Deno.osUptime = realUptime;
  }
}

async function startPair(
  agentClass: AgentClass,
  registryUrl: string,
): Promise<{ fast: AgentHandle; standard: AgentHandle }> {
  const fast = await startAgent(agentClass, { registryUrl });
  Deno.env.set("MCP_MESH_FAST_PATH", "false");
  try {
    return { fast, standard: await startAgent(agentClass, { registryUrl }) };
  } finally {
    Deno.env.delete("MCP_MESH_FAST_PATH");
  }
}

const HEADERS = {
  "Content-Type": "application/json",
  Accept: "application/json, text/event-stream",
};

interface Case {
  /** What the case shows. */
  label: string;
  /** Agent class serving it. */
  agent: AgentClass;
  /** Raw body. */
  body: string;
  /** Request headers (default {@linkcode HEADERS}). */
  headers?: Record<string, string>;
  /** True when the fast path must answer it (the answer then has a Content-Length). */
  fast?: boolean;
}

function call(
  name: string,
  args?: Record<string, unknown>,
  extra: { id?: unknown; meta?: Record<string, unknown> } = {},
): string {
  const params: Record<string, unknown> = { name };
  if (args !== undefined) params.arguments = args;
  if (extra.meta) params._meta = extra.meta;
  return JSON.stringify({ jsonrpc: "2.0", id: extra.id ?? 7, method: "tools/call", params });
}

const CASES: Case[] = [
  // Every tool of the example agents.
  {
    label: "system get_current_time",
    agent: SystemAgent,
    body: call("get_current_time"),
    fast: true,
  },
  {
    label: "system get_system_info",
    agent: SystemAgent,
    body: call("get_system_info", {}),
    fast: true,
  },
  {
    label: "hello say_hello",
    agent: HelloAgent,
    body: call("say_hello", { name: "Ada" }),
    fast: true,
  },
  {
    label: "hello greet_with_time, unwired",
    agent: HelloAgent,
    body: call("greet_with_time", { name: "Ada" }),
    fast: true,
  },
  {
    label: "weather report, unwired",
    agent: WeatherAgent,
    body: call("report", { city: "Oslo" }),
    fast: true,
  },
  // Ids, progress tokens and context.
  {
    label: "string id",
    agent: HelloAgent,
    body: call("say_hello", { name: "B" }, { id: "abc" }),
    fast: true,
  },
  {
    label: "progress token, no notification",
    agent: HelloAgent,
    body: call("say_hello", { name: "C" }, { meta: { progressToken: 1 } }),
    fast: true,
  },
  {
    label: "progress token and notifications (SSE stream)",
    agent: EdgeAgent,
    body: call("counting", { to: 3 }, { meta: { progressToken: "tok" } }),
  },
  { label: "notifications without a token", agent: EdgeAgent, body: call("counting", { to: 2 }) },
  {
    label: "context seen by the tool",
    agent: EdgeAgent,
    body: call("context_echo", { x: "y" }, { meta: { progressToken: 5, trace: "t" } }),
    fast: true,
  },
  {
    label: "defaults applied by the schema",
    agent: EdgeAgent,
    body: call("structured", { a: 1 }),
    fast: true,
  },
  // Errors.
  { label: "unknown tool", agent: HelloAgent, body: call("no_such_tool", {}) },
  { label: "missing argument", agent: HelloAgent, body: call("say_hello", {}) },
  { label: "argument failing a check", agent: HelloAgent, body: call("say_hello", { name: "" }) },
  { label: "argument of the wrong type", agent: WeatherAgent, body: call("report", { city: 5 }) },
  { label: "no arguments where required", agent: HelloAgent, body: call("say_hello") },
  { label: "tool that throws", agent: EdgeAgent, body: call("fails"), fast: true },
  {
    label: "output schema, no structured content",
    agent: EdgeAgent,
    body: call("unstructured"),
    fast: true,
  },
  {
    label: "structured content failing the output schema",
    agent: EdgeAgent,
    body: call("mistyped"),
    fast: true,
  },
  { label: "invalid CallToolResult", agent: EdgeAgent, body: call("invalid_result"), fast: true },
  {
    label: "result re-ordered and stripped",
    agent: EdgeAgent,
    body: call("reordered"),
    fast: true,
  },
  {
    label: "notification the server may not send",
    agent: EdgeAgent,
    body: call("logging"),
    fast: true,
  },
  // Requests the transport itself refuses or routes.
  {
    label: "extra top-level key",
    agent: HelloAgent,
    body: JSON.stringify({ ...JSON.parse(call("say_hello", { name: "D" })), extra: 1 }),
  },
  {
    label: "arguments not an object",
    agent: HelloAgent,
    body: call("say_hello").replace('"name":"say_hello"', '"name":"say_hello","arguments":[1]'),
  },
  { label: "invalid JSON", agent: HelloAgent, body: '{"jsonrpc":"2.0",' },
  { label: "batch", agent: HelloAgent, body: `[${call("say_hello", { name: "E" })}]` },
  {
    label: "task-augmented call",
    agent: HelloAgent,
    body: call("say_hello", { name: "F" }, {
      meta: { "io.modelcontextprotocol/related-task": { taskId: "t" } },
    }),
  },
  {
    label: "client not accepting SSE",
    agent: HelloAgent,
    body: call("say_hello", { name: "G" }),
    headers: { ...HEADERS, Accept: "application/json" },
  },
  {
    label: "unsupported protocol version",
    agent: HelloAgent,
    body: call("say_hello", { name: "H" }),
    headers: { ...HEADERS, "MCP-Protocol-Version": "1999-01-01" },
  },
  {
    label: "form content type",
    agent: HelloAgent,
    body: call("say_hello", { name: "I" }),
    headers: { ...HEADERS, "Content-Type": "application/x-www-form-urlencoded" },
  },
];

async function post(agent: AgentHandle, testCase: Case) {
  const response = await fetch(`${agent.url}/mcp`, {
    method: "POST",
    headers: testCase.headers ?? HEADERS,
    body: testCase.body,
  });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    cacheControl: response.headers.get("cache-control"),
    body: await response.text(),
    contentLength: response.headers.get("content-length"),
  };
}

Deno.test("the fast path answers every example tool and error case byte for byte like the SDK", async () => {
  const registryUrl = freeLoopbackUrl();
  const agents = new Map<AgentClass, { fast: AgentHandle; standard: AgentHandle }>();
  try {
    for (const agentClass of [SystemAgent, HelloAgent, WeatherAgent, EdgeAgent]) {
      agents.set(agentClass, await startPair(agentClass, registryUrl));
    }
    await withPinnedClock(async () => {
      for (const testCase of CASES) {
        const { fast, standard } = agents.get(testCase.agent)!;
        const viaFast = await post(fast, testCase);
        const viaStandard = await post(standard, testCase);
        const { contentLength: fastLength, ...fastAnswer } = viaFast;
        const { contentLength: standardLength, ...standardAnswer } = viaStandard;
        assert.deepEqual(fastAnswer, standardAnswer, testCase.label);
        // The standard path streams every answer; the fast path sends a sized body.
        assert.equal(standardLength === null || viaStandard.status !== 200, true, testCase.label);
        if (testCase.fast) assert.notEqual(fastLength, null, `${testCase.label}: not fast`);
      }
    });
  } finally {
    for (const { fast, standard } of agents.values()) {
      await fast.close();
      await standard.close();
    }
  }
});

Deno.test("the differential cases cover every tool of the example agents", () => {
  for (const agentClass of [SystemAgent, HelloAgent, WeatherAgent]) {
    const names = Object.getOwnPropertyNames(agentClass.prototype).filter((name) =>
      name !== "constructor"
    );
    for (const name of names) {
      const covered = CASES.some((testCase) =>
        testCase.agent === agentClass && testCase.fast &&
        JSON.parse(testCase.body).params?.name === name
      );
      assert.ok(covered, `${agentClass.name}.${name} has no differential case`);
    }
  }
});
