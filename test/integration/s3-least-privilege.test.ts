// Least privilege on S3, through the real provider host. SIMULATED permissions: a proxy in front of the real
// server answers 403 AccessDenied to one optional call at a time, as AWS answers a policy that does not grant
// it (moto and Ceph RGW here grant everything). Each optional call's loss is named in a warning, and the
// copy, its bytes and destroy go on; a required call's 403 names the permissions and the side at fault.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import type http from "node:http";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { startCountingProxy, type CountingProxy, type Fault } from "../support/countingProxy.ts";
import { HostCallError } from "../support/providerHost.ts";
import { codeOf, sha256, startS3Rig, type S3Rig } from "../support/s3rig.ts";

const MiB = 1024 * 1024;
let rig: S3Rig;
let proxy: CountingProxy;
let deny: ((req: http.IncomingMessage) => boolean) | undefined;
let hold: ((req: http.IncomingMessage) => number) | undefined;
before(async () => {
  rig = await startS3Rig();
  proxy = await startCountingProxy(rig.server.endpoint, {
    fault: (req): Fault | undefined => (deny?.(req) ? { status: 403, code: "AccessDenied" } : undefined),
    delayMs: (req) => hold?.(req) ?? 0,
  });
});
after(async () => {
  await proxy?.close();
  await rig?.stop();
});

const at = (bucket: string, key: string) => rig.at(bucket, key, { endpoint: proxy.endpoint });
const url = (req: http.IncomingMessage) => new URL(req.url ?? "/", "http://proxy");
const isTagging = (req: http.IncomingMessage, key: string) => req.method === "GET" && url(req).searchParams.has("tagging") && url(req).pathname.endsWith(`/${key}`);

async function outcomeOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => undefined, (e: unknown) => e);
}

test("simulated: without s3:ListBucketMultipartUploads, single and multipart copies and destroy go on; the sweep's loss is warned once per bucket, naming the permissions", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  const body = randomBytes(12 * MiB);
  await rig.put(src, "seed", body);
  deny = (req) => req.method === "GET" && url(req).searchParams.has("uploads");
  try {
    const mark = rig.host.output().length;
    const single = await rig.engine.up(await rig.register({ source: at(src, "seed"), destination: at(dst, "single") }, undefined, "single"));
    const multi = await rig.engine.up(await rig.register({ source: at(src, "seed"), destination: at(dst, "multi"), strategy: "multipart", partSizeBytes: 5 * MiB }, undefined, "multi"));
    for (const key of ["single", "multi"]) assert.equal(sha256(await rig.get(dst, key)), sha256(body), key);
    await rig.engine.destroy(single.deployed);
    await rig.engine.destroy(multi.deployed);
    assert.deepEqual([await rig.exists(dst, "single"), await rig.exists(dst, "multi")], [false, false]);
    const said = rig.host.output().slice(mark);
    assert.ok(proxy.faults.length >= 3, `the sweep was refused ${proxy.faults.length} times`);
    assert.equal(said.match(/could not look for multipart uploads left on s3:\/\/\S+ by a killed run/g)?.length, 1, "warned once");
    assert.match(said, /grant s3:ListBucketMultipartUploads and s3:AbortMultipartUpload/);
  } finally {
    deny = undefined;
  }
});

test("simulated: without s3:GetObjectTagging on the source, a multipart copy goes on untagged and says so; giving tags needs no read", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  await rig.put(src, "seed", randomBytes(6 * MiB), { Tagging: "env=prod" });
  deny = (req) => isTagging(req, "seed");
  try {
    const mark = rig.host.output().length;
    await rig.engine.up(await rig.register({ source: at(src, "seed"), destination: at(dst, "untagged"), strategy: "multipart", partSizeBytes: 5 * MiB }, undefined, "untagged"));
    assert.deepEqual(await rig.tags(dst, "untagged"), {});
    assert.match(rig.host.output().slice(mark), /the source's tags could not be read \(no s3:GetObjectTagging\), so the multipart copy gets none/);
    await rig.engine.up(await rig.register({ source: at(src, "seed"), destination: at(dst, "given"), strategy: "multipart", partSizeBytes: 5 * MiB, tags: { env: "dev" } }, undefined, "given"));
    assert.deepEqual(await rig.tags(dst, "given"), { env: "dev" });
  } finally {
    deny = undefined;
  }
});

test("simulated: without s3:GetObjectTagging on the destination, given tags are set but cannot be checked, and that is said", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  await rig.put(src, "seed", "payload");
  deny = (req) => isTagging(req, "out");
  try {
    await rig.engine.up(await rig.register({ source: at(src, "seed"), destination: at(dst, "out"), tags: { env: "dev" } }));
    assert.deepEqual(await rig.tags(dst, "out"), { env: "dev" });
    assert.match(rig.host.output(), /could not read back the tags of s3:\/\/\S+\/out \(no s3:GetObjectTagging\)/);
  } finally {
    deny = undefined;
  }
});

test("simulated: a 403 on CopyObject is AccessDenied naming the source read and the destination write, each with its side", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  await rig.put(src, "seed", "payload");
  deny = (req) => req.method === "PUT" && !!req.headers["x-amz-copy-source"];
  try {
    const failure = await outcomeOf(rig.engine.up(await rig.register({ source: at(src, "seed"), destination: at(dst, "out") })));
    assert.ok(failure instanceof HostCallError);
    assert.equal(codeOf(failure), "AccessDenied");
    assert.match(failure.message, new RegExp(`need s3:GetObject on the source \\(s3://${src}/seed, source\\.s3\\) and s3:PutObject on the destination \\(s3://${dst}/out, destination\\.s3\\)`));
  } finally {
    deny = undefined;
  }
});

test("a source deleted while its parts are copied (NoSuchKey from UploadPartCopy) is SourceChanged, not DestinationNotFound; the upload is aborted (parts slowed by a proxy)", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  await rig.put(src, "seed", randomBytes(15 * MiB));
  hold = (req) => (url(req).searchParams.has("partNumber") ? 400 : 0);
  try {
    const copying = outcomeOf(rig.engine.up(await rig.register({ source: at(src, "seed"), destination: at(dst, "out"), strategy: "multipart", partSizeBytes: 5 * MiB, concurrency: 1 })));
    // The event: the first part has been asked for; two more are still to come.
    while (!proxy.requests.some((r) => r.url.startsWith(`/${dst}/out?`) && r.url.includes("partNumber=1"))) await sleep(10);
    await rig.s3.send(new DeleteObjectCommand({ Bucket: src, Key: "seed" }));
    const failure = await copying;
    assert.ok(failure instanceof HostCallError, String(failure));
    assert.equal(codeOf(failure), "SourceChanged", failure.message);
    assert.match(failure.message, /The source was deleted while it was being copied|changed while its parts were being copied/);
    assert.equal(await rig.uploads(dst), 0);
    assert.equal(await rig.exists(dst, "out"), false);
  } finally {
    hold = undefined;
  }
});
