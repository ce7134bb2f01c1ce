/**
 * Runs contenders side by side: the same objects, the same server, one run, alternating. Round r
 * starts with contender r (mod n), so no contender always runs first (cold caches) or last.
 */

export interface Contender {
  name: string;
  /** One measured run; returns its figures (at least `ms`). Throwing marks the run failed. */
  run(round: number): Promise<Figures>;
  /** Not timed: runs before each measured run (e.g. remove the last destination). */
  before?(round: number): Promise<void>;
  /** A peer is something a user could pick instead of us; "ours" is the package. */
  role: "ours" | "peer" | "variant";
  /** Why this contender does not run here (e.g. not allowed above 5 GiB); it is reported, not run. */
  skip?: string;
}

export type Figures = { ms: number } & Record<string, number>;

export interface Stats { min: number; median: number; max: number; n: number }

export interface ContenderResult {
  name: string;
  role: Contender["role"];
  skip?: string;
  runs: Figures[];
  failures: string[];
  /** Per figure: min, median, max over the rounds that succeeded. */
  stats: Record<string, Stats>;
}

export interface CaseResult {
  bench: string;
  case: string;
  rounds: number;
  /** The figure the table and the ratio are about. */
  metric: string;
  contenders: ContenderResult[];
  /** Our median over the best peer's median, for `metric` (lower is better). */
  ratio?: { metric: string; ours: string; bestPeer: string; value: number };
  notes: string[];
}

export async function sideBySide(opts: { bench: string; case: string; rounds: number; contenders: Contender[]; metric?: string; notes?: string[] }): Promise<CaseResult> {
  const metric = opts.metric ?? "ms";
  const active = opts.contenders.filter((c) => !c.skip);
  const results = new Map(opts.contenders.map((c) => [c.name, { name: c.name, role: c.role, skip: c.skip, runs: [] as Figures[], failures: [] as string[], stats: {} }]));
  for (let round = 0; round < opts.rounds; round++) {
    const order = active.map((_, i) => active[(i + round) % active.length]);
    const line: string[] = [];
    for (const c of order) {
      const r = results.get(c.name)!;
      try {
        await c.before?.(round);
        const figures = await c.run(round);
        r.runs.push(figures);
        line.push(`${c.name} ${fmt(figures[metric], metric)}`);
      } catch (e) {
        r.failures.push((e as Error).message.split("\n")[0].slice(0, 300));
        line.push(`${c.name} FAILED (${(e as Error).message.split("\n")[0].slice(0, 120)})`);
      }
    }
    console.log(`[${opts.bench} ${opts.case}] round ${round + 1}/${opts.rounds}: ${line.join(" | ")}`);
  }
  const contenders = [...results.values()].map((r) => ({ ...r, stats: statsOf(r.runs) }));
  return { bench: opts.bench, case: opts.case, rounds: opts.rounds, metric, contenders, ratio: ratioOf(contenders, metric), notes: opts.notes ?? [] };
}

export function statsOf(runs: Figures[]): Record<string, Stats> {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(keys.map((k) => {
    const values = runs.map((r) => r[k]).filter((v) => typeof v === "number").sort((a, b) => a - b);
    return [k, { min: values[0], median: median(values), max: values[values.length - 1], n: values.length }];
  }));
}

export function median(sorted: number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

export function ratioOf(contenders: ContenderResult[], metric: string): CaseResult["ratio"] {
  const ours = contenders.find((c) => c.role === "ours" && c.stats[metric]);
  const peers = contenders.filter((c) => c.role === "peer" && c.stats[metric]).sort((a, b) => a.stats[metric].median - b.stats[metric].median);
  if (!ours || !peers.length) return undefined;
  return { metric, ours: ours.name, bestPeer: peers[0].name, value: ours.stats[metric].median / peers[0].stats[metric].median };
}

export function fmt(value: number | undefined, metric: string): string {
  if (value === undefined) return "—";
  if (metric === "ms" || metric.endsWith("Ms")) return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 2 : 0)} ms`;
  if (/bytes|Bytes|rss|Rss/.test(metric)) return value >= 1024 ** 2 ? `${(value / 1024 ** 2).toFixed(1)} MiB` : value >= 1024 ? `${(value / 1024).toFixed(1)} KiB` : `${value} B`;
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
