// LIVE: S3 → Azure Blob across clouds, through Pulumi's real provider host over gRPC: Azure's service reads the
// S3 object through a presigned GET, so the bytes never pass through here. Needs both stores, and an S3 endpoint
// that Azure can reach: against moto + Azurite it is skipped, saying why (Azurite fetches no outside URL;
// test/integration/blob-from-url.test.ts simulates that read). Writes only under `<run prefix>cross/`.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { crossSkip, liveRun } from "../support/liveTargets.ts";
import { sha256, startLiveRig, type LiveAzure, type LiveRig, type LiveS3 } from "../support/liveRig.ts";

const run = liveRun();
const skip = crossSkip(run);

let rig: LiveRig;
let s3: LiveS3;
let azure: LiveAzure;
before(async () => {
  if (skip) return;
  rig = await startLiveRig(run, "cross", ["s3", "azure"]);
  [s3, azure] = [rig.s3!, rig.azure!];
});
after(async () => {
  await rig?.stop();
});

test("S3 → Azure Blob through a presigned GET: bytes, ETag, the source's headers and metadata, no signature kept; a second up does nothing; destroy leaves the source", { skip }, async () => {
  const body = randomBytes(1024 * 1024 + 5);
  const put = await s3.put("source.bin", body, { ContentType: "application/gzip", Metadata: { origin: "live" } });
  const reg = await rig.register({ source: s3.at("source.bin"), destination: azure.at("dest.bin") });
  const first = await rig.engine.up(reg);
  const out = first.deployed.outputs;
  assert.equal(sha256(await azure.get("dest.bin")), sha256(body), "the bytes read back");
  const props = await azure.container.getBlobClient(azure.name("dest.bin")).getProperties();
  assert.equal(out.etag, props.etag?.replace(/"/g, ""), "etag is the destination's");
  assert.equal(out.sourceEtag, put.etag);
  assert.equal(out.sourceVersionId, put.versionId);
  assert.notEqual(out.strategy, "stream", "copied by Azure's service, not through the provider");
  assert.deepEqual([props.contentType, props.metadata], ["application/gzip", { origin: "live" }]);
  for (const text of [JSON.stringify(out), rig.host.output()]) assert.doesNotMatch(text, /X-Amz-Signature=/i, "the presigned GET is neither stored nor logged");
  assert.equal((await rig.engine.up(reg, first.deployed)).step, "same");
  await rig.engine.destroy(first.deployed);
  assert.equal(await azure.exists("dest.bin"), false);
  assert.equal(sha256(await s3.get("source.bin")), sha256(body), "the source is never touched");
});
