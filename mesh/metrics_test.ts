import assert from "node:assert/strict";
import { AgentMetrics } from "./metrics.ts";

Deno.test("metrics render in Prometheus text with the gauges read at scrape time", async () => {
  let resolved = 2;
  const metrics = new AgentMetrics({
    circuits: () => [["http://a:1", "open"], ["http://b:2", "closed"]],
    dependenciesResolved: () => resolved,
  });
  metrics.toolCall("echo", "success", 0.002);
  metrics.toolCall("echo", "error", 0.02);
  metrics.proxyCall("time_service", "http://a:1", "error");
  resolved = 3;
  const response = await metrics.response();
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  for (
    const line of [
      'mcp_mesh_tool_calls_total{tool="echo",status="success"} 1',
      'mcp_mesh_tool_calls_total{tool="echo",status="error"} 1',
      'mcp_mesh_tool_call_duration_seconds_count{tool="echo"} 2',
      'mcp_mesh_tool_call_duration_seconds_bucket{le="0.0025",tool="echo"} 1',
      'mcp_mesh_proxy_calls_total{capability="time_service",endpoint="http://a:1",status="error"} 1',
      'mcp_mesh_circuit_state{endpoint="http://a:1"} 2',
      'mcp_mesh_circuit_state{endpoint="http://b:2"} 0',
      "mcp_mesh_dependencies_resolved 3",
    ]
  ) assert.ok(text.includes(`${line}\n`), `missing ${line} in:\n${text}`);
});

Deno.test("two agents in one process keep separate counters", async () => {
  const sources = { circuits: () => [], dependenciesResolved: () => 0 };
  const a = new AgentMetrics(sources);
  const b = new AgentMetrics(sources);
  a.toolCall("echo", "success", 0.001);
  assert.match(
    await (await a.response()).text(),
    /tool_calls_total\{tool="echo",status="success"\} 1/,
  );
  assert.doesNotMatch(await (await b.response()).text(), /tool="echo"/);
});
