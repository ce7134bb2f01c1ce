/**
 * P1: a large S3 → S3 copy, side by side with what a user would otherwise run: `aws s3 cp`,
 * `rclone copyto` (server-side) and one plain CopyObject, on moto and on Ceph RGW, plus a sweep
 * of part size and concurrency that the defaults in src/plan.ts were chosen from.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { CopyObjectCommand, CreateBucketCommand, DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { CopiedObject, type CopiedObjectArgs } from "pulumi-copied-object";
import { MiniEngine } from "../test/support/engine.ts";
import { ProviderHost, registerUnderMocks } from "../test/support/providerHost.ts";
import { repoRoot } from "../test/support/s3rig.ts";
import { s3Client } from "../test/support/s3server.ts";
import type { BenchOptions } from "./run.mts";
import { awsCliMissing, ensureRclone, RCLONE_ENV, runTimed } from "./lib/peers.mts";
import { writeReport } from "./lib/report.mts";
import { startCeph, startMoto, type BenchS3Server } from "./lib/s3Servers.mts";
import { fmt, sideBySide, timed, type CaseResult, type Contender } from "./lib/sideBySide.mts";

const MiB = 1024 ** 2;
const GiB = 1024 * MiB;

interface Rig {
  server: BenchS3Server;
  client: S3Client;
  host: ProviderHost;
  engine: MiniEngine;
  bucket: string;
  coldStartMs: number;
}

export async function run({ rounds, quick }: BenchOptions): Promise<void> {
  const sizes = quick ? [48 * MiB, 96 * MiB] : [1 * GiB, 6 * GiB];
  const servers = (process.env.BENCH_P1_SERVERS ?? (quick ? "moto" : "moto,ceph")).split(",");
  const cases: CaseResult[] = [];
  const notes: string[] = [];
  const sweeps: string[] = [];
  for (const kind of servers) {
    const server = kind === "ceph" ? await startCeph() : await startMoto();
    if (typeof server === "string") {
      notes.push(`Ceph RGW: not run, ${server}.`);
      continue;
    }
    const rig = await startRig(server);
    try {
      notes.push(`${kind}: the provider host's cold start (spawn, Configure, and a first small copy, which loads the package and the S3 SDK) took ${fmt(rig.coldStartMs, "ms")}; it is paid once per \`pulumi up\`, not per resource, and is not in the figures below.`);
      for (const size of sizes) {
        const skip = skipReason(kind, size);
        if (skip) {
          notes.push(`${kind}, ${sizeLabel(size)}: not run. ${skip}`);
          continue;
        }
        const key = await putSource(rig, size);
        const list = contenders(rig, key, size);
        // Untimed: the first copy after a large write ran up to 2.7× slower on Ceph (bluestore still settling).
        console.log(`[p1] one untimed warm-up copy`);
        await list[0].before!(-1);
        await list[0].run(-1);
        cases.push(await sideBySide({ bench: "p1", case: `${kind}, ${sizeLabel(size)}`, rounds, contenders: list }));
        if (size === sizes[sizes.length - 1] || (kind === "moto" && !quick)) {
          sweeps.push(await sweep(rig, key, size, quick));
        }
        await rig.client.send(new DeleteObjectCommand({ Bucket: rig.bucket, Key: key }));
        await rig.server.collectGarbage();
      }
    } finally {
      await rig.host.stop();
      await server.stop();
    }
  }
  writeReport({
    bench: "p1",
    title: "P1: a large S3 → S3 copy",
    about: [
      "Wall time of one copy of the same source object, by each contender in turn (rounds alternate the order). CopiedObject is Check + Create through Pulumi's real dynamic-provider host (warm); the CLIs are whole processes, as a user runs them, with their default transfer settings; the plain CopyObject is one SDK call from a warm client. Every destination is checked (HEAD: size) and deleted before the next run. Each size starts with one untimed copy, after writing the source.",
      ...notes.map((n) => `\n${n}`),
    ],
    cases,
    extraMarkdown: sweeps,
    verdicts: cases.filter((c) => c.ratio).map((c) => `${c.case}: CopiedObject ÷ best peer (${c.ratio!.bestPeer}) = ${c.ratio!.value.toFixed(2)}× (goal ≤ 0.7×): ${c.ratio!.value <= 0.7 ? "met" : "not met"}`),
  });
}

function skipReason(kind: string, size: number): string | undefined {
  // moto 5.2.1's upload_part_copy (s3/models.py) reads the whole source object for every part, so
  // a multipart copy of 6 GiB holds 6 GiB per part in flight: 8 parts (ours) or 10 (aws s3 cp) exceed this machine's RAM.
  if (kind === "moto" && size > 4 * GiB) return "moto reads the whole source object into memory for every UploadPartCopy part (moto 5.2.1, s3/models.py `upload_part_copy`), so every multipart contender would hold parts × 6 GiB at once; the 1 GiB sweep below shows the cost growing with parts.";
  return undefined;
}

async function startRig(server: BenchS3Server): Promise<Rig> {
  const client = s3Client(server);
  const bucket = `p1-${randomBytes(4).toString("hex")}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  let host!: ProviderHost;
  let engine!: MiniEngine;
  const coldStartMs = await timed(async () => {
    host = await ProviderHost.start({
      cwd: repoRoot,
      callTimeoutMs: 3_600_000,
      env: { AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_REGION: server.region, AWS_EC2_METADATA_DISABLED: "true" },
    });
    await host.configure();
    engine = new MiniEngine(host);
    // One small copy, so the package and the S3 SDK (loaded on first use) are loaded before timing.
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: "warm-up", Body: "warm-up" }));
    const at = (key: string) => ({ s3: { bucket, key, endpoint: server.endpoint, forcePathStyle: true } });
    await engine.destroy((await engine.up(await register({ source: at("warm-up"), destination: at("warm-up-copy") }))).deployed);
  });
  return { server, client, host, engine, bucket, coldStartMs };
}

async function register(args: CopiedObjectArgs) {
  const [reg] = await registerUnderMocks(() => new CopiedObject("copy", args));
  return reg;
}

async function putSource(rig: Rig, size: number): Promise<string> {
  const key = `source-${sizeLabel(size).replace(" ", "")}`;
  const t0 = performance.now();
  console.log(`[p1] writing a ${sizeLabel(size)} source object to ${rig.server.kind}`);
  await new Upload({ client: rig.client, params: { Bucket: rig.bucket, Key: key, Body: generated(size) }, partSize: 64 * MiB, queueSize: 4 }).done();
  console.log(`[p1] written in ${fmt(performance.now() - t0, "ms")}`);
  return key;
}

function contenders(rig: Rig, key: string, size: number, variants = size <= 4 * GiB): Contender[] {
  const { server, bucket } = rig;
  const src = `s3://${bucket}/${key}`;
  const awsEnv = { AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_DEFAULT_REGION: server.region, AWS_EC2_METADATA_DISABLED: "true" };
  const rcloneEnv = {
    ...RCLONE_ENV,
    RCLONE_CONFIG_S3_TYPE: "s3", RCLONE_CONFIG_S3_PROVIDER: server.kind === "ceph" ? "Ceph" : "Other",
    RCLONE_CONFIG_S3_ACCESS_KEY_ID: server.accessKeyId, RCLONE_CONFIG_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
    RCLONE_CONFIG_S3_ENDPOINT: server.endpoint, RCLONE_CONFIG_S3_REGION: server.region,
  };
  const checked = (dst: string) => async (ms: number) => {
    const head = await rig.client.send(new HeadObjectCommand({ Bucket: bucket, Key: dst }));
    if (head.ContentLength !== size) throw new Error(`${dst} is ${head.ContentLength} bytes, not ${size}`);
    return { ms };
  };
  const ours = (name: string, role: Contender["role"], extra: Partial<CopiedObjectArgs> = {}): Contender => ({
    name, role, before: () => clean(rig),
    async run(round) {
      const dst = `dst-ours-${round}-${randomBytes(2).toString("hex")}`;
      const reg = await register({ source: { s3: { bucket, key, endpoint: server.endpoint, forcePathStyle: true } }, destination: { s3: { bucket, key: dst, endpoint: server.endpoint, forcePathStyle: true } }, timeoutSeconds: 3600, ...extra });
      return checked(dst)(await timed(() => rig.engine.up(reg)));
    },
  });
  return [
    ours("CopiedObject", "ours"),
    ...(variants ? [ours("CopiedObject, multipart 128 MiB × 8", "variant", { strategy: "multipart" })] : []),
    {
      name: "aws s3 cp", role: "peer", skip: awsCliMissing(), before: () => clean(rig),
      run: async (round) => checked(`dst-aws-${round}`)((await runTimed("aws", ["s3", "cp", src, `s3://${bucket}/dst-aws-${round}`, "--endpoint-url", server.endpoint, "--only-show-errors"], awsEnv)).ms),
    },
    {
      name: "rclone copyto", role: "peer", skip: ensureRclone(), before: () => clean(rig),
      run: async (round) => checked(`dst-rclone-${round}`)((await runTimed("rclone", ["copyto", `s3:${bucket}/${key}`, `s3:${bucket}/dst-rclone-${round}`], rcloneEnv)).ms),
    },
    {
      name: "one CopyObject (SDK)", role: "peer", before: () => clean(rig),
      skip: size > 5 * GiB ? "S3 limits CopyObject to 5 GiB" : undefined,
      run: async (round) => checked(`dst-plain-${round}`)(await timed(() => rig.client.send(new CopyObjectCommand({ Bucket: bucket, Key: `dst-plain-${round}`, CopySource: `${bucket}/${key}` })))),
    },
  ];
}

/** Part size at concurrency 8, then concurrency at 128 MiB: the grid the defaults come from. */
async function sweep(rig: Rig, key: string, size: number, quick: boolean): Promise<string> {
  const parts = quick ? [8, 16] : [64, 128, 256, 512];
  const concurrencies = quick ? [2, 8] : [2, 4, 8, 16];
  const grid = [...parts.map((p) => [p, 8]), ...concurrencies.filter((c) => c !== 8).map((c) => [quick ? 16 : 128, c])];
  const variant = ([part, concurrency]: number[]): Contender => ({
    name: `${part} MiB × ${concurrency}`, role: "variant", before: () => clean(rig),
    async run(round) {
      const dst = `dst-sweep-${round}-${part}-${concurrency}`;
      const reg = await register({ source: { s3: { bucket: rig.bucket, key, endpoint: rig.server.endpoint, forcePathStyle: true } }, destination: { s3: { bucket: rig.bucket, key: dst, endpoint: rig.server.endpoint, forcePathStyle: true } }, strategy: "multipart", partSizeBytes: part * MiB, concurrency, timeoutSeconds: 3600 });
      return { ms: await timed(() => rig.engine.up(reg)) };
    },
  });
  const rounds = Number(process.env.BENCH_SWEEP_ROUNDS ?? 1);
  const result = await sideBySide({ bench: "p1", case: `sweep, ${rig.server.kind}, ${sizeLabel(size)}`, rounds, contenders: grid.map(variant) });
  const rows = result.contenders.map((c) => `| ${c.name} | ${c.stats.ms ? fmt(c.stats.ms.median, "ms") : `failed: ${c.failures[0]}`} |`);
  return [`**Sweep: ${rig.server.kind}, ${sizeLabel(size)}, multipart** (${rounds} round${rounds > 1 ? "s" : ""}; median)`, "", "| part size × concurrency | time |", "|---|---:|", ...rows].join("\n");
}

/** Removes earlier destinations, and on Ceph frees their data at once. */
async function clean(rig: Rig): Promise<void> {
  const listed = await rig.client.send(new ListObjectsV2Command({ Bucket: rig.bucket, Prefix: "dst-" }));
  for (const o of listed.Contents ?? []) await rig.client.send(new DeleteObjectCommand({ Bucket: rig.bucket, Key: o.Key }));
  if (listed.Contents?.length) await rig.server.collectGarbage();
}

function sizeLabel(size: number): string {
  return size >= GiB ? `${size / GiB} GiB` : `${size / MiB} MiB`;
}

/** `size` bytes: 1 MiB of random data, each copy stamped with its index so no two MiB are equal. */
function generated(size: number): Readable {
  const block = randomBytes(MiB);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const chunk = Buffer.from(block.subarray(0, Math.min(MiB, size - sent)));
      chunk.writeUInt32BE(sent / MiB, 0);
      sent += chunk.length;
      this.push(chunk);
    },
  });
}
