/**
 * The `weather` agent of the README: dependencies by capability, by filter and
 * as a fallback chain, with structured output. Run it with
 * `deno run -A examples/weather/main.ts`.
 *
 * @module
 */

import { type McpMeshTool, mesh } from "@mesh/sdk";
import { z } from "zod";

@mesh.agent({ name: "weather", version: "1.2.0", httpPort: 0 }) // 0 = any free port
export class WeatherAgent {
  @mesh.tool({
    capability: "weather_report",
    description: "Weather for a city, stamped with the current time",
    input: { city: z.string().min(1) }, // validated before the method runs
    output: { city: z.string(), forecast: z.string(), at: z.string() },
    dependencies: [
      "time_service", // any provider of the capability
      { capability: "geo", tags: ["+fast", "-beta"], version: ">=1.2" }, // filtered
      [{ capability: "forecast", tags: ["premium"] }, "forecast"], // fallback chain
    ],
    timeout: 10_000, // ms, for consumers calling this tool
    retryCount: 2, // consumers retry connection failures and 5xx
    annotations: { readOnlyHint: true },
  })
  async report(
    { city }: { city: string },
    [time, _geo, forecast]: (McpMeshTool | undefined)[],
  ) {
    const at = await ask(time, {}, "unknown time");
    const text = await ask(forecast, { city }, "sunny (no forecaster wired)");
    return { city, forecast: text, at }; // object → structuredContent + JSON text
  }
}

/** A dependency's answer as text; `fallback` when it is not wired or its call fails. */
async function ask(
  tool: McpMeshTool | undefined,
  args: Record<string, unknown>,
  fallback: string,
): Promise<string> {
  if (!tool) return fallback;
  try {
    return String(await tool.call(args));
  } catch (error) {
    // Provider gone, timed out, circuit open, or the tool failed: degrade, don't fail.
    return `${fallback} (${(error as Error).message})`;
  }
}
