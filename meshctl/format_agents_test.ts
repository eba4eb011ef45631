import assert from "node:assert/strict";
import {
  agentMatches,
  formatAgentStatus,
  formatAgentTable,
  formatToolTable,
  summarizeSchema,
  toolRows,
} from "./format_agents.ts";
import { agentInfo, capability } from "./tests/fixtures.ts";

const now = Date.parse("2025-01-01T00:01:00Z");
const hello = agentInfo("hello-00000001", {
  endpoint: "http://127.0.0.1:9001",
  capabilities: [
    capability("say_hello", "greeting", {
      inputSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
    }),
    capability("greet_with_time", "time_greeting", {
      kwargs: { streaming: true },
      tags: ["a", "b"],
    }),
  ],
  total_dependencies: 1,
  dependencies_resolved: 1,
  dependency_resolutions: [{
    function_name: "greet_with_time",
    capability: "time_service",
    tags: [],
    mcp_tool: "get_current_time",
    provider_agent_id: "system-00000002",
    endpoint: "http://127.0.0.1:9002",
    status: "available",
  }],
});

Deno.test("formatAgentTable shows one row per agent", () => {
  assert.equal(
    formatAgentTable([hello, agentInfo("lonely-00000009", { status: "degraded" })], now),
    [
      "AGENT            STATUS    DEPS  CAPABILITIES            ENDPOINT               AGE  LAST SEEN",
      "hello-00000001   healthy   1/1   greeting,time_greeting  http://127.0.0.1:9001  1m   10s ago",
      "lonely-00000009  degraded  0/0   -                       http://127.0.0.1:9000  1m   10s ago",
    ].join("\n"),
  );
});

Deno.test("formatToolTable lists tools with schema summaries and streaming marks", () => {
  assert.equal(
    formatToolTable(toolRows([hello]), undefined, { showAgent: false }),
    [
      "TOOL                         CAPABILITY     VERSION  TAGS  INPUT",
      "say_hello                    greeting       1.0.0    -     {name: string}",
      "greet_with_time (streaming)  time_greeting  1.0.0    a,b   -",
    ].join("\n"),
  );
});

Deno.test("summarizeSchema marks optional fields and composite types", () => {
  assert.equal(
    summarizeSchema({
      type: "object",
      properties: {
        city: { type: "string" },
        days: { type: "integer" },
        units: { enum: ["c", "f"] },
        tags: { type: "array", items: { type: "string" } },
        when: { anyOf: [{ type: "string" }, { type: "null" }] },
        raw: {},
      },
      required: ["city"],
    }),
    '{city: string, days?: integer, units?: "c"|"f", tags?: string[], when?: string|null, raw?: any}',
  );
  assert.equal(summarizeSchema({ type: "object" }), "{}");
  assert.equal(summarizeSchema(undefined), "-");
});

Deno.test("agentMatches filters on ids, names, capabilities and tools", () => {
  assert.ok(agentMatches(hello, "GREET"));
  assert.ok(agentMatches(hello, "9001"));
  assert.ok(!agentMatches(hello, "weather"));
});

Deno.test("formatAgentStatus shows where each dependency resolved", () => {
  const text = formatAgentStatus(hello, now);
  assert.match(text, /^Agent {6}hello-00000001 \(hello\)$/m);
  assert.match(text, /^Deps {7}1\/1 resolved$/m);
  assert.match(
    text,
    /greet_with_time +time_service +available +system-00000002:get_current_time +http:\/\/127\.0\.0\.1:9002/,
  );
  const lonely = formatAgentStatus(agentInfo("lonely-00000009"), now);
  assert.match(lonely, /Tools\n {2}\(none\)\n\nDependencies\n {2}\(none\)$/);
});
