/**
 * P6: a whole prefix, S3 → S3: 10,000 objects of 4 KiB, on moto and on Ceph RGW, side by side with what a user would
 * otherwise run: `aws s3 sync` and `rclone sync --fast-list --checksum` (both server-side, S3 → S3; rclone's defaults
 * are in the request table), and one CopiedObject per key through one provider host (on a sample, scaled). Then the incremental re-run with 1 % of the sources changed, against the same tools. Then the
 * provider host's peak RSS at 10,000 and at 50,000 objects, a concurrency sweep, and the requests each tool sends
 * per object (through a counting proxy), which say where the time goes.
 *
 * One source bucket per server, seeded once and reused by every contender; each run copies into a fresh bucket of
 * its own, and every destination is checked against the source's listing (key, size, ETag) after every run.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { CopiedObject, CopiedPrefix, type CopiedObjectArgs, type CopiedPrefixArgs } from "pulumi-copied-object";
import { startCountingProxy, type CountingProxy } from "../test/support/countingProxy.ts";
import { MiniEngine, type Deployed } from "../test/support/engine.ts";
import { ProviderHost, registerUnderMocks, type Registration } from "../test/support/providerHost.ts";
import { repoRoot } from "../test/support/s3rig.ts";
import { s3Client } from "../test/support/s3server.ts";
import type { BenchOptions } from "./run.mts";
import { awsCliMissing, ensureRclone, RCLONE_ENV } from "./lib/peers.mts";
import { resultsDir, writeReport } from "./lib/report.mts";
import { startCeph, startMoto, type BenchS3Server } from "./lib/s3Servers.mts";
import { fmt, ratioOf, statsOf, type CaseResult, type Contender, type ContenderResult, type Figures } from "./lib/sideBySide.mts";

const KiB = 1024;
const OBJECT_BYTES = 4 * KiB;
const PREFIX = "fixtures/";
const MANIFEST = ".copied-prefix-manifest.json.gz";
/** What CopiedPrefix's default is compared with in the sweep (src/prefixPipeline.ts DEFAULT_PREFIX_CONCURRENCY). */
const DEFAULT_CONCURRENCY = 32;
/** CopiedObjects in flight: Pulumi's default is unbounded; CopiedPrefix's own default is 32 (see the notes). */
const RESOURCES_IN_FLIGHT = 32;
/** rclone's documented ways to save S3 transactions: one recursive listing, and no HEAD per object for its modtime. */
const RCLONE_TUNED = ["--fast-list", "--checksum"];
const GOALS = { vsBestTool: 0.5, vsPerObject: 1 / 20, incremental: 0.2 };

interface Config {
  count: number;
  large: number;
  sample: number;
  probe: number;
  sweep: number[];
  servers: string[];
  rssOn: string[];
  changedShare: number;
}

function config(quick: boolean): Config {
  const env = process.env;
  const list = (v: string | undefined, d: string) => (v ?? d).split(",").map((s) => s.trim()).filter(Boolean);
  return {
    count: Number(env.BENCH_P6_COUNT ?? (quick ? 100 : 10_000)),
    large: Number(env.BENCH_P6_LARGE ?? (quick ? 200 : 50_000)),
    sample: Number(env.BENCH_P6_SAMPLE ?? (quick ? 50 : 1_000)),
    probe: Number(env.BENCH_P6_PROBE ?? (quick ? 0 : 200)),
    sweep: list(env.BENCH_P6_SWEEP, quick ? "" : "8,32,64,128").map(Number),
    servers: list(env.BENCH_P6_SERVERS, quick ? "moto" : "moto,ceph"),
    rssOn: list(env.BENCH_P6_RSS_ON, quick ? "" : "ceph"),
    changedShare: 0.01,
  };
}

interface Rig {
  server: BenchS3Server;
  client: S3Client;
  host: ProviderHost;
  engine: MiniEngine;
  source: string;
  keys: string[];
  coldStartMs: number;
  seedMs: number;
  awsEnv: NodeJS.ProcessEnv;
  rcloneEnv: NodeJS.ProcessEnv;
}

/** One contender of the paired runs: a first copy into a fresh bucket, then the re-run after 1 % changed. */
interface Pair {
  name: string;
  role: Contender["role"];
  skip?: string;
  /** The per-object resources run on a sample of the keys: figures are scaled to the whole count. */
  scale?: number;
  full(dst: string, round: number): Promise<Figures>;
  incremental?(dst: string, round: number): Promise<Figures>;
  /** Runs in the first round only (a reference that does not need repeating). */
  once?: boolean;
  /** The keys (below the prefix) the destination must hold afterwards; all of them when absent. */
  holds?: (key: string) => boolean;
}

