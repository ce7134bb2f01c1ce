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
