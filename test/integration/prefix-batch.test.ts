// CopiedPrefix with engine "s3-batch", through Pulumi's real provider host. No local server emulates S3 Control jobs,
// so S3 Batch Operations is a simulation (test/support/fakeS3Control.ts): it speaks the real REST-XML API, and runs a
// job by reading the CSV manifest from moto and doing each CopyObject against moto, so the copied bytes are real.
// Every test that uses it says "(simulated s3control)". The provider finds it as users point @pulumi/aws at other
// endpoints: the stack's aws:endpoints (s3 → moto behind a counting proxy, s3control → the fake), sent in Configure.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { DeleteObjectCommand, ListObjectVersionsCommand } from "@aws-sdk/client-s3";
import { CopiedPrefix, type CopiedPrefixArgs } from "pulumi-copied-object";
import { CheckFailed, MiniEngine, type Deployed } from "../support/engine.ts";
import { HostCallError, ProviderHost, registerUnderMocks } from "../support/providerHost.ts";
import { startCountingProxy, type CountingProxy } from "../support/countingProxy.ts";
import { startFakeS3Control, type FakeS3Control } from "../support/fakeS3Control.ts";
import { codeOf, repoRoot, startS3Rig, type S3Rig } from "../support/s3rig.ts";

let rig: S3Rig;
let proxy: CountingProxy;
let fake: FakeS3Control;
let host: ProviderHost;
let engine: MiniEngine;
/** Listing answers for this source key claim this size (the >5 GiB test): moto cannot hold such an object here. */
let claimedSize: { key: string; size: number } | undefined;

before(async () => {
  rig = await startS3Rig();
  proxy = await startCountingProxy(rig.server.endpoint, {
    tamper: (req, answer) => {
      if (!claimedSize || req.method !== "GET" || !/[?&]list-type=2/.test(req.url ?? "")) return undefined;
      const { key, size } = claimedSize;
      const text = answer.body.toString("utf8");
      const changed = text.replace(
        new RegExp(`(<Key>${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}</Key>[\\s\\S]*?<Size>)\\d+(</Size>)`),
        `$1${size}$2`,
      );
      return changed === text ? undefined : { ...answer, body: Buffer.from(changed) };
    },
  });
  fake = await startFakeS3Control(rig.s3);
  host = await startHost();
  engine = new MiniEngine(host);
});

/** A provider host as the engine starts one, configured with the stack's aws:endpoints. */
async function startHost(): Promise<ProviderHost> {
  const started = await ProviderHost.start({
    cwd: repoRoot,
    env: {
      AWS_ACCESS_KEY_ID: rig.server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: rig.server.secretAccessKey,
      AWS_REGION: "eu-west-1",
      AWS_EC2_METADATA_DISABLED: "true",
    },
  });
  await started.configure({ "aws:endpoints": JSON.stringify([{ s3: proxy.endpoint, s3control: fake.endpoint }]) });
  return started;
}
after(async () => {
  await host?.stop();
  await fake?.close();
  await proxy?.close();
  await rig?.stop();
});

const ROLE = "arn:aws:iam::123456789012:role/batch-copy";
const MANIFEST = ".copied-prefix-manifest.json.gz";
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const register = async (args: CopiedPrefixArgs) => (await registerUnderMocks(() => new CopiedPrefix("batch", args)))[0];
const at = (bucket: string, prefix: string) => ({ s3: { bucket, prefix } });
const batch = (src: string, dst: string, extra: Partial<CopiedPrefixArgs> = {}): CopiedPrefixArgs => ({
  source: at(src, "fx/"),
  destination: at(dst, "seed/fx/"),
  engine: "s3-batch",
  batchRoleArn: ROLE,
  ...extra,
});