export async function run(options: BenchOptions): Promise<void> {
  const { quick } = options;
  const cfg = config(quick);
  // Each round at 10,000 objects takes minutes per server: two rounds by default keep the whole of P6 near 25 minutes.
  const rounds = Number(process.env.BENCH_P6_ROUNDS ?? Math.min(options.rounds, 2));
  const cases: CaseResult[] = [];
  const notes: string[] = [];
  const extra: string[] = [];
  const verdicts: string[] = [];
  const rss: string[] = [];
  const json: Record<string, unknown> = {};
  const t0 = Date.now();
  const report = () => {
    const tables = [...extra];
    if (rss.length) tables.unshift(["**Provider host peak RSS** (a fresh host for each run, CopiedPrefix's first copy at the default concurrency; VmHWM of the host's own process from /proc; live heap: after the run, one full GC)", "", "| server, run | objects | peak RSS (VmHWM) | RSS after | heap before GC → live heap after GC | host CPU | wall |", "|---|---:|---:|---:|---:|---:|---:|", ...rss].join("\n"));
    writeReport({
      bench: "p6",
      title: "P6: a whole prefix, S3 → S3 (10,000 objects of 4 KiB)",
      about: [
        `${cfg.count.toLocaleString("en")} objects of ${OBJECT_BYTES / KiB} KiB under \`${PREFIX}\` (in 100 "directories") in one source bucket per server, copied S3 → S3 into a fresh bucket per run. Each round runs every contender once (the order rotates each round), then changes ${(cfg.changedShare * 100).toFixed(0)} % of the sources (new bytes, same size), waits 1.5 s (\`aws s3 sync\` compares whole-second times), and runs every contender again against its own destination. Every destination is compared with the source's listing (key, size, ETag) after every run.`,
        `CopiedPrefix is one resource through Pulumi's real dynamic-provider host (warm): Check + Create the first time, Check + Diff + Update the second. The CLIs are whole processes copying server-side: \`aws s3 sync\` with its defaults; \`rclone sync ${RCLONE_TUNED.join(" ")}\` (rclone's documented way to save S3 transactions: with its defaults it lists each directory apart, HEADs every object, and re-copied every object on the re-run; see the request table). "CopiedObject × N" is one resource per key through the same host, ${RESOURCES_IN_FLIGHT} in flight (Check + Create, then Check + Diff + Update for each); it runs on the first ${cfg.sample.toLocaleString("en")} keys (which hold exactly 1 % of the changes) and **its times are scaled by ${cfg.count / cfg.sample}** to ${cfg.count.toLocaleString("en")}. "Bare CopyObjects" is the floor, first round only: one CopyObject per key from one warm SDK client in the bench process, ${DEFAULT_CONCURRENCY} in flight, nothing listed or recorded.`,
        ...notes.map((n) => `\n${n}`),
      ],
      cases,
      extraMarkdown: tables,
      verdicts: [...verdicts, `P6 took ${((Date.now() - t0) / 60_000).toFixed(1)} minutes (${rounds} round${rounds > 1 ? "s" : ""} per server).`],
    });
    if (Object.keys(json).length) fs.writeFileSync(path.join(resultsDir, "p6-runs.json"), JSON.stringify(json, null, 2) + "\n");
  };
  for (const kind of cfg.servers) {
    const started = kind === "ceph" ? await startCeph() : await startMoto();
    if (typeof started === "string") {
      notes.push(`Ceph RGW: not run, ${started}.`);
      continue;
    }
    const rig = await startRig(started, cfg.count);
    try {
      notes.push(
        `${kind}: seeding ${cfg.count.toLocaleString("en")} sources took ${fmt(rig.seedMs, "ms")} (64 PUTs in flight); the provider host's cold start (spawn, Configure, and a first small CopiedPrefix and CopiedObject, which load the package and the S3 SDK) took ${fmt(rig.coldStartMs, "ms")} and is not in the figures.`,
      );
      const pairs = contenders(rig, cfg);
      const { first, again, runs } = await paired(rig, pairs, rounds, cfg, kind);
      cases.push(first, again);
      json[`${kind}Runs`] = runs;
      verdicts.push(...judge(kind, first, again, cfg));
      extra.push(cpuTable(kind, first, again, cfg));
      report();
      if (cfg.probe && kind === cfg.servers[0]) extra.push(await probe(rig, cfg));
      if (cfg.sweep.length) extra.push(await sweep(rig, cfg, kind));
      report();
      if (cfg.rssOn.includes(kind)) rss.push(...(await peakRss(rig, cfg)));
      report();
    } finally {
      await rig.host.stop();
      await started.stop();
    }
  }
  report();
}

