/**
 * Signalling processes known only by pid (detached agents and supervisors).
 *
 * @module
 */

import process from "node:process";
import { delay } from "./delay.ts";

/** Whether a process with this pid exists (signal 0 probe). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/**
 * Sends SIGTERM to `pid`, waits up to `graceMs` for it to exit, then sends
 * SIGKILL. Resolves to `"exited"`, `"killed"` or `"gone"` (not running at all).
 */
export async function terminatePid(
  pid: number,
  graceMs: number,
): Promise<"exited" | "killed" | "gone"> {
  if (!signal(pid, "SIGTERM")) return "gone";
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return "exited";
    await delay(100);
  }
  signal(pid, "SIGKILL");
  while (isAlive(pid)) await delay(50);
  return "killed";
}

function signal(pid: number, name: Deno.Signal): boolean {
  try {
    Deno.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}
