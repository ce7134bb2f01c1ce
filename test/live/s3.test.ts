// LIVE: CopiedObject against a real S3 bucket (LIVE_S3_BUCKET), through Pulumi's real provider host over gRPC, as
// the integration suites drive it. Writes only under `<run prefix>s3/`, and removes all of it at the end (afterAll,
// then the project's globalTeardown), failed or not. Skipped, saying why, without the variables or credentials.
import { after, before, diagnostic, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCopyCommand } from "@aws-sdk/client-s3";
import { HostCallError } from "../support/providerHost.ts";
import { codeOf } from "../support/s3rig.ts";
import { isSkipped, liveRun } from "../support/liveTargets.ts";
import { sha256, startLiveRig, type LiveRig, type LiveS3 } from "../support/liveRig.ts";

const MiB = 1024 * 1024;
const run = liveRun();
const skip = isSkipped(run.s3) ? run.s3.skip : false;
const versioning = isSkipped(run.s3) ? "" : run.s3.versioning;
const unversioned = skip || (versioning !== "Enabled" ? `the bucket is not versioned (versioning: ${versioning})` : false);

let rig: LiveRig;
let s3: LiveS3;
before(async () => {
  if (skip) return;
  rig = await startLiveRig(run, "s3", ["s3"]);
  s3 = rig.s3!;
});
after(async () => {
  await rig?.stop();
});