/** Where the time goes: CPU per object of each side, medians over the rounds. */
function cpuTable(kind: string, first: CaseResult, again: CaseResult, cfg: Config): string {
  const per = (x: ContenderResult | undefined, k: string) => (x?.stats[k] ? `${(x.stats[k].median / cfg.count).toFixed(2)} ms` : "—");
  const rows = first.contenders.filter((x) => x.stats.ms).map((x) => {
    const y = again.contenders.find((a) => a.name === x.name);
    const client = x.stats.hostCpuMs ? "hostCpuMs" : x.stats.cliCpuMs ? "cliCpuMs" : "clientCpuMs";
    const who = x.stats.hostCpuMs ? "provider host" : x.stats.cliCpuMs ? "CLI process" : "bench process";
    return `| ${x.name} | ${Math.round(cfg.count / (x.stats.ms.median / 1000))}/s | ${who}: ${per(x, client)} | ${per(x, "serverCpuMs")} | ${y?.stats.ms ? fmt(y.stats.ms.median, "ms") : "—"} | ${per(y, client)} | ${per(y, "serverCpuMs")} |`;
  });
  return [
    `**Where the time goes: ${kind}** (CPU per object, medians; ${cfg.count.toLocaleString("en")} objects; the machine has 2 vCPUs shared by the server, the client and other work)`,
    "",
    "| contender | first copy: objects/s | client CPU per object | server CPU per object | re-run: wall | client CPU per object | server CPU per object |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}

async function startRig(server: BenchS3Server, count: number): Promise<Rig> {
  const client = s3Client(server);
  const source = `p6-src-${randomBytes(3).toString("hex")}`;
  await client.send(new CreateBucketCommand({ Bucket: source }));
  const keys = Array.from({ length: count }, (_, i) => keyOf(i));
  console.log(`[p6] seeding ${count} objects of ${OBJECT_BYTES} B on ${server.kind}`);
  const seedMs = await timed(() => seed(client, source, keys));
  console.log(`[p6] seeded in ${fmt(seedMs, "ms")}`);
  let host!: ProviderHost;
  let engine!: MiniEngine;
  const coldStartMs = await timed(async () => {
    ({ host, engine } = await startHost(server));
    await warmUp(engine, client, server);
  });
  return {
    server, client, host, engine, source, keys, coldStartMs, seedMs,
    awsEnv: { AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_DEFAULT_REGION: server.region, AWS_EC2_METADATA_DISABLED: "true" },
    rcloneEnv: {
      ...RCLONE_ENV,
      RCLONE_CONFIG_S3_TYPE: "s3", RCLONE_CONFIG_S3_PROVIDER: server.kind === "ceph" ? "Ceph" : "Other",
      RCLONE_CONFIG_S3_ACCESS_KEY_ID: server.accessKeyId, RCLONE_CONFIG_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
      RCLONE_CONFIG_S3_ENDPOINT: server.endpoint, RCLONE_CONFIG_S3_REGION: server.region,
    },
  };
}

async function startHost(server: BenchS3Server, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ host: ProviderHost; engine: MiniEngine }> {
  const host = await ProviderHost.start({
    cwd: repoRoot,
    callTimeoutMs: 3_600_000,
    env: { AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_REGION: server.region, AWS_EC2_METADATA_DISABLED: "true", ...extraEnv },
  });
  await host.configure();
  return { host, engine: new MiniEngine(host) };
}

/** One small CopiedPrefix and one CopiedObject, up and destroyed, so the package and the SDK are loaded. */
async function warmUp(engine: MiniEngine, client: S3Client, server: BenchS3Server): Promise<void> {
  const bucket = `p6-warm-${randomBytes(3).toString("hex")}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: "in/a", Body: "warm-up" }));
  const prefix = await registerPrefix({ source: at(server, bucket, "in/"), destination: at(server, bucket, "out/") });
  await engine.destroy((await engine.up(prefix)).deployed);
  const [object] = await registerUnderMocks(() => new CopiedObject("warm", { source: atKey(server, bucket, "in/a"), destination: atKey(server, bucket, "one") }));
  await engine.destroy((await engine.up(object)).deployed);
}

function contenders(rig: Rig, cfg: Config): Pair[] {
  const { server, source } = rig;
  const verifyPrefix = (props: Record<string, unknown>, copied: number) => {
    if (props.copyStatus !== "success" || props.copiedCount !== copied) throw new Error(`CopiedPrefix: ${String(props.copyStatus)}, copied ${String(props.copiedCount)} (expected ${copied})`);
  };
  const prefixRuns = new Map<string, Deployed>();
  const changed = Math.round(cfg.count * cfg.changedShare);
  const sampled = new Set(rig.keys.slice(0, cfg.sample).map((k) => k.slice(PREFIX.length)));
  const objectRuns = new Map<string, Deployed[]>();
  let objectRegs: Registration[] | undefined;
  const cli = (cmd: string, args: (dst: string) => string[], env: NodeJS.ProcessEnv) => async (dst: string) => {
    const r = await runMeasured(cmd, args(dst), env);
    return { ms: r.ms, cliCpuMs: r.cpuMs, cliPeakRssBytes: r.peakRssBytes };
  };
  const aws = (dst: string) => ["s3", "sync", `s3://${source}/${PREFIX}`, `s3://${dst}/${PREFIX}`, "--endpoint-url", server.endpoint, "--only-show-errors"];
  const rclone = (dst: string) => ["sync", `s3:${source}/${PREFIX.slice(0, -1)}`, `s3:${dst}/${PREFIX.slice(0, -1)}`, ...RCLONE_TUNED];
  return [
    {
      name: "CopiedPrefix", role: "ours",
      async full(dst) {
        const reg = await registerPrefix({ source: at(server, source, PREFIX), destination: at(server, dst, PREFIX) });
        const cpu0 = hostCpuMs(rig.host.pid);
        const t0 = performance.now();
        const inputs = await rig.engine.check(reg);
        const t1 = performance.now();
        const created = await rig.host.create(reg, inputs);
        const ms = performance.now() - t0;
        verifyPrefix(created.properties, cfg.count);
        prefixRuns.set(dst, { reg, id: created.id, inputs, outputs: created.properties });
        return { ms, checkMs: t1 - t0, createMs: ms - (t1 - t0), hostCpuMs: hostCpuMs(rig.host.pid) - cpu0 };
      },
      async incremental(dst) {
        const previous = prefixRuns.get(dst)!;
        const cpu0 = hostCpuMs(rig.host.pid);
        const t0 = performance.now();
        const inputs = await rig.engine.check(previous.reg, previous);
        const t1 = performance.now();
        const diff = await rig.host.diff(previous.reg, previous.id, previous.outputs, inputs);
        const t2 = performance.now();
        if (diff.changes !== "some" || diff.replaces.length) throw new Error(`CopiedPrefix: diff planned ${diff.changes} (replaces ${diff.replaces.join(",")}), not an update`);
        const updated = await rig.host.update(previous.reg, previous.id, previous.outputs, inputs);
        const ms = performance.now() - t0;
        verifyPrefix(updated.properties, changed);
        return { ms, checkMs: t1 - t0, diffMs: t2 - t1, updateMs: ms - (t2 - t0), hostCpuMs: hostCpuMs(rig.host.pid) - cpu0 };
      },
    },
    {
      name: "aws s3 sync", role: "peer", skip: awsCliMissing(),
      full: cli("aws", aws, rig.awsEnv),
      incremental: cli("aws", aws, rig.awsEnv),
    },
    {
      name: `rclone sync ${RCLONE_TUNED.join(" ")}`, role: "peer", skip: ensureRclone(),
      full: cli("rclone", rclone, rig.rcloneEnv),
      incremental: cli("rclone", rclone, rig.rcloneEnv),
    },
    {
      name: `CopiedObject × ${cfg.count.toLocaleString("en")} (${cfg.sample.toLocaleString("en")} run, × ${cfg.count / cfg.sample})`, role: "variant",
      scale: cfg.count / cfg.sample,
      holds: (k) => sampled.has(k),
      async full(dst) {
        objectRegs ??= await registerUnderMocks(() => rig.keys.slice(0, cfg.sample).map((key, i) => new CopiedObject(`copy-${i}`, { source: atKey(server, source, key), destination: atKey(server, "DESTINATION", key) })));
        const regs = objectRegs.map((r) => retarget(r, dst));
        const cpu0 = hostCpuMs(rig.host.pid);
        const deployed: Deployed[] = new Array(regs.length);
        const ms = await timed(() => pool(regs.length, RESOURCES_IN_FLIGHT, async (i) => void (deployed[i] = (await rig.engine.up(regs[i])).deployed)));
        objectRuns.set(dst, deployed);
        return { ms, hostCpuMs: hostCpuMs(rig.host.pid) - cpu0 };
      },
      async incremental(dst) {
        const previous = objectRuns.get(dst)!;
        const cpu0 = hostCpuMs(rig.host.pid);
        let updates = 0;
        const ms = await timed(() => pool(previous.length, RESOURCES_IN_FLIGHT, async (i) => {
          const { step } = await rig.engine.up(previous[i].reg, previous[i]);
          if (step === "update") updates++;
          else if (step !== "same") throw new Error(`CopiedObject: ${step}, not an update`);
        }));
        if (updates !== Math.round(cfg.sample * cfg.changedShare)) throw new Error(`CopiedObject: ${updates} updated, not ${Math.round(cfg.sample * cfg.changedShare)}`);
        return { ms, hostCpuMs: hostCpuMs(rig.host.pid) - cpu0 };
      },
    },
    {
      name: `bare CopyObjects, ${DEFAULT_CONCURRENCY} in flight (floor)`, role: "variant", once: true,
      async full(dst) {
        const cpu0 = process.cpuUsage();
        const ms = await timed(() => pool(rig.keys.length, DEFAULT_CONCURRENCY, (i) => rig.client.send(new CopyObjectCommand({ Bucket: dst, Key: rig.keys[i], CopySource: `${source}/${encodeURIComponent(rig.keys[i]).replace(/%2F/g, "/")}` })).then(() => undefined)));
        const cpu = process.cpuUsage(cpu0);
        return { ms, clientCpuMs: (cpu.user + cpu.system) / 1000 };
      },
    },
  ];
}

/**
 * The rounds: every contender's first copy (rotating order), then 1 % of the sources changed, then every
 * contender's re-run against its own destination. Destinations are checked and removed at the end of each round.
 */
async function paired(rig: Rig, pairs: Pair[], rounds: number, cfg: Config, kind: string): Promise<{ first: CaseResult; again: CaseResult; runs: unknown }> {
  const active = pairs.filter((p) => !p.skip);
  const results = {
    full: new Map(pairs.map((p) => [p.name, { runs: [] as Figures[], failures: [] as string[] }])),
    incremental: new Map(pairs.map((p) => [p.name, { runs: [] as Figures[], failures: [] as string[] }])),
  };
  const every = Math.round(1 / cfg.changedShare);
  for (let round = 0; round < rounds; round++) {
    const these = active.filter((p) => round === 0 || !p.once);
    const order = these.map((_, i) => these[(i + round) % these.length]);
    const dsts = new Map<string, string>();
    const line: string[] = [];
    const attempt = async (phase: "full" | "incremental", p: Pair, work: () => Promise<Figures>) => {
      const r = results[phase].get(p.name)!;
      const serverCpu0 = serverCpuMs(rig.server);
      try {
        const figures = await work();
        figures.serverCpuMs = serverCpuMs(rig.server) - serverCpu0;
        if (p.scale) for (const k of Object.keys(figures)) figures[k] *= p.scale;
        await verify(rig, dsts.get(p.name)!, p.holds);
        r.runs.push(figures);
        line.push(`${p.name} ${fmt(figures.ms, "ms")}`);
      } catch (e) {
        const message = (e as Error).message.split("\n")[0].slice(0, 300);
        r.failures.push(message);
        line.push(`${p.name} FAILED (${message.slice(0, 160)})`);
        dsts.delete(p.name);
      }
    };
    for (const p of order) {
      const dst = `p6-${round}-${p.name.split(" ")[0].toLowerCase()}-${randomBytes(2).toString("hex")}`;
      await rig.client.send(new CreateBucketCommand({ Bucket: dst }));
      dsts.set(p.name, dst);
      await attempt("full", p, () => p.full(dst, round));
    }
    console.log(`[p6 ${kind}] round ${round + 1}/${rounds}, first copy: ${line.splice(0).join(" | ")}`);
    // New bytes, same size, for the keys i ≡ round (mod 100): 1 % of all, and 1 % of CopiedObject's sample.
    await sleep(1500);
    await pool(rig.keys.length, 64, async (i) => {
      if (i % every === round % every) await rig.client.send(new PutObjectCommand({ Bucket: rig.source, Key: rig.keys[i], Body: randomBytes(OBJECT_BYTES) }));
    });
    for (const p of order) if (p.incremental && dsts.has(p.name)) await attempt("incremental", p, () => p.incremental!(dsts.get(p.name)!, round));
    console.log(`[p6 ${kind}] round ${round + 1}/${rounds}, after 1 % changed: ${line.join(" | ")}`);
    for (const dst of dsts.values()) await removeBucket(rig.client, dst).catch(() => undefined);
    await rig.server.collectGarbage().catch(() => undefined);
  }
  const caseOf = (phase: "full" | "incremental", title: string, names: Pair[]): CaseResult => {
    const contenders: ContenderResult[] = names.map((p) => {
      const r = results[phase].get(p.name)!;
      return { name: p.name, role: p.role, skip: p.skip, runs: r.runs, failures: r.failures, stats: statsOf(r.runs) };
    });
    return { bench: "p6", case: title, rounds, metric: "ms", contenders, ratio: ratioOf(contenders, "ms"), notes: [] };
  };
  const n = cfg.count.toLocaleString("en");
  return {
    first: caseOf("full", `${kind}, ${n} objects, first copy`, pairs),
    again: caseOf("incremental", `${kind}, ${n} objects, re-run after ${Math.round(cfg.count * cfg.changedShare)} changed`, pairs.filter((p) => p.incremental)),
    runs: { full: Object.fromEntries(results.full), incremental: Object.fromEntries(results.incremental) },
  };
}

function judge(kind: string, first: CaseResult, again: CaseResult, cfg: Config): string[] {
  const med = (c: CaseResult, prefix: string) => c.contenders.find((x) => x.name.startsWith(prefix))?.stats.ms?.median;
  const ours = med(first, "CopiedPrefix");
  const oursAgain = med(again, "CopiedPrefix");
  const perObject = med(first, "CopiedObject");
  const perObjectAgain = med(again, "CopiedObject");
  const out: string[] = [];
  const verdict = (ok: boolean) => (ok ? "met" : "not met");
  if (first.ratio) out.push(`${kind}, first copy: CopiedPrefix ÷ best tool (${first.ratio.bestPeer}) = **${first.ratio.value.toFixed(2)}×** (goal ≤ ${GOALS.vsBestTool}×): ${verdict(first.ratio.value <= GOALS.vsBestTool)}`);
  if (again.ratio) out.push(`${kind}, re-run: CopiedPrefix ÷ best tool (${again.ratio.bestPeer}) = **${again.ratio.value.toFixed(2)}×**`);
  if (ours && perObject) out.push(`${kind}, first copy: CopiedPrefix is **${(perObject / ours).toFixed(1)}×** faster than ${cfg.count.toLocaleString("en")} CopiedObjects (scaled from ${cfg.sample.toLocaleString("en")}; goal ≥ 20×): ${verdict(perObject / ours >= 20)}`);
  if (oursAgain && perObjectAgain) out.push(`${kind}, re-run: CopiedPrefix is **${(perObjectAgain / oursAgain).toFixed(1)}×** faster than the CopiedObjects`);
  if (ours && oursAgain) out.push(`${kind}: CopiedPrefix's re-run ÷ its first copy = **${(oursAgain / ours).toFixed(2)}×** (goal ≤ ${GOALS.incremental}×): ${verdict(oursAgain / ours <= GOALS.incremental)}`);
  return out;
}

/** Requests per object of each tool, first copy and re-run, counted by a proxy in front of the server. */
async function probe(rig: Rig, cfg: Config): Promise<string> {
  const n = cfg.probe;
  const changed = Math.max(1, Math.round(n * cfg.changedShare));
  const src = `p6-probe-${randomBytes(3).toString("hex")}`;
  await rig.client.send(new CreateBucketCommand({ Bucket: src }));
  const keys = Array.from({ length: n }, (_, i) => keyOf(i));
  await seed(rig.client, src, keys);
  const proxy = await startCountingProxy(rig.server.endpoint);
  const via = { ...rig.server, endpoint: proxy.endpoint } as BenchS3Server;
  const rows: string[] = [];
  try {
    const tools: Array<{ name: string; first(dst: string): Promise<unknown>; again(dst: string): Promise<unknown> }> = [];
    let prefix: Deployed | undefined;
    tools.push({
      name: "CopiedPrefix",
      async first(dst) {
        prefix = (await rig.engine.up(await registerPrefix({ source: at(via, src, PREFIX), destination: at(via, dst, PREFIX) }))).deployed;
      },
      async again() {
        await rig.engine.up(prefix!.reg, prefix);
      },
    });
    const awsArgs = (dst: string) => ["s3", "sync", `s3://${src}/${PREFIX}`, `s3://${dst}/${PREFIX}`, "--endpoint-url", proxy.endpoint, "--only-show-errors"];
    const rcloneArgs = (dst: string) => ["sync", `s3:${src}/${PREFIX.slice(0, -1)}`, `s3:${dst}/${PREFIX.slice(0, -1)}`];
    const rcloneEnv = { ...rig.rcloneEnv, RCLONE_CONFIG_S3_ENDPOINT: proxy.endpoint };
    if (!awsCliMissing()) tools.push({ name: "aws s3 sync", first: (d) => runMeasured("aws", awsArgs(d), rig.awsEnv), again: (d) => runMeasured("aws", awsArgs(d), rig.awsEnv) });
    if (!ensureRclone()) {
      tools.push({ name: "rclone sync", first: (d) => runMeasured("rclone", rcloneArgs(d), rcloneEnv), again: (d) => runMeasured("rclone", rcloneArgs(d), rcloneEnv) });
      const tuned = (d: string) => [...rcloneArgs(d), ...RCLONE_TUNED];
      tools.push({ name: `rclone sync ${RCLONE_TUNED.join(" ")}`, first: (d) => runMeasured("rclone", tuned(d), rcloneEnv), again: (d) => runMeasured("rclone", tuned(d), rcloneEnv) });
    }
    let objects: Deployed[] = [];
    tools.push({
      name: "CopiedObject per key",
      async first(dst) {
        const regs = await registerUnderMocks(() => keys.map((key, i) => new CopiedObject(`probe-${i}`, { source: atKey(via, src, key), destination: atKey(via, dst, key) })));
        objects = new Array(regs.length);
        await pool(regs.length, RESOURCES_IN_FLIGHT, async (i) => void (objects[i] = (await rig.engine.up(regs[i])).deployed));
      },
      async again() {
        await pool(objects.length, RESOURCES_IN_FLIGHT, async (i) => void (await rig.engine.up(objects[i].reg, objects[i])));
      },
    });
    const dsts = new Map<string, string>();
    const counted = new Map<string, { first: Map<string, number>; again: Map<string, number> }>();
    for (const t of tools) {
      const dst = `p6-probe-${t.name.split(" ")[0].toLowerCase()}-${randomBytes(2).toString("hex")}`;
      await rig.client.send(new CreateBucketCommand({ Bucket: dst }));
      dsts.set(t.name, dst);
      proxy.seen.length = 0;
      await t.first(dst);
      counted.set(t.name, { first: tally(proxy, src, dst), again: new Map() });
    }
    await sleep(1500);
    for (let i = 0; i < changed; i++) await rig.client.send(new PutObjectCommand({ Bucket: src, Key: keys[i * Math.floor(n / changed)], Body: randomBytes(OBJECT_BYTES) }));
    for (const t of tools) {
      proxy.seen.length = 0;
      await t.again(dsts.get(t.name)!);
      counted.get(t.name)!.again = tally(proxy, src, dsts.get(t.name)!);
    }
    const show = (m: Map<string, number>) => {
      const total = [...m.values()].reduce((a, b) => a + b, 0);
      const parts = [...m].sort((a, b) => b[1] - a[1]).map(([op, c]) => `${c} ${op}`);
      return `**${total}** (${(total / n).toFixed(2)} per object): ${parts.join(", ")}`;
    };
    for (const t of tools) rows.push(`| ${t.name} | ${show(counted.get(t.name)!.first)} | ${show(counted.get(t.name)!.again)} |`);
    for (const dst of [...dsts.values(), src]) await removeBucket(rig.client, dst).catch(() => undefined);
  } finally {
    await proxy.close();
  }
  return [
    `**Requests per tool** (${rig.server.kind}, ${n} objects through a counting proxy; the re-run after ${changed} changed)`,
    "",
    "| tool | first copy | re-run |",
    "|---|---|---|",
    ...rows,
  ].join("\n");
}

/** Requests seen by the proxy, by S3 operation and side (source or destination bucket). */
function tally(proxy: CountingProxy, src: string, dst: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of proxy.seen) {
    const url = new URL(r.url, "http://x");
    const [bucket, ...rest] = url.pathname.split("/").filter(Boolean);
    const key = rest.length > 0;
    const q = url.searchParams;
    let op: string;
    if (r.method === "GET" && !key) op = q.has("uploads") ? "ListMultipartUploads" : q.has("versions") ? "ListObjectVersions" : q.has("location") ? "GetBucketLocation" : q.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
    else if (r.method === "PUT" && key && r.headers["x-amz-copy-source"]) op = "CopyObject";
    else if (r.method === "PUT" && key) op = q.has("uploadId") ? "UploadPart" : q.has("tagging") ? "PutObjectTagging" : "PutObject";
    else if (r.method === "POST" && key) op = q.has("uploads") ? "CreateMultipartUpload" : "CompleteMultipartUpload";
    else if (r.method === "GET" && key) op = q.has("tagging") ? "GetObjectTagging" : "GetObject";
    else if (r.method === "HEAD") op = key ? "HeadObject" : "HeadBucket";
    else if (r.method === "DELETE") op = "DeleteObject";
    else op = `${r.method} ${key ? "object" : "bucket"}`;
    const side = bucket === src ? "src" : bucket === dst ? "dst" : "other";
    const name = `${op} (${side})`;
    m.set(name, (m.get(name) ?? 0) + 1);
  }
  return m;
}

/**
 * CopiedPrefix's first copy at several concurrencies, each into a fresh bucket: a fifth of the keys (the directories
 * d00–d19, by `include`), so that four settings fit in the time; the whole source is still listed.
 */
async function sweep(rig: Rig, cfg: Config, kind: string): Promise<string> {
  const rounds = Number(process.env.BENCH_P6_SWEEP_ROUNDS ?? 1);
  const include = ["d0*/**", "d1*/**"];
  const selected = rig.keys.filter((k) => /^d[01]/.test(k.slice(PREFIX.length))).length;
  const runs = new Map<number, Figures[]>(cfg.sweep.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) {
    const order = cfg.sweep.map((_, i) => cfg.sweep[(i + round) % cfg.sweep.length]);
    const line: string[] = [];
    for (const concurrency of order) {
      const dst = `p6-sweep-${concurrency}-${randomBytes(2).toString("hex")}`;
      await rig.client.send(new CreateBucketCommand({ Bucket: dst }));
      const reg = await registerPrefix({ source: at(rig.server, rig.source, PREFIX), destination: at(rig.server, dst, PREFIX), concurrency, include });
      const cpu0 = hostCpuMs(rig.host.pid);
      const s0 = serverCpuMs(rig.server);
      const { ms, out } = await timedValue(() => rig.engine.up(reg));
      if (out.deployed.outputs.objectCount !== selected) throw new Error(`sweep: held ${String(out.deployed.outputs.objectCount)}, not ${selected}`);
      runs.get(concurrency)!.push({ ms, hostCpuMs: hostCpuMs(rig.host.pid) - cpu0, serverCpuMs: serverCpuMs(rig.server) - s0 });
      line.push(`${concurrency}: ${fmt(ms, "ms")}`);
      await removeBucket(rig.client, dst).catch(() => undefined);
    }
    console.log(`[p6 ${kind}] sweep round ${round + 1}/${rounds}: ${line.join(" | ")}`);
  }
  await rig.server.collectGarbage().catch(() => undefined);
  const rows = cfg.sweep.map((c) => {
    const s = statsOf(runs.get(c)!);
    const rate = s.ms ? `${Math.round(selected / (s.ms.median / 1000))}/s` : "—";
    return `| ${c === DEFAULT_CONCURRENCY ? `**${c}** (default)` : c} | ${fmt(s.ms?.min, "ms")} | **${fmt(s.ms?.median, "ms")}** | ${fmt(s.ms?.max, "ms")} | ${rate} | ${fmt(s.hostCpuMs?.median, "ms")} | ${fmt(s.serverCpuMs?.median, "ms")} |`;
  });
  return [
    `**Concurrency sweep: CopiedPrefix, ${kind}, first copy of ${selected.toLocaleString("en")} of the ${cfg.count.toLocaleString("en")} objects** (\`include: ${JSON.stringify(include)}\`; ${rounds} round${rounds > 1 ? "s" : ""}, rotating; Check + Create on the warm host)`,
    "",
    "| concurrency | min | median | max | objects/s | host CPU | server CPU |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}

/** A fresh host per run, its peak RSS: idle, a first copy of `count` objects, then of `large` objects. */
async function peakRss(rig: Rig, cfg: Config): Promise<string[]> {
  const rows: string[] = [];
  const probeFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "p6-heap-")), "heap.json");
  const probeScript = path.join(repoRoot, "bench/lib/heapProbe.cjs");
  const measure = async (label: string, count: number, work?: (engine: MiniEngine) => Promise<unknown>) => {
    const { host, engine } = await startHost(rig.server, { NODE_OPTIONS: `--require ${probeScript}`, BENCH_HEAP_PROBE_FILE: probeFile });
    try {
      const cpu0 = hostCpuMs(host.pid);
      const ms = work ? await timed(() => work(engine)) : 0;
      const m = memory(host.pid);
      fs.rmSync(probeFile, { force: true });
      process.kill(host.pid, "SIGUSR2");
      for (let i = 0; i < 50 && !fs.existsSync(probeFile); i++) await sleep(100);
      const heap = fs.existsSync(probeFile) ? (JSON.parse(fs.readFileSync(probeFile, "utf8")) as { before: NodeJS.MemoryUsage; after: NodeJS.MemoryUsage }) : undefined;
      const live = heap ? `${fmt(heap.before.heapUsed, "rss")} → **${fmt(heap.after.heapUsed, "rss")}** (heap reserved ${fmt(heap.after.heapTotal, "rss")})` : "—";
      rows.push(`| ${rig.server.kind}, ${label} | ${count ? count.toLocaleString("en") : "—"} | **${fmt(m.hwm, "rss")}** | ${fmt(m.rss, "rss")} | ${live} | ${work ? fmt(hostCpuMs(host.pid) - cpu0, "ms") : "—"} | ${work ? fmt(ms, "ms") : "—"} |`);
      console.log(`[p6 ${rig.server.kind}] peak RSS, ${label}: ${fmt(m.hwm, "rss")} (${count} objects, ${fmt(ms, "ms")}); live heap ${heap ? fmt(heap.after.heapUsed, "rss") : "?"}`);
    } finally {
      await host.stop();
    }
  };
  const firstCopy = (count: number) => async (engine: MiniEngine) => {
    const dst = `p6-rss-${count}-${randomBytes(2).toString("hex")}`;
    await rig.client.send(new CreateBucketCommand({ Bucket: dst }));
    const reg = await registerPrefix({ source: at(rig.server, rig.source, PREFIX), destination: at(rig.server, dst, PREFIX) });
    const { deployed } = await engine.up(reg);
    if (deployed.outputs.objectCount !== count) throw new Error(`held ${String(deployed.outputs.objectCount)}, not ${count}`);
    await removeBucket(rig.client, dst).catch(() => undefined);
  };
  await measure("idle host (Configure only)", 0);
  await measure("first copy", cfg.count, firstCopy(cfg.count));
  // The source grows to `large`: the first `count` keys stay, the rest are new.
  const more = Array.from({ length: cfg.large - cfg.count }, (_, i) => keyOf(cfg.count + i));
  console.log(`[p6] seeding ${more.length} more objects for the peak-RSS run at ${cfg.large}`);
  const seedMs = await timed(() => seed(rig.client, rig.source, more));
  console.log(`[p6] seeded in ${fmt(seedMs, "ms")}`);
  await measure("first copy", cfg.large, firstCopy(cfg.large));
  return rows;
}