async function seed(bucket: string, count: number): Promise<Map<string, Buffer>> {
  const odd = ["with space", "ünïcødé-日本", "plus+sign", "per%cent", "hash#tag", "comma,key", "a/b/deep"];
  const objects = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) objects.set(`dir${i % 3}/${odd[i % odd.length]}-${i}.bin`, randomBytes(32 + i));
  await Promise.all([...objects].map(([key, body]) => rig.put(bucket, `fx/${key}`, body)));
  return objects;
}

/** Every version under a prefix: key → how many. */
async function versions(bucket: string, prefix = ""): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const page = await rig.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
  for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) out.set(v.Key!, (out.get(v.Key!) ?? 0) + 1);
  return out;
}

/** An up that fails: the host's error, and what the engine keeps (the partial state). */
async function failingUp(args: CopiedPrefixArgs, previous?: Deployed): Promise<{ error: HostCallError; deployed: Deployed }> {
  const reg = await register(args);
  const error = await engine.up(reg, previous).then(
    () => assert.fail("the up should have failed"),
    (e: unknown) => e as HostCallError,
  );
  assert.ok(error instanceof HostCallError && error.partial, `a partial state is kept: ${String(error)}`);
  const inputs = await engine.check(reg, previous);
  return { error, deployed: { reg, id: error.partial.id, inputs, outputs: error.partial.properties } };
}

test("(simulated s3control) a seed is copied by one S3 Batch Operations job: real bytes, the job's fields, engine s3-batch; the next up plans nothing; destroy removes it all", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket({ versioned: true })];
  const objects = await seed(src, 21);
  const jobsBefore = fake.jobs.length;
  const { deployed } = await engine.up(await register(batch(src, dst, { tags: { team: "data" } })));
  const out = deployed.outputs;
  assert.deepEqual([out.engine, out.copyStatus, out.objectCount, out.copiedCount, out.skippedCount], ["s3-batch", "success", 21, 21, 0]);
  assert.equal(
    out.totalBytes,
    [...objects.values()].reduce((n, b) => n + b.length, 0),
  );
  for (const [key, body] of objects) assert.equal(sha(await rig.get(dst, `seed/fx/${key}`)), sha(body), key);
  assert.deepEqual(await rig.tags(dst, "seed/fx/dir0/with space-0.bin"), { team: "data" });

  assert.equal(fake.jobs.length, jobsBefore + 1, "one job");
  const job = fake.jobs.at(-1)!;
  assert.deepEqual(
    [job.status, job.roleArn, job.confirmationRequired, job.account, job.scope],
    ["Complete", ROLE, "false", "123456789012", "eu-west-1/s3"],
  );
  assert.deepEqual(
    { ...job.operation, unmodifiedSince: typeof job.operation.unmodifiedSince },
    {
      name: "S3PutObjectCopy",
      targetResource: `arn:aws:s3:::${dst}`,
      targetKeyPrefix: "seed/",
      metadataDirective: "COPY",
      tags: [{ Key: "team", Value: "data" }],
      unmodifiedSince: "string",
    },
  );
  assert.deepEqual(job.manifest, {
    format: "S3BatchOperations_CSV_20180820",
    fields: ["Bucket", "Key"],
    objectArn: `arn:aws:s3:::${dst}/seed/fx/.copied-prefix-batch/manifest.csv`,
    etag: job.manifest.etag,
  });
  assert.deepEqual(job.report, {
    enabled: "true",
    bucket: `arn:aws:s3:::${dst}`,
    prefix: "seed/fx/.copied-prefix-batch/reports",
    format: "Report_CSV_20180820",
    scope: "FailedTasksOnly",
  });
  assert.deepEqual(new Set(job.tasks.map(([b, k]) => `${b}/${k}`)), new Set([...objects.keys()].map((k) => `${src}/fx/${k}`)));
  const held = [...(await versions(dst)).keys()].sort();
  assert.deepEqual(held, [...[...objects.keys()].map((k) => `seed/fx/${k}`), `seed/fx/${MANIFEST}`].sort(), "the job's files are gone");

  const again = await engine.up(await register(batch(src, dst, { tags: { team: "data" } })), deployed);
  assert.equal(again.step, "same");
  assert.equal(fake.jobs.length, jobsBefore + 1, "no second job");
  await engine.destroy(deployed);
  assert.equal((await versions(dst)).size, 0, "every version written is gone, and no delete marker is left");
});

