/**
 * P4: overhead per resource. N small S3 → S3 copies (1 KiB, distinct objects) through ONE provider
 * host, each as the engine drives it: Check, then Create. Real servers: moto, and Pulumi's real
 * dynamic-provider host. The floor is the same storage requests the provider sends for one copy
 * (listed by a counting proxy at the start of the run, and checked to match), sent directly from
 * this process with one warm SDK client. Overhead per resource = ours − floor (medians).
 *
 * "Before the client cache" is measured in the same run, by a second host started with
 * COPIED_OBJECT_NO_CLIENT_CACHE=1 (see src/stores/clientCache.ts).
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { CopiedObject } from "pulumi-copied-object";
import { startCountingProxy } from "../test/support/countingProxy.ts";
import { ProviderHost, registerUnderMocks, type Registration } from "../test/support/providerHost.ts";
import { repoRoot } from "../test/support/s3rig.ts";
import { s3Client, startS3Server, type S3Server } from "../test/support/s3server.ts";
import type { BenchOptions } from "./run.mts";
import { writeReport } from "./lib/report.mts";
import { fmt, median, sideBySide, type CaseResult, type Contender, type Figures } from "./lib/sideBySide.mts";

const GOAL_MS = 20;
const OBJECT_BYTES = 1024;
const PARALLEL = 10;
type Props = Record<string, unknown>;

export async function run({ rounds, quick }: BenchOptions): Promise<void> {
  const count = quick ? 40 : Number(process.env.BENCH_P4_COUNT ?? 200);
  const s3 = await startS3Server();
  const hosts: ProviderHost[] = [];
  try {
    const client = s3Client(s3);
    const [srcBucket, dstBucket] = [`p4-src-${randomBytes(4).toString("hex")}`, `p4-dst-${randomBytes(4).toString("hex")}`];
    for (const Bucket of [srcBucket, dstBucket]) await client.send(new CreateBucketCommand({ Bucket }));
    const keys = Array.from({ length: count }, (_, i) => `src/${String(i).padStart(4, "0")}.bin`);
    for (let i = 0; i < keys.length; i += 20) {
      await Promise.all(keys.slice(i, i + 20).map((Key) => client.send(new PutObjectCommand({ Bucket: srcBucket, Key, Body: randomBytes(OBJECT_BYTES) }))));
    }
    console.log(`[p4] ${count} source objects of ${OBJECT_BYTES} B on moto`);

    // Registered once, as a program of `count` resources would register them; each measured
    // run only moves the destinations to fresh keys.
    const regs = await registerUnderMocks(() =>
      keys.map((key, i) => new CopiedObject(`copy-${i}`, {
        source: { s3: { bucket: srcBucket, key, endpoint: s3.endpoint, forcePathStyle: true } },
        destination: { s3: { bucket: dstBucket, key: `dst/${i}`, endpoint: s3.endpoint, forcePathStyle: true } },
      })),
    );
    const env = {
      AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region, AWS_EC2_METADATA_DISABLED: "true",
      ...(process.env.BENCH_P4_CPU_PROF ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_P4_CPU_PROF}` } : {}),
    };
    const start = async (extra: Props = {}) => {
      const host = await ProviderHost.start({ cwd: repoRoot, env: { ...env, ...extra }, callTimeoutMs: 120_000 });
      hosts.push(host);
      await host.configure();
      return host;
    };
    const cached = await start();
    const uncached = await start({ COPIED_OBJECT_NO_CLIENT_CACHE: "1" });
    const idle = { cached: memory(cached.pid), uncached: memory(uncached.pid) };

    // Which requests one Check + Create sends, through a counting proxy (its own host, so the
    // measured hosts never see the proxy); the floor then sends exactly these.
    const proxy = await startCountingProxy(s3.endpoint);
    let requests: string[];
    let floorRequests: string[];
    let rawProbe: string[] = [];
    try {
      const probe = await start();
      const through = retarget(regs[0], { endpoint: proxy.endpoint, dstKey: "probe/ours" });
      const cold = await checkCreate(probe, through);
      requests = proxy.requests.map(describe);
      rawProbe = proxy.requests.map((r) => `${r.method} ${r.url}`);
      proxy.requests.length = 0;
      const viaProxy = warmClient({ ...s3, endpoint: proxy.endpoint });
      await floorCopy(viaProxy, srcBucket, keys[0], dstBucket, "probe/floor");
      floorRequests = proxy.requests.map(describe);
      viaProxy.destroy();
      await probe.stop();
      hosts.splice(hosts.indexOf(probe), 1);
      console.log(`[p4] one Check + Create sends: ${requests.join(", ")} (first call in a fresh host: ${cold.totalMs.toFixed(0)} ms)`);
    } finally {
      await proxy.close();
    }
    // Compared as sets: two of them are sent concurrently, so they may arrive in either order.
    if ([...requests].sort().join() !== [...floorRequests].sort().join()) throw new Error(`the floor must send the provider's requests: ${requests.join(", ")} ≠ ${floorRequests.join(", ")} (the provider's: ${rawProbe.join(", ")})`);

    // The first call in each host loads the package and the SDK: timed apart, then excluded.
    const firstCall = {
      cached: await checkCreate(cached, retarget(regs[0], { dstKey: "warm/cached" })),
      uncached: await checkCreate(uncached, retarget(regs[0], { dstKey: "warm/uncached" })),
    };
    const warmed = { cached: memory(cached.pid), uncached: memory(uncached.pid) };

    const warm = warmClient(s3);
    await floorCopy(warm, srcBucket, keys[0], dstBucket, "warm/floor");
    const oursRun = (host: ProviderHost, label: string, parallel: number) => (round: number) =>
      batch(count, parallel, () => hostCpuMs(host.pid), (i) => checkCreate(host, retarget(regs[i], { dstKey: `${label}/${parallel}/${round}/${i}` })));
    const floorRun = (label: string, parallel: number, fresh: boolean) => (round: number) =>
      batch(count, parallel, ownCpuMs, async (i) => {
        const t0 = performance.now();
        const [src, dst] = fresh ? [newClient(s3), newClient(s3)] : [warm, warm];
        await floorCopy(src, srcBucket, keys[i], dstBucket, `${label}/${parallel}/${round}/${i}`, dst);
        if (fresh) [src, dst].forEach((c) => c.destroy());
        return { totalMs: performance.now() - t0 };
      });
    const contenders = (parallel: number): Contender[] => [
      { name: "CopiedObject Check+Create (client cache)", role: "ours", run: oursRun(cached, "cached", parallel) },
      { name: "CopiedObject Check+Create, COPIED_OBJECT_NO_CLIENT_CACHE=1 (before)", role: "variant", run: oursRun(uncached, "uncached", parallel) },
      { name: "same requests, direct SDK, warm client (floor)", role: "variant", run: floorRun("floor", parallel, false) },
      { name: "same requests, direct SDK, new clients per copy", role: "variant", run: floorRun("fresh", parallel, true) },
    ];
    const cases: CaseResult[] = [];
    for (const parallel of [1, PARALLEL]) {
      cases.push(await sideBySide({
        bench: "p4",
        case: parallel === 1 ? `${count} copies of ${OBJECT_BYTES} B, one after another: median per resource` : `${count} copies, ${parallel} in flight: wall time ÷ ${count}`,
        rounds,
        metric: parallel === 1 ? "ms" : "wallPerResourceMs",
        contenders: contenders(parallel),
      }));
    }
    warm.destroy();
    const after = { cached: memory(cached.pid), uncached: memory(uncached.pid) };

    const [seq, par] = cases;
    const stat = (c: CaseResult, name: string, figure: string) => c.contenders.find((x) => x.name.startsWith(name))?.stats[figure]?.median;
    const floor = stat(seq, "same requests, direct SDK, warm", "ms");
    const ours = stat(seq, "CopiedObject Check+Create (client", "ms");
    const before = stat(seq, "CopiedObject Check+Create, COPIED", "ms");
    const overhead = ours !== undefined && floor !== undefined ? ours - floor : undefined;
    const overheadBefore = before !== undefined && floor !== undefined ? before - floor : undefined;
    const breakdown = [
      "| contender | Check+Create median | p95 | Check | Create call | inside our create (`durationMs`) | host + gRPC (Check + Create − inside) | CPU per resource of the sending process |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
      ...seq.contenders.map((c) => {
        const s = (k: string) => fmt(c.stats[k]?.median, "ms");
        const host = c.stats.hostMs ? fmt(c.stats.hostMs.median, "ms") : "—";
        return `| ${c.name} | ${s("ms")} | ${s("p95Ms")} | ${c.stats.checkMs ? s("checkMs") : "—"} | ${c.stats.createMs ? s("createMs") : "—"} | ${c.stats.insideMs ? s("insideMs") : "—"} | ${host} | ${s("cpuPerResourceMs")} |`;
      }),
    ].join("\n");
    const mem = (m: { hwm: number; rss: number }) => `${fmt(m.hwm, "rss")} (now ${fmt(m.rss, "rss")})`;
    writeReport({
      bench: "p4",
      title: "P4: overhead per resource (Check + Create of a small S3 copy through one provider host)",
      about: [
        `${count} distinct ${OBJECT_BYTES}-byte objects copied S3 → S3 on moto, each by Check then Create on one long-lived Pulumi dynamic-provider host (the real one, driven over gRPC as the engine does).`,
        `The floor sends the same requests one Create sends (${requests.join(", ")}; listed by a counting proxy in this run; the listing and the copy concurrently, as the provider does) directly from the bench process, with one warm SDK client. Overhead per resource = ours − floor (medians over rounds of each run's median).`,
        `"Before" is measured in the same run: a second host with COPIED_OBJECT_NO_CLIENT_CACHE=1 builds new SDK clients for every call, as the package did before the cache.`,
        `The first call in a fresh host (loading our package and the AWS SDK) is timed apart and not in the tables: ${fmt(firstCall.cached.totalMs, "ms")} (cache) / ${fmt(firstCall.uncached.totalMs, "ms")} (no cache).`,
      ],
      cases,
      extraMarkdown: [
        `**Where the time goes** (one after another; medians)\n\n${breakdown}`,
        [
          "**Provider host peak RSS** (VmHWM; current VmRSS in brackets)",
          "",
          "| host | idle after Configure | after the first copy | after all rounds |",
          "|---|---:|---:|---:|",
          `| client cache | ${mem(idle.cached)} | ${mem(warmed.cached)} | ${mem(after.cached)} |`,
          `| no cache | ${mem(idle.uncached)} | ${mem(warmed.uncached)} | ${mem(after.uncached)} |`,
        ].join("\n"),
      ],
      verdicts: [
        overhead === undefined ? "overhead: not measured (a contender failed)" : `Overhead per resource (sequential, ours − floor): **${fmt(overhead, "ms")}** against the goal ≤ ${GOAL_MS} ms: **${overhead <= GOAL_MS ? "met" : "not met"}**. Before the client cache: ${fmt(overheadBefore, "ms")}.`,
        `Provider host peak RSS after ${rounds * 2 * count + 1} resources: ${fmt(after.cached.hwm, "rss")} with the cache, ${fmt(after.uncached.hwm, "rss")} without (idle: ${fmt(idle.cached.hwm, "rss")}).`,
        `${PARALLEL} in flight: ${fmt(stat(par, "CopiedObject Check+Create (client", "wallPerResourceMs"), "ms")} per resource (wall ÷ ${count}) against the floor's ${fmt(stat(par, "same requests, direct SDK, warm", "wallPerResourceMs"), "ms")}.`,
      ],
    });
  } finally {
    for (const h of hosts) {
      // --cpu-prof writes its profile only on a clean exit: our SIGINT handler exits the host.
      if (process.env.BENCH_P4_CPU_PROF) {
        h.signalGroup("SIGINT");
        await Promise.race([h.exited(), new Promise((r) => setTimeout(r, 5000))]);
      }
      await h.stop();
    }
    await s3.stop();
  }
}

/**
 * Runs `count` resources, `parallel` at a time; figures are per-resource medians, the p95, wall ÷ count,
 * and CPU ÷ count of the process that sends the storage requests (`cpuMs` reads its user + system time).
 */
