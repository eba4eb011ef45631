import assert from "node:assert/strict";
import { DependencyLog } from "./dependency_log.ts";
import type { LogLevel } from "./log.ts";
import type { DependencyResolution } from "./protocol.ts";

const geo: DependencyResolution = {
  agent_id: "geo-0000000a",
  function_name: "locate",
  endpoint: "http://127.0.0.1:2",
  capability: "geo",
  status: "available",
};

Deno.test("DependencyLog warns once per unresolved set and tells when a dependency resolves", () => {
  const lines: string[] = [];
  const log = new DependencyLog({
    log: (level: LogLevel, message) => lines.push(`${level}: ${message}`),
  });
  const unresolved = { report: [{ capability: "goe", status: "unresolved" as const }] };
  log.update(unresolved);
  log.update(unresolved);
  assert.deepEqual(lines, [
    'warn: unresolved dependencies (no healthy agent provides them): "goe" of tool report',
  ]);
  log.update({
    report: [{ capability: "goe", status: "unresolved" }, {
      capability: "time",
      status: "unresolved",
    }],
  });
  assert.equal(lines.length, 2);
  assert.match(lines[1], /^warn: .*"goe" of tool report, "time" of tool report$/);
  log.update({ report: [geo, { capability: "time", status: "unresolved" }] });
  assert.deepEqual(lines.slice(2), [
    'info: dependency "goe" of tool report resolved: locate of geo-0000000a at http://127.0.0.1:2',
    'warn: unresolved dependencies (no healthy agent provides them): "time" of tool report',
  ]);
  log.update({ report: [geo, geo] });
  log.update({ report: [geo, geo] });
  assert.equal(lines.length, 5);
  assert.match(lines[4], /^info: dependency "time" of tool report resolved/);
});