test("(simulated s3control) incremental: the job's CSV lists only the changed and the added keys; a removed source is pruned", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  await seed(src, 12);
  let { deployed } = await engine.up(await register(batch(src, dst, { prune: true })));
  await rig.put(src, "fx/dir1/ünïcødé-日本-1.bin", "changed");
  await rig.put(src, "fx/new, with comma+plus.txt", "added");
  await rig.s3.send(new DeleteObjectCommand({ Bucket: src, Key: "fx/dir2/plus+sign-2.bin" }));
  let step;
  ({ deployed, step } = await engine.up(await register(batch(src, dst, { prune: true })), deployed));
  assert.equal(step, "update");
  const job = fake.jobs.at(-1)!;
  assert.deepEqual(job.tasks.map(([, k]) => k).sort(), ["fx/dir1/ünïcødé-日本-1.bin", "fx/new, with comma+plus.txt"]);
  const out = deployed.outputs;
  assert.deepEqual([out.copiedCount, out.skippedCount, out.removedCount, out.objectCount], [2, 10, 1, 12]);
  assert.equal((await rig.get(dst, "seed/fx/new, with comma+plus.txt")).toString(), "added");
  assert.equal((await rig.get(dst, "seed/fx/dir1/ünïcødé-日本-1.bin")).toString(), "changed");
  assert.equal(await rig.exists(dst, "seed/fx/dir2/plus+sign-2.bin"), false, "pruned");
  await engine.destroy(deployed);
});

test("(simulated s3control) keys the job fails are named with their error codes; the others are recorded, and the next up copies only the failed", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  const objects = await seed(src, 10);
  const [a, b] = ["fx/dir0/with space-0.bin", "fx/dir2/plus+sign-2.bin"];
  assert.ok(objects.has(a.slice(3)) && objects.has(b.slice(3)));
  fake.nextScript({
    fail: {
      [a]: { status: 403, code: "AccessDenied", message: "Access Denied" },
      [b]: { status: 503, code: "SlowDown", message: 'Please reduce your request rate, "now"' },
    },
  });
  const { error, deployed } = await failingUp(batch(src, dst));
  assert.equal(codeOf(error), "CopyFailed");
  // Each key with the package's code and S3's: "dir0/with space-0.bin (AccessDenied: AccessDenied: Access Denied)".
  const named = [...error.message.matchAll(/(dir\d\/[^()]+?) \((\w+): (\w+):/g)].map((m) => `${m[1]}=${m[2]}/${m[3]}`).sort();
  assert.deepEqual(named, [`${a.slice(3)}=AccessDenied/AccessDenied`, `${b.slice(3)}=CopyFailed/SlowDown`], error.message);
  assert.match(error.message, /^.*2 object\(s\) failed \(8 copied/);
  const out = deployed.outputs;
  assert.deepEqual([out.copyStatus, out.engine, out.copiedCount, out.objectCount], ["failed", "s3-batch", 8, 8]);
  assert.equal(await rig.exists(dst, `seed/${a}`), false);

  const next = await engine.up(await register(batch(src, dst)), deployed);
  assert.equal(next.step, "update");
  assert.deepEqual(
    fake.jobs
      .at(-1)!
      .tasks.map(([, k]) => k)
      .sort(),
    [a, b].sort(),
    "only the failed keys are in the next job",
  );
  assert.deepEqual([next.deployed.outputs.copyStatus, next.deployed.outputs.objectCount], ["success", 10]);
  await engine.destroy(next.deployed);
});

test("(simulated s3control) a job that outlives timeoutSeconds is cancelled with UpdateJobStatus; what it copied is kept as partial state, and the next up copies only the rest", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket({ versioned: true })];
  await seed(src, 12);
  fake.nextScript({ holdAfter: 5 });
  const { error, deployed } = await failingUp(batch(src, dst, { timeoutSeconds: 4 }));
  assert.equal(codeOf(error), "CopyTimedOut");
  const job = fake.jobs.at(-1)!;
  assert.equal(job.status, "Cancelled");
  assert.ok(
    fake.requests.some(
      (r) => r.method === "POST" && r.url.startsWith(`/v20180820/jobs/${job.id}/status?`) && /requestedJobStatus=Cancelled/.test(r.url),
    ),
    "UpdateJobStatus Cancelled reached S3 Control",
  );
  assert.deepEqual([deployed.outputs.copyStatus, deployed.outputs.copiedCount, deployed.outputs.objectCount], ["aborted", 5, 5]);
  const copiedFirst = new Set(job.tasks.slice(0, 5).map(([, k]) => k));

  const next = await engine.up(await register(batch(src, dst)), deployed);
  assert.equal(next.step, "update");
  const rest = fake.jobs.at(-1)!.tasks.map(([, k]) => k);
  assert.equal(rest.length, 7);
  assert.ok(
    rest.every((k) => !copiedFirst.has(k)),
    "nothing the cancelled job copied is copied again",
  );
  assert.deepEqual(
    [next.deployed.outputs.copyStatus, next.deployed.outputs.objectCount, next.deployed.outputs.copiedCount],
    ["success", 12, 7],
  );
  const each = await versions(dst, "seed/fx/dir");
  assert.ok(
    [...each.values()].every((n) => n === 1),
    "one version per object: none written twice",
  );
  await engine.destroy(next.deployed);
  assert.equal((await versions(dst)).size, 0);
});