const unquote = (etag: string | undefined) => (etag ?? "").replace(/"/g, "");
async function failureOf(promise: Promise<unknown>): Promise<HostCallError> {
  const outcome = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(outcome instanceof HostCallError, `expected a failed call, got ${String(outcome)}`);
  return outcome;
}

// One 11 MiB source, uploaded once, for the multipart and timeout scenarios.
const SOURCE = "shared/source-11MiB.bin";
const sourceHeaders = { ContentType: "application/x-tar", CacheControl: "max-age=60", Metadata: { origin: "live" } };
let sourceBody: Promise<Buffer> | undefined;
const bigSource = () =>
  (sourceBody ??= (async () => {
    const body = randomBytes(11 * MiB);
    await s3.put(SOURCE, body, sourceHeaders);
    return body;
  })());

test("S3 → S3: the copy has the source's bytes, headers and metadata, and outputs the destination's ETag and version; a second up does nothing", { skip }, async () => {
  const body = randomBytes(256 * 1024);
  const put = await s3.put("copy/source.bin", body, { ContentType: "application/gzip", Metadata: { origin: "live" } });
  const reg = await rig.register({ source: s3.at("copy/source.bin"), destination: s3.at("copy/dest.bin") });
  const first = await rig.engine.up(reg);
  assert.equal(first.step, "create");
  assert.equal(sha256(await s3.get("copy/dest.bin")), sha256(body), "the bytes read back");
  const head = await s3.head("copy/dest.bin");
  const out = first.deployed.outputs;
  // Not compared with the source's ETag: with SSE-KMS as the bucket's default, a copy's ETag is not its MD5.
  assert.equal(out.etag, unquote(head.ETag), "etag is the destination's");
  assert.equal(out.sourceEtag, put.etag);
  assert.equal(out.versionId, s3.versioned ? head.VersionId : undefined);
  assert.deepEqual([out.contentLength, out.strategy, out.copyStatus], [body.length, "copy", "success"]);
  assert.equal(head.ContentType, "application/gzip");
  assert.deepEqual(head.Metadata, { origin: "live" });
  assert.equal((await rig.engine.up(reg, first.deployed)).step, "same");
  await rig.engine.destroy(first.deployed);
  assert.equal(await s3.exists("copy/dest.bin"), false);
});

test("S3 → S3: a changed source is re-copied in place on the next up", { skip }, async () => {
  await s3.put("change/source", "first");
  const reg = await rig.register({ source: s3.at("change/source"), destination: s3.at("change/dest") });
  const first = await rig.engine.up(reg);
  assert.equal((await s3.get("change/dest")).toString(), "first");
  const changed = await s3.put("change/source", "second, longer");
  const second = await rig.engine.up(reg, first.deployed);
  assert.equal(second.step, "update");
  assert.equal(second.deployed.id, first.deployed.id);
  assert.equal((await s3.get("change/dest")).toString(), "second, longer");
  assert.equal(second.deployed.outputs.sourceEtag, changed.etag);
  assert.equal(second.deployed.outputs.etag, unquote((await s3.head("change/dest")).ETag));
  assert.notEqual(second.deployed.outputs.etag, first.deployed.outputs.etag);
  await rig.engine.destroy(second.deployed);
  assert.equal(await s3.exists("change/dest"), false);
});

test("S3: a pinned old version promoted over the current one; destroy removes the promoted version and the current one is back", { skip: unversioned }, async () => {
  const good = await s3.put("promote/index.html", "good release");
  const bad = await s3.put("promote/index.html", "bad release");
  const { deployed } = await rig.engine.up(await rig.register({ source: s3.at("promote/index.html", { versionId: good.versionId }), destination: s3.at("promote/index.html") }));
  assert.equal((await s3.get("promote/index.html")).toString(), "good release");
  assert.equal(deployed.outputs.sourceVersionId, good.versionId);
  const during = await s3.versions("promote/index.html");
  assert.equal(during.versions.length, 3);
  assert.equal(during.versions[0], deployed.outputs.versionId, "the newest version is the one the resource reports");
  await rig.engine.destroy(deployed);
  const afterDestroy = await s3.versions("promote/index.html");
  assert.deepEqual([...afterDestroy.versions].sort(), [good.versionId, bad.versionId].sort(), "exactly the promoted version was removed");
  assert.deepEqual(afterDestroy.deleteMarkers, [], "and no delete marker was left");
  assert.equal((await s3.get("promote/index.html")).toString(), "bad release");
});

test("S3: 11 MiB in three forced 5 MiB parts (UploadPartCopy) has the source's bytes, headers and metadata, and leaves no upload", { skip }, async () => {
  const body = await bigSource();
  const { deployed } = await rig.engine.up(await rig.register({ source: s3.at(SOURCE), destination: s3.at("multipart/dest.bin"), strategy: "multipart", partSizeBytes: 5 * MiB, concurrency: 3 }));
  assert.equal(deployed.outputs.strategy, "multipart");
  assert.match(String(deployed.outputs.etag), /-3$/, "a three-part ETag");
  const head = await s3.head("multipart/dest.bin");
  assert.equal(deployed.outputs.etag, unquote(head.ETag));
  assert.equal(head.ContentLength, body.length);
  assert.deepEqual([head.ContentType, head.CacheControl, head.Metadata], [sourceHeaders.ContentType, sourceHeaders.CacheControl, sourceHeaders.Metadata]);
  assert.equal(sha256(await s3.get("multipart/dest.bin")), sha256(body), "the bytes read back");
  assert.equal(await s3.uploads(), 0, "no multipart upload under the prefix");
  await rig.engine.destroy(deployed);
  assert.equal(await s3.exists("multipart/dest.bin"), false);
});

// The source is made server-side (UploadPartCopy of the 11 MiB one), so nothing big is uploaded from here; its
// 5 MiB parts, one at a time, take S3 several seconds, well past the 1 s deadline.
const TIMEOUT_COPIES = 20;
test(`S3: a multipart copy that outlives timeoutSeconds (${TIMEOUT_COPIES * 11} MiB, 5 MiB parts one at a time, 1 s) is aborted: CopyTimedOut, partial state, no upload left under the prefix, nothing written`, { skip }, async () => {
  await bigSource();
  const { bucket } = s3.target;
  const Key = s3.key("timeout/source.bin");
  const { UploadId } = await s3.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }));
  const parts = await Promise.all(
    Array.from({ length: TIMEOUT_COPIES }, async (_, i) => {
      const out = await s3.client.send(new UploadPartCopyCommand({ Bucket: bucket, Key, UploadId, PartNumber: i + 1, CopySource: encodeURI(`${bucket}/${s3.key(SOURCE)}`) }));
      return { PartNumber: i + 1, ETag: out.CopyPartResult!.ETag };
    }),
  );
  await s3.client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));

  const reg = await rig.register({ source: s3.at("timeout/source.bin"), destination: s3.at("timeout/dest.bin"), strategy: "multipart", partSizeBytes: 5 * MiB, concurrency: 1, timeoutSeconds: 1 });
  const inputs = await rig.engine.check(reg);
  const started = Date.now();
  const failure = await failureOf(rig.host.create(reg, inputs));
  diagnostic(`the copy was stopped ${Date.now() - started} ms after create: ${failure.message.split("\n")[0].slice(0, 200)}`);
  assert.equal(codeOf(failure), "CopyTimedOut", failure.message);
  assert.equal(failure.partial?.properties.copyStatus, "aborted");
  assert.equal(await s3.uploads(), 0, "the multipart upload was aborted: none is left under the prefix");
  assert.equal(await s3.exists("timeout/dest.bin"), false);
  // What the engine does with a partial resource on destroy.
  await rig.host.delete(reg, failure.partial!.id, failure.partial!.properties);
  assert.equal(await s3.exists("timeout/dest.bin"), false);
});