async function batch(count: number, parallel: number, cpuMs: () => number, one: (i: number) => Promise<PerResource>): Promise<Figures> {
  const results: PerResource[] = [];
  let next = 0;
  const cpu0 = cpuMs();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) results.push(await one(next++));
  }));
  const wallMs = performance.now() - t0;
  const cpuPerResourceMs = (cpuMs() - cpu0) / count;
  const med = (k: keyof PerResource) => {
    const v = results.map((r) => r[k]).filter((x): x is number => typeof x === "number").sort((a, b) => a - b);
    return v.length ? { [k === "totalMs" ? "ms" : k]: median(v) } : {};
  };
  const totals = results.map((r) => r.totalMs).sort((a, b) => a - b);
  return {
    ...med("totalMs"), ...med("checkMs"), ...med("createMs"), ...med("insideMs"), ...med("hostMs"),
    ms: median(totals),
    p95Ms: totals[Math.min(totals.length - 1, Math.ceil(totals.length * 0.95) - 1)],
    wallPerResourceMs: wallMs / count,
    cpuPerResourceMs,
  };
}

interface PerResource { totalMs: number; checkMs?: number; createMs?: number; insideMs?: number; hostMs?: number }

/** One resource as the engine deploys it: Check, then Create with the checked inputs. */
async function checkCreate(host: ProviderHost, reg: Registration): Promise<PerResource> {
  const t0 = performance.now();
  const { inputs, failures } = await host.check(reg, {}, reg.inputs);
  if (failures.length) throw new Error(`check failed: ${failures.map((f) => f.reason).join("; ")}`);
  const t1 = performance.now();
  const { properties } = await host.create(reg, inputs);
  const t2 = performance.now();
  if (properties.copyStatus !== "success") throw new Error(`create did not succeed: ${String(properties.copyStatus)}`);
  const insideMs = Number(properties.durationMs);
  return { totalMs: t2 - t0, checkMs: t1 - t0, createMs: t2 - t1, insideMs, hostMs: t2 - t0 - insideMs };
}