test("(simulated s3control) a run killed while its job runs: the next up cancels that job before starting its own, and ends with every object recorded once", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  await seed(src, 6);
  const reg = await register(batch(src, dst));
  const doomed = await startHost();
  try {
    fake.nextScript({ holdAfter: 2 });
    const before = fake.jobs.length;
    const creating = doomed.create(reg, await new MiniEngine(doomed).check(reg)).catch(() => undefined);
    while (fake.jobs.length === before || fake.jobs.at(-1)!.succeeded < 2) await sleep(50);
    doomed.signalGroup("SIGKILL");
    await doomed.exited();
    await creating;
  } finally {
    await doomed.stop();
  }
  const orphan = fake.jobs.at(-1)!;
  assert.equal(orphan.status, "Active", "a killed provider cannot stop its job");

  const { deployed } = await engine.up(reg);
  assert.equal(orphan.status, "Cancelled");
  assert.ok(
    fake.requests.some((r) => r.url.startsWith(`/v20180820/jobs/${orphan.id}/status?`)),
    "cancelled with UpdateJobStatus",
  );
  assert.notEqual(fake.jobs.at(-1)!.id, orphan.id);
  assert.deepEqual([deployed.outputs.copyStatus, deployed.outputs.objectCount], ["success", 6]);
  assert.deepEqual([...(await versions(dst, "seed/fx/.copied-prefix-")).keys()], [`seed/fx/${MANIFEST}`], "no job files, no run mark");
  await engine.destroy(deployed);
  assert.equal((await versions(dst)).size, 0);
});

