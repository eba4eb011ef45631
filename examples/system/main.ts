/**
 * The `system` agent: the current time (`time_service`) and facts about the
 * host (`system_info`). Run it with `deno run -A examples/system/main.ts`.
 *
 * @module
 */

import { mesh } from "@mesh/sdk";

/** Provides the time and system facts to the mesh. */
@mesh.agent({ name: "system", description: "Time and system information" })
export class SystemAgent {
  /** The current time as an ISO-8601 timestamp. */
  @mesh.tool({
    capability: "time_service",
    description: "Current time as an ISO-8601 timestamp",
    annotations: { readOnlyHint: true },
  })
  get_current_time(): string {
    return new Date().toISOString();
  }

  /** Facts about the host this agent runs on. */
  @mesh.tool({
    capability: "system_info",
    description: "Operating system, architecture, Deno version and uptime of the host",
    annotations: { readOnlyHint: true },
  })
  get_system_info(): Record<string, unknown> {
    return {
      os: Deno.build.os,
      arch: Deno.build.arch,
      deno: Deno.version.deno,
      hostname: Deno.hostname(),
      uptime_seconds: Deno.osUptime(),
    };
  }
}