test("S3: destroy removes exactly what the resource wrote (versioned: the versions it wrote; others' stay), never the source or a neighbour", { skip }, async () => {
  const theirs = s3.versioned ? await s3.put("destroy/dest", "someone else's earlier version") : undefined;
  await s3.put("destroy/source", "v1");
  await s3.put("destroy/neighbour", "next to it");
  const reg = await rig.register({ source: s3.at("destroy/source"), destination: s3.at("destroy/dest") });
  const first = await rig.engine.up(reg);
  await s3.put("destroy/source", "v2");
  const second = await rig.engine.up(reg, first.deployed);
  assert.equal(second.step, "update");
  assert.equal((await s3.get("destroy/dest")).toString(), "v2");
  if (s3.versioned) {
    const written = [first.deployed.outputs.versionId, second.deployed.outputs.versionId];
    assert.ok(written.every((v) => typeof v === "string" && v), `the versions written: ${written.join(", ")}`);
    assert.deepEqual(new Set((await s3.versions("destroy/dest")).versions), new Set([theirs!.versionId, ...written]));
  }
  await rig.engine.destroy(second.deployed);
  if (s3.versioned) {
    assert.deepEqual(await s3.versions("destroy/dest"), { versions: [theirs!.versionId], deleteMarkers: [] }, "only the two versions written were removed");
    assert.equal((await s3.get("destroy/dest")).toString(), "someone else's earlier version");
  } else {
    assert.equal(await s3.exists("destroy/dest"), false);
  }
  assert.equal((await s3.get("destroy/source")).toString(), "v2", "the source is never touched");
  assert.equal((await s3.get("destroy/neighbour")).toString(), "next to it");
});

test("S3: a missing source is SourceNotFound and a stale sourceEtag SourceChanged, each before anything is written", { skip }, async () => {
  const missing = await failureOf(rig.engine.up(await rig.register({ source: s3.at("errors/no-such-source"), destination: s3.at("errors/dest") })));
  assert.equal(codeOf(missing), "SourceNotFound", missing.message);
  assert.equal(missing.partial, undefined);
  await s3.put("errors/source", "x");
  const stale = await failureOf(rig.engine.up(await rig.register({ source: s3.at("errors/source"), destination: s3.at("errors/dest"), sourceEtag: "0123456789abcdef0123456789abcdef" })));
  assert.equal(codeOf(stale), "SourceChanged", stale.message);
  assert.equal(await s3.exists("errors/dest"), false);
});
