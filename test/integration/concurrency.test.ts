// Concurrency (issue 5): 50 CopiedObjects created at once through ONE provider host, as Pulumi's
// parallel deploy drives it (each resource: Check, then Create; all of them in flight together),
// mixing stores, then destroyed at once. Real servers: moto (S3) and Azurite (Blob). SIMULATIONS,
// labelled: the Azure Files test server (no emulator exists), and the scripted proxy in front of
// Azurite that plays the Blob service's read of an S3 presigned URL (Azurite reads no outside URL).
// The provider finds its credentials in its environment, as a user's would: AWS keys for moto, and
// AZURE_STORAGE_ACCOUNT/KEY for the Azurite account, which the Files server shares (same name and key).
// Figures (peak RSS of the provider process, wall times) are reported, never asserted tightly.
import { after, before, diagnostic, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ShareServiceClient, StorageSharedKeyCredential } from "@azure/storage-file-share";
import { CopiedObject, type CopiedObjectArgs } from "pulumi-copied-object";
import { startAzureCopyProxy, type AzureCopyProxy } from "../support/azureCopyProxy.ts";
import { startAzureFilesServer, type AzureFilesServer } from "../support/azureFilesServer.ts";
import { blobService, startAzurite, type Azurite } from "../support/azurite.ts";
import { MiniEngine } from "../support/engine.ts";
import { ProviderHost, registerUnderMocks, type Registration } from "../support/providerHost.ts";
import { repoRoot } from "../support/s3rig.ts";
import { s3Client, startS3Server, type S3Server } from "../support/s3server.ts";

const MiB = 1024 * 1024;
/** A generous bound that documents the figure; the measured one is reported. */
const PEAK_RSS_BOUND_MIB = 400;

let s3: S3Server;
let s3c: S3Client;
let azurite: Azurite;
let proxy: AzureCopyProxy;
let files: AzureFilesServer;
let host: ProviderHost;
let engine: MiniEngine;

before(async () => {
  s3 = await startS3Server();
  s3c = s3Client(s3);
  azurite = await startAzurite();
  const { primary } = azurite.accounts;
  proxy = await startAzureCopyProxy(azurite.endpoint, { accounts: [{ name: primary.name, key: primary.key }] });
  // Copies stay pending 800 ms, so the provider polls them while everything else is in flight.
  files = await startAzureFilesServer({ accounts: [{ name: primary.name, key: primary.key }], copyDelayMs: 800 });
  host = await ProviderHost.start({
    cwd: repoRoot,
    env: {
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REGION: s3.region,
      AWS_EC2_METADATA_DISABLED: "true",
      AZURE_STORAGE_ACCOUNT: primary.name,
      AZURE_STORAGE_KEY: primary.key,
      AZURE_STORAGE_CONNECTION_STRING: "",
    },
    // 50 calls share two CPUs with the servers: the deadline is generous, not a measurement.
    callTimeoutMs: 600_000,
  });
  await host.configure();
  engine = new MiniEngine(host);
});
after(async () => {
  await host?.stop();
  await files?.close();
  await proxy?.close();
  await azurite?.stop();
  await s3?.stop();
});

/** VmHWM (peak resident set) and VmRSS of a process, in MiB, from /proc. */
function memoryOf(pid: number): { peakMiB: number; rssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    assert.ok(match, `/proc/${pid}/status has ${name}`);
    return Number(match[1]);
  };
  return { peakMiB: kib("VmHWM") / 1024, rssMiB: kib("VmRSS") / 1024 };
}
const mib = (n: number) => `${n.toFixed(1)} MiB`;
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

type Kind = "s3->s3" | "s3->s3 multipart" | "blob->blob" | "simulated file->file" | "simulated s3->blob";
interface Planned {
  name: string;
  kind: Kind;
  args: CopiedObjectArgs;
  sourceSha: string;
  size: number;
  /** The destination's bytes, read back from its server. */
  read(): Promise<Buffer | undefined>;
}

