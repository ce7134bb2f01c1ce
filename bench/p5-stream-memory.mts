/**
 * P5: Azure Blob → S3 through the provider (strategy "stream", the one path with no server-side
 * copy): the provider host's peak RSS and the throughput, against rclone doing the same copy.
 * Real servers: Azurite (source) and moto (destination). Each run uses a fresh host, so its
 * VmHWM is that run's peak, and the idle host's own RSS is reported as the floor.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import { Readable } from "node:stream";
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import { ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } from "@azure/storage-blob";
import { CopiedObject } from "pulumi-copied-object";
import { startAzurite } from "../test/support/azurite.ts";
import { blobService } from "../test/support/azurite.ts";
import { MiniEngine } from "../test/support/engine.ts";
import { generated } from "../test/support/generated.ts";
import { ProviderHost, registerUnderMocks } from "../test/support/providerHost.ts";
import { repoRoot } from "../test/support/s3rig.ts";
import { s3Client, startS3Server } from "../test/support/s3server.ts";
import type { BenchOptions } from "./run.mts";
import { ensureRclone, RCLONE_ENV, runMeasured } from "./lib/peers.mts";
import { writeReport } from "./lib/report.mts";
import { fmt, sideBySide, type Contender } from "./lib/sideBySide.mts";

const MiB = 1024 ** 2;
const GOAL_BYTES = 150e6;

export async function run({ rounds, quick }: BenchOptions): Promise<void> {
  const sizeMiB = quick ? 64 : Number(process.env.BENCH_P5_MIB ?? 2048);
  const [azurite, s3] = await Promise.all([startAzurite(), startS3Server()]);
  const account = azurite.accounts.primary;
  const client = s3Client(s3);
  try {
    const container = `p5${randomBytes(4).toString("hex")}`;
    await blobService(account).createContainer(container);
    const written = createHash("sha256");
    console.log(`[p5] writing a ${sizeMiB} MiB source blob to Azurite`);
    await blobService(account).getContainerClient(container).getBlockBlobClient("big.bin").uploadStream(generated(sizeMiB, written), 8 * MiB, 4);
    const sourceHash = written.digest("hex");
    const bucket = `p5-${randomBytes(4).toString("hex")}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const env = {
      AZURE_STORAGE_ACCOUNT: account.name, AZURE_STORAGE_KEY: account.key,
      AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region, AWS_EC2_METADATA_DISABLED: "true",
    };

    // The idle floor: Pulumi's host after Configure, before our package is loaded.
    const idle = await ProviderHost.start({ cwd: repoRoot, env });
    await idle.configure();
    const hostIdleBytes = peakRss(idle.pid);
    await idle.stop();

    const verify = async (key: string) => {
      const read = createHash("sha256");
      for await (const chunk of (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as Readable) read.update(chunk);
      if (read.digest("hex") !== sourceHash) throw new Error(`${key} differs from the source`);
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    };
    const ours = (name: string, role: Contender["role"], opts: { partSizeBytes?: number; concurrency?: number } = {}): Contender => ({
      name, role,
      async run(round) {
        const key = `ours-${round}-${randomBytes(3).toString("hex")}`;
        const host = await ProviderHost.start({ cwd: repoRoot, env, callTimeoutMs: 1_800_000 });
        try {
          await host.configure();
          const engine = new MiniEngine(host);
          const [reg] = await registerUnderMocks(() => new CopiedObject("stream", {
            source: { azureBlob: { accountUrl: account.url, container, blob: "big.bin" } },
            destination: { s3: { bucket, key, endpoint: s3.endpoint, forcePathStyle: true } },
            strategy: "stream", timeoutSeconds: 1800, ...opts,
          }));
          const t0 = performance.now();
          await engine.up(reg);
          const ms = performance.now() - t0;
          const peakRssBytes = peakRss(host.pid);
          await verify(key);
          return { ms, peakRssBytes, mibPerSecond: sizeMiB / (ms / 1000), aboveIdleBytes: peakRssBytes - hostIdleBytes };
        } finally {
          await host.stop();
        }
      },
    });
    const rcloneMissing = ensureRclone();
    const rclone: Contender = {
      name: "rclone copyto", role: "peer", skip: rcloneMissing,
      async run(round) {
        const key = `rclone-${round}`;
        const out = await runMeasured("rclone", ["copyto", `src:${container}/big.bin`, `dst:${bucket}/${key}`], {
          ...RCLONE_ENV,
          // rclone 1.60 builds https://<account>.<endpoint> URLs; a container SAS URL is taken as it is.
          RCLONE_CONFIG_SRC_TYPE: "azureblob", RCLONE_CONFIG_SRC_SAS_URL: containerSas(account, container),
          RCLONE_CONFIG_DST_TYPE: "s3", RCLONE_CONFIG_DST_PROVIDER: "Other", RCLONE_CONFIG_DST_ACCESS_KEY_ID: s3.accessKeyId, RCLONE_CONFIG_DST_SECRET_ACCESS_KEY: s3.secretAccessKey,
          RCLONE_CONFIG_DST_ENDPOINT: s3.endpoint, RCLONE_CONFIG_DST_REGION: s3.region,
        });
        await verify(key);
        return { ...out, mibPerSecond: sizeMiB / (out.ms / 1000) };
      },
    };
    // Part size × parts in flight (the stream's memory), either side of the default 8 MiB × 4.
    const variants = quick ? [] : (process.env.BENCH_P5_VARIANTS ?? "5x2,16x4").split(",").filter(Boolean).map((v) => {
      const [part, conc] = v.split("x").map(Number);
      return ours(`ours, ${part} MiB × ${conc}`, "variant", { partSizeBytes: part * MiB, concurrency: conc });
    });
    const result = await sideBySide({
      bench: "p5", case: `Azure Blob → S3, ${sizeMiB} MiB, streamed`, rounds, metric: "peakRssBytes",
      contenders: [ours("CopiedObject (stream)", "ours"), ...variants, rclone],
      notes: [`Pulumi's dynamic-provider host alone, idle after Configure and before our package loads: ${fmt(hostIdleBytes, "peakRssBytes")}.`],
    });
    const oursStats = result.contenders[0].stats;
    writeReport({
      bench: "p5", title: "P5: streaming memory (Azure Blob → S3 through the provider)",
      about: [
        `A ${sizeMiB} MiB block blob on Azurite streamed into moto by strategy "stream". Peak RSS is the provider host's VmHWM (a fresh host per run) and rclone's ru_maxrss; the copy is read back and its SHA-256 compared each run.`,
      ],
      cases: [result],
      extraMarkdown: [throughputTable(result)],
      verdicts: [
        `Peak RSS ${fmt(oursStats.peakRssBytes?.median, "peakRssBytes")} (goal ≤ 150 MB = 143 MiB): ${oursStats.peakRssBytes?.median <= GOAL_BYTES ? "met" : "not met"}; of it, ${fmt(hostIdleBytes, "peakRssBytes")} is Pulumi's idle host, and ${fmt(oursStats.aboveIdleBytes?.median, "peakRssBytes")} is ours.`,
        `Throughput ${oursStats.mibPerSecond?.median.toFixed(0)} MiB/s.`,
      ],
    });
  } finally {
    await Promise.all([azurite.stop(), s3.stop()]);
  }
}

function throughputTable(result: Awaited<ReturnType<typeof sideBySide>>): string {
  const rows = result.contenders.filter((c) => c.stats.ms).map((c) => `| ${c.name} | ${fmt(c.stats.ms.median, "ms")} | ${c.stats.mibPerSecond.median.toFixed(0)} MiB/s | ${fmt(c.stats.peakRssBytes.median, "peakRssBytes")} |`);
  return ["| contender | median time | throughput | peak RSS |", "|---|---:|---:|---:|", ...rows].join("\n");
}

function containerSas(account: { name: string; key: string; url: string }, container: string): string {
  const sas = generateBlobSASQueryParameters({ containerName: container, permissions: ContainerSASPermissions.parse("rl"), expiresOn: new Date(Date.now() + 6 * 3600_000) }, new StorageSharedKeyCredential(account.name, account.key));
  return `${account.url}/${container}?${sas.toString()}`;
}

function peakRss(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
}

