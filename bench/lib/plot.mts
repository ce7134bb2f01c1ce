/**
 * Line plots to PNG with gnuplot, for benchmarks where a picture reads better than a table.
 * gnuplot is optional: when it is absent (and cannot be installed), `plotPng` returns the reason
 * and the benchmark carries on without the picture.
 */
import { execFileSync, spawnSync } from "node:child_process";

export interface Series {
  name: string;
  points: Array<[number, number]>;
  /** gnuplot's `with` style. @default "lines" */
  style?: "lines" | "steps" | "points" | "linespoints" | "impulses";
}

export interface PlotOptions {
  /** The PNG to write. */
  file: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  logY?: boolean;
  /** Dashed vertical lines, e.g. the moment something happened. */
  markers?: Array<{ x: number; label: string }>;
  /** @default [960, 540] */
  size?: [number, number];
}

export type PlotResult = { png: string; reason?: undefined } | { png: undefined; reason: string };

let available: string | undefined | null = null; // null: not looked yet; string: why not

/** Whether gnuplot can run; installs gnuplot-nox with apt-get when missing and allowed (root). */
export function gnuplotMissing(): string | undefined {
  if (available !== null) return available;
  const has = () => spawnSync("gnuplot", ["--version"], { stdio: "ignore" }).status === 0;
  if (!has() && process.getuid?.() === 0 && spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0) {
    console.log("[plot] gnuplot is missing: apt-get install -y -qq gnuplot-nox");
    spawnSync("apt-get", ["install", "-y", "-qq", "gnuplot-nox"], { stdio: "ignore", timeout: 300_000 });
  }
  available = has() ? undefined : "gnuplot is not installed (apt-get install gnuplot-nox), so no plot was drawn";
  return available;
}

export function plotPng(opts: PlotOptions): PlotResult {
  const missing = gnuplotMissing();
  if (missing) return { png: undefined, reason: missing };
  const series = opts.series.filter((s) => s.points.length);
  if (!series.length) return { png: undefined, reason: "no points to plot" };
  const q = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  const [w, h] = opts.size ?? [960, 540];
  const lines = [
    // Data inline as datablocks: no temporary files to clean up.
    ...series.flatMap((s, i) => [`$d${i} << EOD`, ...s.points.map(([x, y]) => `${x} ${y}`), "EOD"]),
    `set terminal pngcairo size ${w},${h} font "sans,10"`,
    `set output ${q(opts.file)}`,
    `set title ${q(opts.title)}`,
    `set xlabel ${q(opts.xLabel)}`,
    `set ylabel ${q(opts.yLabel)}`,
    "set grid",
    "set key top left",
    ...(opts.logX ? ["set logscale x"] : []),
    ...(opts.logY ? ["set logscale y"] : []),
    ...(opts.markers ?? []).flatMap((m) => [
      `set arrow from ${m.x}, graph 0 to ${m.x}, graph 1 nohead dashtype 2 linecolor "gray40"`,
      `set label ${q(m.label)} at ${m.x}, graph 0.97 right offset -0.5,0 textcolor "gray30"`,
    ]),
    `plot ${series.map((s, i) => `$d${i} using 1:2 with ${s.style ?? "lines"} linewidth 2 title ${q(s.name)}`).join(", ")}`,
  ];
  try {
    execFileSync("gnuplot", [], { input: lines.join("\n") + "\n", stdio: ["pipe", "ignore", "pipe"] });
  } catch (e) {
    return { png: undefined, reason: `gnuplot failed: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim().slice(0, 300)}` };
  }
  return { png: opts.file };
}