// ——— helpers ———

function keyOf(i: number): string {
  return `${PREFIX}d${String(i % 100).padStart(2, "0")}/obj-${String(i).padStart(6, "0")}.bin`;
}

async function seed(client: S3Client, bucket: string, keys: string[]): Promise<void> {
  await pool(keys.length, 64, (i) => client.send(new PutObjectCommand({ Bucket: bucket, Key: keys[i], Body: randomBytes(OBJECT_BYTES) })).then(() => undefined));
}

function at(server: Pick<BenchS3Server, "endpoint">, bucket: string, prefix: string): CopiedPrefixArgs["source"] {
  return { s3: { bucket, prefix, endpoint: server.endpoint, forcePathStyle: true } };
}

function atKey(server: Pick<BenchS3Server, "endpoint">, bucket: string, key: string): CopiedObjectArgs["source"] {
  return { s3: { bucket, key, endpoint: server.endpoint, forcePathStyle: true } };
}

async function registerPrefix(args: CopiedPrefixArgs): Promise<Registration> {
  const [reg] = await registerUnderMocks(() => new CopiedPrefix("prefix", args));
  return reg;
}

function retarget(reg: Registration, bucket: string): Registration {
  const inputs = structuredClone(reg.inputs) as { destination: { s3: Record<string, unknown> } };
  inputs.destination.s3.bucket = bucket;
  return { ...reg, inputs };
}

