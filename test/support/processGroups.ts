/**
 * Local servers run in their own process groups, so that stopping one ends all its children.
 * Tracked groups are killed when the test process exits or is signalled: nothing is orphaned.
 */
import type { ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

const running = new Set<ChildProcess>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

export function track(child: ChildProcess): void {
  if (running.size === 0) {
    // 'exit' handlers must be synchronous. A signal that ends the process skips 'exit', so catch those too.
    process.on("exit", killRunning);
    for (const signal of SIGNALS) process.on(signal, onSignal);
  }
  running.add(child);
}
function untrack(child: ChildProcess): void {
  running.delete(child);
  if (running.size > 0) return;
  process.removeListener("exit", killRunning);
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
}
function killRunning(): void {
  running.forEach((child) => killGroup(child, "SIGKILL"));
}
function onSignal(signal: NodeJS.Signals): void {
  killRunning();
  // Keep the default "die by this signal" unless someone else handles it.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function stopGroup(child: ChildProcess): Promise<void> {
  untrack(child);
  killGroup(child, "SIGTERM");
  for (let i = 0; groupAlive(child.pid!); i++) {
    if (i === 50) killGroup(child, "SIGKILL");
    await sleep(100);
  }
}
