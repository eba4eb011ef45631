/**
 * An agent's Prometheus metrics (`GET /metrics`), kept in a registry of its
 * own so several agents in one process never share counters.
 *
 * @module
 */

import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { CircuitState } from "./circuit_breaker.ts";
import type { ProxyObserver } from "./proxy.ts";

/** Value of `mcp_mesh_circuit_state` for each state. */
export const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState, number>> = Object.freeze({
  closed: 0,
  "half-open": 1,
  open: 2,
});

/** Where the scrape-time gauges read their values. */
export interface MetricsSources {
  /** Every provider endpoint this agent calls, with its circuit's state. */
  circuits(): Iterable<[endpoint: string, state: CircuitState]>;
  /** Dependencies currently wired to a provider, over all tools. */
  dependenciesResolved(): number;
}

/** The metrics of one agent. */
export class AgentMetrics implements ProxyObserver {
  #registry = new Registry();
  #toolCalls = new Counter({
    name: "mcp_mesh_tool_calls_total",
    help: "Tool calls this agent served, by tool and outcome.",
    labelNames: ["tool", "status"] as const,
    registers: [this.#registry],
  });
  #toolDuration = new Histogram({
    name: "mcp_mesh_tool_call_duration_seconds",
    help: "Time this agent took to serve a tool call, in seconds.",
    labelNames: ["tool"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.#registry],
  });
  #proxyCalls = new Counter({
    name: "mcp_mesh_proxy_calls_total",
    help: "Calls this agent's dependency proxies sent, by capability, endpoint and outcome.",
    labelNames: ["capability", "endpoint", "status"] as const,
    registers: [this.#registry],
  });

  /** `sources` feed the gauges each time they are scraped. */
  constructor(sources: MetricsSources) {
    new Gauge({
      name: "mcp_mesh_circuit_state",
      help: "Circuit breaker state per provider endpoint: 0 closed, 1 half-open, 2 open.",
      labelNames: ["endpoint"] as const,
      registers: [this.#registry],
      collect() {
        this.reset();
        for (const [endpoint, state] of sources.circuits()) {
          this.set({ endpoint }, CIRCUIT_STATE_VALUE[state]);
        }
      },
    });
    new Gauge({
      name: "mcp_mesh_dependencies_resolved",
      help: "Dependencies of this agent's tools currently wired to a provider.",
      registers: [this.#registry],
      collect() {
        this.set(sources.dependenciesResolved());
      },
    });
  }

  /** Records one served tool call. */
  toolCall(tool: string, status: "success" | "error", seconds: number): void {
    this.#toolCalls.inc({ tool, status });
    this.#toolDuration.observe({ tool }, seconds);
  }

  /** Records one attempt of a dependency proxy. */
  proxyCall(capability: string, endpoint: string, status: "success" | "error"): void {
    this.#proxyCalls.inc({ capability, endpoint, status });
  }

  /** The `GET /metrics` response in Prometheus text format. */
  async response(): Promise<Response> {
    const body = await this.#registry.metrics();
    return new Response(body, { headers: { "Content-Type": this.#registry.contentType } });
  }
}