test("(simulated s3control) a source replaced after the listing fails its task (the job is pinned with UnModifiedSinceConstraint) and is not recorded under its old ETag", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  await seed(src, 4);
  let release!: () => void;
  fake.nextScript({ until: new Promise<void>((resolve) => (release = resolve)) });
  const before = fake.jobs.length;
  const up = failingUp(batch(src, dst));
  while (fake.jobs.length === before || fake.jobs.at(-1)!.status !== "Active") await sleep(50);
  // Last-Modified has one-second resolution: write in the second after the job (and so after the listing) began.
  const created = fake.jobs.at(-1)!.created.getTime();
  await sleep(Math.max(0, Math.floor(created / 1000) * 1000 + 1100 - Date.now()));
  await rig.put(src, "fx/dir0/with space-0.bin", "replaced meanwhile");
  release();
  const { error, deployed } = await up;
  assert.equal(codeOf(error), "SourceChanged");
  assert.match(error.message, /dir0\/with space-0\.bin \(SourceChanged: PreconditionFailed:/);
  assert.deepEqual([deployed.outputs.copiedCount, deployed.outputs.objectCount], [3, 3]);
  const next = await engine.up(await register(batch(src, dst)), deployed);
  assert.equal((await rig.get(dst, "seed/fx/dir0/with space-0.bin")).toString(), "replaced meanwhile");
  await engine.destroy(next.deployed);
});

test("(simulated s3control, listing size rewritten by a proxy) an object the listing says is over 5 GiB is copied by the provider's own path, not by the job", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  const objects = await seed(src, 6);
  await rig.put(src, "fx/huge.bin", randomBytes(4096));
  claimedSize = { key: "fx/huge.bin", size: 6 * 1024 ** 3 };
  try {
    const mark = proxy.seen.length;
    const { deployed } = await engine.up(await register(batch(src, dst)));
    const job = fake.jobs.at(-1)!;
    assert.deepEqual(job.tasks.map(([, k]) => k).sort(), [...objects.keys()].map((k) => `fx/${k}`).sort(), "the job does not get it");
    const copies = proxy.seen.slice(mark).filter((r) => r.method === "PUT" && r.headers["x-amz-copy-source"]);
    assert.deepEqual(
      copies.map((r) => new URL(r.url, "http://p").pathname),
      [`/${dst}/seed/fx/huge.bin`],
      "the provider copied it, and only it",
    );
    assert.equal(sha(await rig.get(dst, "seed/fx/huge.bin")), sha(await rig.get(src, "fx/huge.bin")));
    assert.deepEqual([deployed.outputs.copiedCount, deployed.outputs.objectCount], [7, 7]);
    claimedSize = undefined;
    await engine.destroy(deployed);
  } finally {
    claimedSize = undefined;
  }
});

test('(simulated s3control) engine "auto" stays on the provider without a role, and with a role below the threshold', async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  await seed(src, 5);
  const jobsBefore = fake.jobs.length;
  const plain = { source: at(src, "fx/"), destination: at(dst, "seed/fx/") };
  let { deployed } = await engine.up(await register(plain));
  assert.deepEqual([deployed.outputs.engine, deployed.outputs.objectCount], ["provider", 5]);
  await engine.destroy(deployed);
  ({ deployed } = await engine.up(await register({ ...plain, engine: "auto", batchRoleArn: ROLE })));
  assert.deepEqual([deployed.outputs.engine, deployed.outputs.objectCount], ["provider", 5]);
  assert.equal(fake.jobs.length, jobsBefore, "no job was created");
  await engine.destroy(deployed);
});

test('engine "s3-batch" with a copy a job cannot express fails at check, before anything is written', async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  const unmappable = await engine
    .up(await register({ ...batch(src, dst), destination: at(dst, "elsewhere/") }))
    .catch((e: unknown) => e as CheckFailed);
  assert.ok(unmappable instanceof CheckFailed);
  assert.deepEqual(
    unmappable.failures.map((f) => f.property),
    ["destination.s3.prefix"],
  );
  const headersOnly = await engine
    .up(await register(batch(src, dst, { contentType: "text/plain" })))
    .catch((e: unknown) => e as CheckFailed);
  assert.ok(headersOnly instanceof CheckFailed);
  assert.deepEqual(
    headersOnly.failures.map((f) => f.property),
    ["contentType"],
  );
  assert.equal((await versions(dst)).size, 0);
});
