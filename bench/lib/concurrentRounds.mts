/**
 * sideBySide's concurrent cousin, for contenders that mostly wait (e.g. polling a copy that takes
 * minutes): every round of every contender starts at once, each on its own objects, so N rounds
 * of M contenders take about as long as the longest single run instead of N × M runs. Use it only
 * when a run costs (almost) no CPU and its metric does not depend on what runs next to it.
 * Returns the same CaseResult as sideBySide; prints a progress line per run as it finishes.
 */
import { fmt, ratioOf, statsOf, type CaseResult, type Contender, type Figures } from "./sideBySide.mts";

export async function concurrentRounds(opts: { bench: string; case: string; rounds: number; contenders: Contender[]; metric?: string; notes?: string[] }): Promise<CaseResult> {
  const metric = opts.metric ?? "ms";
  const results = opts.contenders.map((c) => ({ name: c.name, role: c.role, skip: c.skip, runs: [] as Array<Figures | undefined>, failures: [] as string[], stats: {} }));
  let finished = 0;
  const total = opts.rounds * opts.contenders.filter((c) => !c.skip).length;
  await Promise.all(opts.contenders.flatMap((c, i) => c.skip ? [] : Array.from({ length: opts.rounds }, async (_, round) => {
    const r = results[i];
    let line: string;
    try {
      await c.before?.(round);
      const figures = await c.run(round);
      r.runs[round] = figures; // kept in round order, whatever order they finish in
      line = fmt(figures[metric], metric);
    } catch (e) {
      const message = (e as Error).message.split("\n")[0];
      r.failures.push(message.slice(0, 300));
      line = `FAILED (${message.slice(0, 120)})`;
    }
    console.log(`[${opts.bench} ${opts.case}] ${++finished}/${total} done: ${c.name}, round ${round + 1}/${opts.rounds}: ${line}`);
  })));
  const contenders = results.map((r) => {
    const runs = r.runs.filter((f): f is Figures => f !== undefined);
    return { ...r, runs, stats: statsOf(runs) };
  });
  return { bench: opts.bench, case: opts.case, rounds: opts.rounds, metric, contenders, ratio: ratioOf(contenders, metric), notes: opts.notes ?? [] };
}
