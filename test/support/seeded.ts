import type http from "node:http";
import type { Fault } from "./countingProxy.ts";

/** A seeded generator (mulberry32), so a failing randomized run can be replayed with FAULT_SEED. */
export function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: FAULT_SEED when given (test:faults fixes it), else today's default. */
export const FAULT_SEED = Number(process.env.FAULT_SEED ?? 20261121);

/**
 * Transient faults for a proxy: a seeded `share` of requests fails as one of `kinds`, at most two in a row for one
 * request (method and URL), so that they stay transient for the SDKs' retry budgets (3 attempts on S3, 4 on Azure).
 */
export function transientFaults(kinds: Fault[], seed: number, share = 0.2): (req: http.IncomingMessage) => Fault | undefined {
  const random = seeded(seed);
  const streak = new Map<string, number>();
  return (req) => {
    const key = `${req.method} ${req.url}`;
    if (random() >= share || (streak.get(key) ?? 0) >= 2) return void streak.delete(key);
    streak.set(key, (streak.get(key) ?? 0) + 1);
    return kinds[Math.floor(random() * kinds.length)];
  };
}
