/**
 * Crash anywhere (issue 5, R1): a create runs in a provider host of its own, which is killed with
 * SIGKILL (nothing can catch it) at a chosen moment. The caller then runs create again, as Pulumi
 * does after an interrupted update, and inspects the servers.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { MiniEngine, type Deployed } from "./engine.ts";
import { ProviderHost, type Registration } from "./providerHost.ts";
import { repoRoot } from "./s3rig.ts";
import { FAULT_SEED, seeded } from "./seeded.ts";

/** Kill points per store: 3 in `npm test`, more in `npm run test:faults` (CRASH_POINTS). */
export const CRASH_POINTS = Number(process.env.CRASH_POINTS ?? 3);

/**
 * Kill moments spread over a copy that takes `durationMs` uncut: one random moment in each of
 * `count` equal slices (seeded), so every phase is hit, from the first request to the last poll.
 */
export function killMoments(durationMs: number, count = CRASH_POINTS, seed = FAULT_SEED): number[] {
  const random = seeded(seed);
  return Array.from({ length: count }, (_, i) => Math.round(((i + random()) / count) * durationMs * 0.95));
}

/** Starts a create in a fresh host and SIGKILLs the host's process group `killAtMs` after the call. */
export async function createThenKill(env: NodeJS.ProcessEnv, reg: Registration, killAtMs: number): Promise<{ finishedFirst: boolean }> {
  return inFreshHost(env, async (host, inputs) => {
    let finished = false;
    const creating = host.create(reg, inputs).then(() => void (finished = true), () => undefined);
    await sleep(killAtMs);
    host.signalGroup("SIGKILL");
    await host.exited();
    await creating;
    return { finishedFirst: finished };
  }, reg);
}

/** How long an uncut create takes in a fresh host (modules load on first use), so kill moments fall inside it. */
export async function uncutCreate(env: NodeJS.ProcessEnv, reg: Registration): Promise<{ ms: number; deployed: Deployed }> {
  return inFreshHost(env, async (host, inputs) => {
    const started = Date.now();
    const created = await host.create(reg, inputs);
    return { ms: Date.now() - started, deployed: { reg, id: created.id, inputs, outputs: created.properties } };
  }, reg);
}

async function inFreshHost<T>(env: NodeJS.ProcessEnv, run: (host: ProviderHost, inputs: Record<string, unknown>) => Promise<T>, reg: Registration): Promise<T> {
  const host = await ProviderHost.start({ cwd: repoRoot, env });
  try {
    await host.configure();
    return await run(host, await new MiniEngine(host).check(reg));
  } finally {
    await host.stop();
  }
}