test("50 CopiedObjects of mixed stores (S3, Blob, simulated Files, S3 to Blob through the simulated service read) created concurrently through one provider host all succeed byte for byte, and 50 concurrent deletes leave nothing, not even a multipart upload", async () => {
  const { primary } = azurite.accounts;
  const [srcBucket, dstBucket] = [`t-${randomBytes(6).toString("hex")}`, `t-${randomBytes(6).toString("hex")}`];
  for (const Bucket of [srcBucket, dstBucket]) await s3c.send(new CreateBucketCommand({ Bucket }));
  const blobs = blobService(primary);
  const [srcContainer, dstContainer] = [`c${randomBytes(6).toString("hex")}`, `c${randomBytes(6).toString("hex")}`];
  for (const name of [srcContainer, dstContainer]) await blobs.createContainer(name);
  const shareName = `s${randomBytes(5).toString("hex")}`;
  const shares = new ShareServiceClient(files.accounts[0]!.url, new StorageSharedKeyCredential(primary.name, primary.key));
  await shares.getShareClient(shareName).create();

  const s3At = (bucket: string, key: string) => ({ s3: { bucket, key, endpoint: s3.endpoint, forcePathStyle: true } });
  const blobAt = (container: string, blob: string, accountUrl = primary.url) => ({ azureBlob: { accountUrl, container, blob } });
  const fileAt = (path: string) => ({ azureFile: { accountUrl: files.accounts[0]!.url, share: shareName, path } });
  const s3Read = async (key: string) => {
    const out = await s3c.send(new GetObjectCommand({ Bucket: dstBucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  };
  const blobRead = (blob: string) => blobs.getContainerClient(dstContainer).getBlobClient(blob).downloadToBuffer();
  const fileRead = async (path: string) => files.peek(`/${primary.name}/${shareName}/${path}`)?.content;

  // The plan: 16 + 4 S3 copies (the multipart ones with 5 MiB parts, on keys that are prefixes of
  // one another, so each one's leftover-upload sweep sees the others' live uploads), 12 Blob,
  // 10 Files (all under one new directory, created by all of them at once), 8 S3 to Blob.
  const planned: Planned[] = [];
  const add = (kind: Kind, name: string, body: Buffer, args: CopiedObjectArgs, read: () => Promise<Buffer | undefined>) =>
    planned.push({ name, kind, args, sourceSha: sha256(body), size: body.length, read });
  const uploads: Promise<unknown>[] = [];
  for (let i = 0; i < 16; i++) {
    const body = randomBytes(4096 + i * 20_000);
    uploads.push(s3c.send(new PutObjectCommand({ Bucket: srcBucket, Key: `small/${i}.bin`, Body: body })));
    add("s3->s3", `s3-${i}`, body, { source: s3At(srcBucket, `small/${i}.bin`), destination: s3At(dstBucket, `small/${i}.bin`) }, () => s3Read(`small/${i}.bin`));
  }
  for (let i = 0; i < 4; i++) {
    const body = randomBytes(12 * MiB + i * 123_457);
    const key = `big${".1".repeat(i)}`;
    uploads.push(s3c.send(new PutObjectCommand({ Bucket: srcBucket, Key: key, Body: body })));
    add("s3->s3 multipart", `s3-multipart-${i}`, body, { source: s3At(srcBucket, key), destination: s3At(dstBucket, key), strategy: "multipart", partSizeBytes: 5 * MiB, concurrency: 2 }, () => s3Read(key));
  }
  for (let i = 0; i < 12; i++) {
    const body = randomBytes(8192 + i * 15_000);
    uploads.push(blobs.getContainerClient(srcContainer).getBlockBlobClient(`b${i}.bin`).upload(body, body.length));
    add("blob->blob", `blob-${i}`, body, { source: blobAt(srcContainer, `b${i}.bin`), destination: blobAt(dstContainer, `b${i}.bin`) }, () => blobRead(`b${i}.bin`));
  }
  for (let i = 0; i < 10; i++) {
    const body = randomBytes(4096 + i * 9_000);
    uploads.push(shares.getShareClient(shareName).rootDirectoryClient.getFileClient(`f${i}.bin`).uploadData(body));
    add("simulated file->file", `file-${i}`, body, { source: fileAt(`f${i}.bin`), destination: fileAt(`restore/all/f${i}.bin`) }, () => fileRead(`restore/all/f${i}.bin`));
  }
  for (let i = 0; i < 8; i++) {
    const body = randomBytes(16_384 + i * 7_000);
    uploads.push(s3c.send(new PutObjectCommand({ Bucket: srcBucket, Key: `to-azure/${i}.bin`, Body: body })));
    add("simulated s3->blob", `s3-to-blob-${i}`, body, { source: s3At(srcBucket, `to-azure/${i}.bin`), destination: blobAt(dstContainer, `from-s3-${i}.bin`, `${proxy.endpoint}/${primary.name}`) }, () => blobRead(`from-s3-${i}.bin`));
  }
  await Promise.all(uploads);
  assert.equal(planned.length, 50);

  // One program registers all 50, as `pulumi up` would.
  const registrations = await registerUnderMocks(() => planned.map((p) => new CopiedObject(p.name, p.args)));
  const regOf = new Map<string, Registration>(registrations.map((r) => [r.name, r]));
  assert.equal(regOf.size, 50, "50 distinct registrations");

  const idle = memoryOf(host.pid);
  // All in flight together: each one Check then Create, as the engine's parallel steps do.
  const intervals: Array<[number, number]> = [];
  const createStarted = performance.now();
  const created = await Promise.allSettled(planned.map(async (p) => {
    const reg = regOf.get(p.name)!;
    const inputs = await engine.check(reg);
    const sent = performance.now();
    const result = await host.create(reg, inputs);
    intervals.push([sent, performance.now()]);
    return { p, reg, ...result };
  }));
  const createMs = performance.now() - createStarted;
  const afterCreates = memoryOf(host.pid);

  const failedCreates = created.flatMap((r, i) => (r.status === "rejected" ? [`${planned[i]!.name}: ${(r.reason as Error).message}`] : []));
  assert.deepEqual(failedCreates, [], "every concurrent create succeeded");
  const done = created.map((r) => (r as PromiseFulfilledResult<{ p: Planned; reg: Registration; id: string; properties: Record<string, unknown> }>).value);

  // Each destination holds exactly its source's bytes, and reports the path it took.
  for (const { p, id, properties } of done) {
    const bytes = await p.read();
    assert.ok(bytes, `${p.name}: the destination exists`);
    assert.equal(sha256(bytes), p.sourceSha, `${p.name}: the destination's sha256 is the source's`);
    assert.equal(properties.contentLength, p.size, `${p.name}: contentLength`);
    assert.equal(properties.copyStatus, "success", `${p.name}: copyStatus`);
    assert.ok(id, `${p.name}: an id`);
  }
  assert.equal(new Set(done.map((d) => d.id)).size, 50, "50 distinct ids");
  const strategies = done.filter((d) => d.p.kind === "s3->s3 multipart").map((d) => d.properties.strategy);
  assert.deepEqual(strategies, ["multipart", "multipart", "multipart", "multipart"], "the forced multipart copies went multipart");
  assert.equal(proxy.fetches.filter((f) => f.status === 200 && /X-Amz-Signature=/.test(f.url)).length, 8, "the simulated service read each S3 source once, through a presigned URL");
  const copyFiles = files.requests.filter((r) => r.method === "PUT" && r.headers["x-ms-copy-source"] && r.status === 202).length;
  assert.equal(copyFiles, 10, "ten Copy File requests were accepted");

  // Whether the calls really overlapped: the most creates in flight at one moment.
  const events = intervals.flatMap(([a, b]) => [[a, 1], [b, -1]] as Array<[number, number]>).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let inFlight = 0;
  let maxInFlight = 0;
  for (const [, delta] of events) maxInFlight = Math.max(maxInFlight, (inFlight += delta));
  assert.ok(maxInFlight > 1, `creates overlapped (at most ${maxInFlight} in flight)`);

  // Destroy all 50 at once, with the outputs the engine would hold.
  const deleteStarted = performance.now();
  const deleted = await Promise.allSettled(done.map(({ reg, id, properties }) => host.delete(reg, id, properties)));
  const deleteMs = performance.now() - deleteStarted;
  const afterDeletes = memoryOf(host.pid);
  const failedDeletes = deleted.flatMap((r, i) => (r.status === "rejected" ? [`${done[i]!.p.name}: ${(r.reason as Error).message}`] : []));
  assert.deepEqual(failedDeletes, [], "every concurrent delete succeeded");

  const left: string[] = [];
  for (const { p } of done) {
    const exists = p.kind.includes("s3->s3")
      ? await s3c.send(new HeadObjectCommand({ Bucket: dstBucket, Key: (p.args.destination as { s3: { key: string } }).s3.key })).then(() => true, () => false)
      : (await p.read().catch(() => undefined)) !== undefined;
    if (exists) left.push(p.name);
  }
  assert.deepEqual(left, [], "no destination is left after destroy");
  const multipart = await s3c.send(new ListMultipartUploadsCommand({ Bucket: dstBucket }));
  assert.equal((multipart.Uploads ?? []).length, 0, "no multipart upload is left on the destination bucket");
  assert.equal(host.output().match(/aborted a leftover multipart upload/g)?.length ?? 0, 0, "no create aborted another resource's live multipart upload");

  const kinds = new Map<string, number>();
  for (const p of planned) kinds.set(p.kind, (kinds.get(p.kind) ?? 0) + 1);
  diagnostic(`mix: ${[...kinds].map(([k, n]) => `${n} ${k}`).join(", ")}; ${mib(planned.reduce((n, p) => n + p.size, 0) / MiB)} copied`);
  diagnostic(`50 concurrent Check+Create: ${(createMs / 1000).toFixed(2)} s wall, at most ${maxInFlight} creates in flight; 50 concurrent Delete: ${(deleteMs / 1000).toFixed(2)} s wall`);
  diagnostic(`provider (pid ${host.pid}) peak RSS (VmHWM): idle ${mib(idle.peakMiB)}, after creates ${mib(afterCreates.peakMiB)}, after deletes ${mib(afterDeletes.peakMiB)}; RSS now ${mib(afterDeletes.rssMiB)}`);
  assert.ok(afterDeletes.peakMiB < PEAK_RSS_BOUND_MIB, `the provider's peak RSS ${mib(afterDeletes.peakMiB)} stays under ${PEAK_RSS_BOUND_MIB} MiB`);
});
