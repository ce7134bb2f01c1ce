/** Writes one benchmark's results as JSON and a short Markdown table under bench/results/. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, type CaseResult } from "./sideBySide.mts";

// --quick runs write to a subfolder, so a smoke run never overwrites the published figures.
export const resultsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../results", process.env.BENCH_RESULTS_DIR ?? "");

export function machine(): Record<string, string | number> {
  const version = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split("\n")[0].trim();
    } catch {
      return "absent";
    }
  };
  return {
    date: new Date().toISOString(),
    cpu: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "unknown"}`,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    moto: version("python3", ["-c", "import moto; print(moto.__version__)"]),
    awsCli: version("aws", ["--version"]),
    rclone: version("rclone", ["version"]),
    radosgw: version("radosgw", ["--version"]),
  };
}

export interface Report {
  bench: string;
  title: string;
  /** What the figures mean and how they were taken; printed above the tables. */
  about: string[];
  cases: CaseResult[];
  /** Extra tables (e.g. a sweep), already in Markdown. */
  extraMarkdown?: string[];
  /** The goal and whether it was met, one line each. */
  verdicts?: string[];
}

export function writeReport(report: Report): { json: string; md: string } {
  fs.mkdirSync(resultsDir, { recursive: true });
  const json = path.join(resultsDir, `${report.bench}.json`);
  const md = path.join(resultsDir, `${report.bench}.md`);
  fs.writeFileSync(json, JSON.stringify({ ...report, machine: machine() }, null, 2) + "\n");
  fs.writeFileSync(md, markdown(report));
  console.log(`[${report.bench}] wrote ${path.relative(process.cwd(), md)} and .json`);
  return { json, md };
}

export function markdown(report: Report): string {
  const lines = [`## ${report.title}`, "", ...report.about.map((a) => `${a}`), ""];
  for (const c of report.cases) lines.push(caseTable(c), "");
  for (const extra of report.extraMarkdown ?? []) lines.push(extra, "");
  if (report.verdicts?.length) lines.push(...report.verdicts.map((v) => `- ${v}`), "");
  const m = machine();
  lines.push(`<sub>${m.date.toString().slice(0, 10)}, ${m.cpu}, ${m.memoryGiB} GiB RAM, Node ${m.node}; moto ${m.moto}; ${m.awsCli.toString().split(" ")[0]}; ${m.rclone}; ${m.radosgw.toString().split(" (")[0]}</sub>`, "");
  return lines.join("\n");
}

/** One case: each contender's min / median / max of the case's metric, and its median over the best peer's. */
export function caseTable(c: CaseResult, metric = c.metric): string {
  const best = c.ratio ? c.contenders.find((x) => x.name === c.ratio!.bestPeer)?.stats[metric]?.median : undefined;
  const rows = c.contenders.map((x) => {
    const s = x.stats[metric];
    if (x.skip) return `| ${x.name} | ${x.role} | — | — | — | — | not run: ${x.skip} |`;
    if (!s) return `| ${x.name} | ${x.role} | — | — | — | — | failed: ${x.failures[0] ?? "no runs"} |`;
    const ratio = best ? `${(s.median / best).toFixed(2)}×` : "—";
    const failed = x.failures.length ? `${x.failures.length} failed: ${x.failures[0]}` : "";
    return `| ${x.name} | ${x.role} | ${fmt(s.min, metric)} | **${fmt(s.median, metric)}** | ${fmt(s.max, metric)} | ${ratio} | ${failed} |`;
  });
  return [
    `**${c.case}** (${c.rounds} rounds, alternating${c.ratio ? `; ours ÷ best peer (${c.ratio.bestPeer}): **${c.ratio.value.toFixed(2)}×**` : ""})`,
    "",
    "| contender | role | min | median | max | ÷ best peer | |",
    "|---|---|---:|---:|---:|---:|---|",
    ...rows,
    ...c.notes.map((n) => `\n${n}`),
  ].join("\n");
}
