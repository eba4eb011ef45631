/**
 * Signalling processes known only by pid (detached agents and supervisors).
 *
 * @module
 */

import process from "node:process";
import { delay } from "./delay.ts";

/**
 * Whether a process with this pid exists (signal 0 probe) and, on Linux, is
 * not a zombie (an orphan that exited but that no parent has reaped yet).
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 1).trim().startsWith("Z");
  } catch (error) {
    // Gone between the probe and the read; unreadable (no permission): take it as running.
    return error instanceof Deno.errors.NotFound;
  }
}

/**
 * Whether `pid` is alive and still the process a pid file was written for:
 * on Linux its command line (`/proc/<pid>/cmdline`) must contain `arg` (an
 * agent's file, the supervisor's `--supervise`), so that a stale pid file
 * never gets an unrelated process that reuses the pid signalled. Elsewhere
 * only liveness is checked.
 */
export async function runsWith(pid: number, arg: string): Promise<boolean> {
  if (!isAlive(pid)) return false;
  if (Deno.build.os !== "linux") return true;
  try {
    return (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0").includes(arg);
  } catch {
    return false; // exited meanwhile
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
