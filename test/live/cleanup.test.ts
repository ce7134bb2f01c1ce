// LIVE, the harness itself: the sweep every live file ends with (and the project's globalTeardown repeats over the
// whole run) removes everything under its prefix on the real stores, versions, delete markers, multipart uploads,
// snapshots and uncommitted blobs included, and nothing beside it. Writes only under `<run prefix>cleanup/`.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { CreateMultipartUploadCommand, DeleteObjectCommand } from "@aws-sdk/client-s3";
import { isSkipped, liveRun } from "../support/liveTargets.ts";
import { listBlobs, listS3, sweepAzure, sweepS3 } from "../support/liveSweep.ts";
import { startLiveRig, type LiveRig } from "../support/liveRig.ts";

const run = liveRun();
const s3Skip = isSkipped(run.s3) ? run.s3.skip : false;
const azureSkip = isSkipped(run.azure) ? run.azure.skip : false;

let rig: LiveRig;
before(async () => {
  if (s3Skip && azureSkip) return;
  rig = await startLiveRig(run, "cleanup", ["s3", "azure"]);
});
after(async () => {
  await rig?.stop();
});

test("harness: the S3 sweep removes every version, delete marker and multipart upload under its prefix, and nothing beside it", { skip: s3Skip }, async () => {
  const s3 = rig.s3!;
  await s3.put("doomed/a", "one");
  await s3.put("doomed/a", "two"); // a second version on a versioned bucket
  await s3.put("doomed/deep/b", "b");
  await s3.client.send(new DeleteObjectCommand({ Bucket: s3.target.bucket, Key: s3.key("doomed/deep/b") })); // a delete marker when versioned
  await s3.client.send(new CreateMultipartUploadCommand({ Bucket: s3.target.bucket, Key: s3.key("doomed/upload") }));
  await s3.put("kept/x", "kept");
  await s3.put("doomed-sibling", "kept too"); // shares the string "doomed" but not the prefix "doomed/"
  const before = await listS3(s3.client, s3.target, s3.key("doomed/"));
  assert.equal(before.uploads.length, 1);
  const expected = { Enabled: 4, Off: 1 }[s3.target.versioning]; // a suspended bucket keeps "null" versions: not counted
  if (expected !== undefined) assert.equal(before.versions.length, expected, JSON.stringify(before.versions));
  assert.equal(await sweepS3(s3.client, s3.target, s3.key("doomed/")), before.versions.length + 1);
  assert.deepEqual(await listS3(s3.client, s3.target, s3.key("doomed/")), { versions: [], uploads: [] });
  assert.equal((await s3.get("kept/x")).toString(), "kept");
  assert.equal((await s3.get("doomed-sibling")).toString(), "kept too");
  await assert.rejects(sweepS3(s3.client, s3.target, ""), /refusing to sweep/, "a sweep outside a run's prefix is refused");
  await assert.rejects(sweepS3(s3.client, s3.target, "pulumi-copied-object-live/"), /refusing to sweep/);
});

test("harness: the Azure sweep removes every blob, snapshot and uncommitted blob under its prefix, and nothing beside it", { skip: azureSkip }, async () => {
  const azure = rig.azure!;
  await azure.put("doomed/a", "one");
  await azure.container.getBlobClient(azure.name("doomed/a")).createSnapshot();
  await azure.container.getBlockBlobClient(azure.name("doomed/uncommitted")).stageBlock(Buffer.from("block-0").toString("base64"), "staged, never committed", 23);
  await azure.put("kept/x", "kept");
  await azure.put("doomed-sibling", "kept too");
  const before = await listBlobs(azure.container, azure.name("doomed/"));
  assert.ok(before.some((b) => b.snapshot), `a snapshot is listed: ${JSON.stringify(before)}`);
  assert.ok(before.some((b) => b.name === azure.name("doomed/uncommitted")), `the blob of uncommitted blocks is listed: ${JSON.stringify(before)}`);
  await sweepAzure(azure.container, azure.name("doomed/"));
  assert.deepEqual(await listBlobs(azure.container, azure.name("doomed/")), []);
  assert.equal((await azure.get("kept/x")).toString(), "kept");
  assert.equal((await azure.get("doomed-sibling")).toString(), "kept too");
  await assert.rejects(sweepAzure(azure.container, ""), /refusing to sweep/);
});
