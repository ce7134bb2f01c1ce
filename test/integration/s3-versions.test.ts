// Versioned buckets: version ids out, version pins in, and delete that removes only what it wrote.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { startS3Rig, type S3Rig } from "../support/s3rig.ts";

let rig: S3Rig;
before(async () => {
  rig = await startS3Rig();
});
after(async () => {
  await rig?.stop();
});

test("a copy into a versioned bucket outputs the version it wrote", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket({ versioned: true })];
  await rig.put(src, "seed", "payload");
  const { deployed } = await rig.engine.up(await rig.register({ source: rig.at(src, "seed"), destination: rig.at(dst, "seed") }));
  const head = await rig.head(dst, "seed");
  assert.ok(head.VersionId);
  assert.equal(deployed.outputs.versionId, head.VersionId);
});

test("destroy on a versioned bucket removes only the versions this resource wrote", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket({ versioned: true })];
  const theirs = await rig.put(dst, "seed", "someone else's earlier version");
  await rig.put(src, "seed", "v1");
  const reg = await rig.register({ source: rig.at(src, "seed"), destination: rig.at(dst, "seed") });
  const first = await rig.engine.up(reg);
  await rig.put(src, "seed", "v2");
  const second = await rig.engine.up(reg, first.deployed);
  assert.equal(second.step, "update");
  assert.notEqual(second.deployed.outputs.versionId, first.deployed.outputs.versionId);
  assert.equal((await rig.versions(dst, "seed")).length, 3);

  await rig.engine.destroy(second.deployed);
  assert.deepEqual(await rig.versions(dst, "seed"), [theirs.versionId]);
  assert.equal((await rig.get(dst, "seed")).toString(), "someone else's earlier version");
});

test("a pinned source version is copied, whatever the current version is", async () => {
  const [src, dst] = [await rig.bucket({ versioned: true }), await rig.bucket()];
  const v1 = await rig.put(src, "seed", "version one");
  await rig.put(src, "seed", "version two");
  const { deployed } = await rig.engine.up(await rig.register({ source: rig.at(src, "seed", { versionId: v1.versionId }), destination: rig.at(dst, "seed") }));
  assert.equal((await rig.get(dst, "seed")).toString(), "version one");
  assert.equal(deployed.outputs.sourceVersionId, v1.versionId);
});

test("promoting an old version over the current one, then destroying, restores the current one", async () => {
  const bucket = await rig.bucket({ versioned: true });
  const good = await rig.put(bucket, "site/index.html", "good release");
  await rig.put(bucket, "site/index.html", "bad release");
  const promote = await rig.register({ source: rig.at(bucket, "site/index.html", { versionId: good.versionId }), destination: rig.at(bucket, "site/index.html") });
  const { deployed } = await rig.engine.up(promote);
  assert.equal((await rig.get(bucket, "site/index.html")).toString(), "good release");
  assert.equal((await rig.versions(bucket, "site/index.html")).length, 3);
  await rig.engine.destroy(deployed);
  assert.equal((await rig.get(bucket, "site/index.html")).toString(), "bad release");
  assert.equal((await rig.versions(bucket, "site/index.html")).length, 2);
});

test("a new version of a tracked source is re-copied", async () => {
  const [src, dst] = [await rig.bucket({ versioned: true }), await rig.bucket()];
  await rig.put(src, "seed", "same bytes");
  const reg = await rig.register({ source: rig.at(src, "seed"), destination: rig.at(dst, "seed") });
  const first = await rig.engine.up(reg);
  const v2 = await rig.put(src, "seed", "same bytes");
  const next = await rig.engine.up(reg, first.deployed);
  assert.equal(next.step, "update", "same ETag, new version id");
  assert.equal(next.deployed.outputs.sourceVersionId, v2.versionId);
});
