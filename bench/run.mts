// `npm run bench [-- p1 p2 … --rounds N --quick]`: the performance benchmarks (not part of npm test).
// Each writes bench/results/<name>.json and .md; --quick shrinks sizes for a smoke run, whose
// results go to bench/results/quick/ and are not the published figures.
import { parseArgs } from "node:util";

const benches: Record<string, () => Promise<{ run(o: BenchOptions): Promise<unknown> }>> = {
  p1: () => import("./p1-s3-large.mts"),
  p2: () => import("./p2-bytes.mts"),
  p3: () => import("./p3-completion.mts"),
  p4: () => import("./p4-overhead.mts"),
  p5: () => import("./p5-stream-memory.mts"),
  p6: () => import("./p6-prefix.mts"),
};

export interface BenchOptions {
  rounds: number;
  quick: boolean;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: "string", default: "3" }, quick: { type: "boolean", default: false } },
});
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number ≥ 1, not ${values.rounds}`);
// P6 seeds thousands of objects: CI's --quick smoke run leaves it out unless it is named (`--quick p6`, about a minute).
const notInQuick = new Set(["p6"]);
const names = positionals.length ? positionals : Object.keys(benches).filter((n) => !(values.quick && notInQuick.has(n)));
const unknown = names.filter((n) => !benches[n]);
if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(", ")}: choose from ${Object.keys(benches).join(", ")}`);
if (values.quick) process.env.BENCH_RESULTS_DIR ??= "quick";

let failed = 0;
for (const name of names) {
  const t0 = Date.now();
  console.log(`\n=== ${name} (${rounds} rounds${values.quick ? ", quick" : ""}) ===`);
  try {
    await (await benches[name]()).run({ rounds, quick: values.quick });
  } catch (e) {
    failed++;
    console.error(`[${name}] failed: ${(e as Error).stack ?? e}`);
  }
  console.log(`=== ${name} took ${((Date.now() - t0) / 1000).toFixed(0)} s ===`);
}
process.exit(failed ? 1 : 0);