/** Runs `one(0 … count-1)`, `parallel` at a time; the first failure fails the whole. */
async function pool(count: number, parallel: number, one: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, async () => {
    while (next < count) await one(next++);
  }));
}

async function timedValue<T>(fn: () => Promise<T>): Promise<{ ms: number; out: T }> {
  const t0 = performance.now();
  const out = await fn();
  return { ms: performance.now() - t0, out };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Every object under the prefix has the source's size and ETag, and nothing else is there (the manifest aside). */
async function verify(rig: Rig, dst: string, holds?: (key: string) => boolean): Promise<void> {
  const [want, got] = await Promise.all([listing(rig.client, rig.source, PREFIX), listing(rig.client, dst, PREFIX)]);
  got.delete(MANIFEST);
  let wrong = 0;
  let expected = 0;
  let example = "";
  for (const [key, v] of want) {
    if (holds && !holds(key)) continue;
    expected++;
    if (got.get(key) !== v) {
      wrong++;
      example ||= `${key}: ${got.get(key) ?? "missing"} ≠ ${v}`;
    }
  }
  if (wrong || got.size !== expected) throw new Error(`${dst} differs from the source: ${wrong} wrong of ${expected}, ${got.size} held (${example})`);
}

async function listing(client: S3Client, bucket: string, prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let ContinuationToken: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
    for (const o of page.Contents ?? []) out.set(o.Key!.slice(prefix.length), `${o.Size}:${(o.ETag ?? "").replace(/"/g, "")}`);
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return out;
}

async function removeBucket(client: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (!keys.length) break;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/**
 * Runs a command to the end: wall time, and from the kernel (getrusage of the waited child, through a small python
 * wrapper) its CPU time and peak RSS.
 */
async function runMeasured(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; cpuMs: number; peakRssBytes: number }> {
  const wrapper = "import resource,subprocess,sys\nr=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.PIPE)\nsys.stderr.buffer.write(r.stderr[-3000:])\nu=resource.getrusage(resource.RUSAGE_CHILDREN)\nprint(u.ru_maxrss,u.ru_utime+u.ru_stime)\nsys.exit(r.returncode)";
  const merged = { ...process.env, ...env };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  const t0 = performance.now();
  const child = spawn("python3", ["-c", wrapper, cmd, ...args], { env: merged, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`${cmd} exited ${code}: ${err.trim().split("\n").slice(-3).join(" / ")}`);
  const [rss, cpu] = out.trim().split(/\s+/).map(Number);
  return { ms, cpuMs: cpu * 1000, peakRssBytes: rss * 1024 };
}

/** User + system CPU time of a process, from /proc/<pid>/stat (clock ticks, 100 per second on Linux). */
function cpuOf(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

const hostCpuMs = cpuOf;

function serverCpuMs(server: BenchS3Server): number {
  return server.pids().reduce((sum, pid) => sum + cpuOf(pid), 0);
}

/** VmHWM (peak resident set) and VmRSS of a process, in bytes, from /proc. */
function memory(pid: number): { hwm: number; rss: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { hwm: kib("VmHWM"), rss: kib("VmRSS") };
}