/** The registration with its destination moved to a fresh key (and, for the probe, both endpoints moved). */
function retarget(reg: Registration, to: { dstKey: string; endpoint?: string }): Registration {
  const inputs = structuredClone(reg.inputs) as { source: { s3: Props }; destination: { s3: Props } };
  inputs.destination.s3.key = to.dstKey;
  if (to.endpoint) inputs.source.s3.endpoint = inputs.destination.s3.endpoint = to.endpoint;
  return { ...reg, inputs };
}

/**
 * What the provider sends for one S3 → S3 copy of a small object, in its order (src/stores/s3Copy.ts):
 * HEAD the source; then CopyObject while the leftover-upload sweep lists the key; then HEAD the destination.
 */
async function floorCopy(src: S3Client, bucket: string, key: string, dstBucket: string, dstKey: string, dst = src): Promise<void> {
  const head = await src.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  await Promise.all([
    dst.send(new CopyObjectCommand({ Bucket: dstBucket, Key: dstKey, CopySource: `${bucket}/${key}`, CopySourceIfMatch: head.ETag, MetadataDirective: "COPY", TaggingDirective: "COPY" })),
    dst.send(new ListMultipartUploadsCommand({ Bucket: dstBucket, Prefix: dstKey })),
  ]);
  await dst.send(new HeadObjectCommand({ Bucket: dstBucket, Key: dstKey }));
}

/** A client configured as the provider's (checksums only when required), used for the floor. */
function newClient(s3: Pick<S3Server, "endpoint" | "region" | "accessKeyId" | "secretAccessKey">): S3Client {
  return new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}
const warmClient = newClient;

/** "HEAD /bucket/key" with bucket names, keys and query values generalised, so two runs compare. */
function describe(r: { method: string; url: string }): string {
  const url = new URL(r.url, "http://x");
  const query = [...url.searchParams.keys()].filter((k) => k !== "x-id").sort().join("&");
  const what = url.pathname.split("/").filter(Boolean).length > 1 ? "/bucket/key" : "/bucket";
  return `${r.method} ${what}${query ? `?${query}` : ""}`;
}

/** User + system CPU time of another process, from /proc/<pid>/stat (in clock ticks, 100 per second on Linux). */
function hostCpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** VmHWM (peak resident set) and VmRSS of a process, in bytes, from /proc. */
function memory(pid: number): { hwm: number; rss: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { hwm: kib("VmHWM"), rss: kib("VmRSS") };
}
