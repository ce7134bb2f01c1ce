// CopiedPrefix on S3 (moto), through Pulumi's real provider host: a seed of 500 objects with awkward keys, the
// incremental runs (a change, an addition, a removal with and without prune), tuning that writes nothing, and
// delete removing only what was written (another process's object under the destination prefix stays).
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { ListObjectVersionsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { CopiedPrefix, type CopiedPrefixArgs } from "pulumi-copied-object";
import { registerUnderMocks } from "../support/providerHost.ts";
import { startCountingProxy, type CountingProxy } from "../support/countingProxy.ts";
import { startS3Rig, type S3Rig } from "../support/s3rig.ts";

let rig: S3Rig;
let proxy: CountingProxy;
before(async () => {
  rig = await startS3Rig();
  proxy = await startCountingProxy(rig.server.endpoint);
});
after(async () => {
  await proxy?.close();
  await rig?.stop();
});

const MANIFEST = ".copied-prefix-manifest.json.gz";
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const register = async (args: CopiedPrefixArgs, name = "prefix") => (await registerUnderMocks(() => new CopiedPrefix(name, args)))[0];
const at = (bucket: string, prefix: string, extra = {}) => ({ s3: { bucket, prefix, endpoint: proxy.endpoint, forcePathStyle: true, ...extra } });

/** Every key under a prefix, with its versions (oldest first is not promised: sorted for comparison). */
async function listAll(bucket: string, prefix = ""): Promise<string[]> {
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await rig.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return keys;
}

async function versionsOf(bucket: string): Promise<{ versions: Map<string, number>; markers: number }> {
  const versions = new Map<string, number>();
  let markers = 0;
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  do {
    const page = await rig.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker, VersionIdMarker }));
    for (const v of page.Versions ?? []) versions.set(v.Key!, (versions.get(v.Key!) ?? 0) + 1);
    markers += page.DeleteMarkers?.length ?? 0;
    KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    VersionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (KeyMarker);
  return { versions, markers };
}

/** 500 objects in nested "directories", with spaces, unicode, +, %, # in their keys, and one empty object. */
async function seed(bucket: string, prefix: string, count = 500): Promise<Map<string, Buffer>> {
  const odd = ["with space", "ünïcødé-日本", "plus+sign", "per%cent", "hash#tag", "emoji-🚀", "a/b/c/deep"];
  const objects = new Map<string, Buffer>();
  for (let i = 0; i < count - 1; i++) objects.set(`dir${i % 7}/${odd[i % odd.length]}-${i}.bin`, randomBytes(64 + (i % 50)));
  objects.set("empty", Buffer.alloc(0));
  const entries = [...objects];
  for (let i = 0; i < entries.length; i += 25) {
    await Promise.all(entries.slice(i, i + 25).map(([key, body]) => rig.put(bucket, prefix + key, body)));
  }
  return objects;
}

test("a seed of 500 objects (nested, awkward keys, one empty) is copied whole; the next up plans nothing; destroy removes exactly those and the manifest", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket({ versioned: true })];
  const objects = await seed(src, "fixtures/");
  await rig.put(src, "elsewhere/not-selected.txt", "outside the prefix");
  const reg = await register({ source: at(src, "fixtures/"), destination: at(dst, "seed/") });
  const { deployed } = await rig.engine.up(reg);
  const out = deployed.outputs;
  assert.deepEqual([out.objectCount, out.copiedCount, out.skippedCount, out.removedCount, out.copyStatus], [500, 500, 0, 0, "success"]);
  assert.equal(out.totalBytes, [...objects.values()].reduce((n, b) => n + b.length, 0));
  assert.match(String(out.manifestDigest), /^[0-9a-f]{64}$/);
  assert.equal(deployed.id, `s3+${proxy.endpoint}/${dst}/seed/`);
  const keys = await listAll(dst);
  assert.deepEqual(new Set(keys), new Set([...[...objects.keys()].map((k) => `seed/${k}`), `seed/${MANIFEST}`]));
  for (const [key, body] of objects) assert.equal(sha(await rig.get(dst, `seed/${key}`)), sha(body), key);

  const again = await rig.engine.up(await register({ source: at(src, "fixtures/"), destination: at(dst, "seed/") }), deployed);
  assert.equal(again.step, "same", "unchanged source: nothing planned");

  await rig.engine.destroy(deployed);
  const left = await versionsOf(dst);
  assert.deepEqual([left.versions.size, left.markers], [0, 0], "every version written is gone, and no delete marker was left");
});

test("incremental: a change and an addition are copied, nothing else; a removal is kept without prune and removed with it; tuning writes nothing", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket({ versioned: true })];
  await seed(src, "fx/", 40);
  const args = { source: at(src, "fx/"), destination: at(dst, "seed/") };
  let { deployed } = await rig.engine.up(await register(args));
  await rig.put(src, "fx/dir2/plus+sign-2.bin", "changed");
  await rig.put(src, "fx/new/added.txt", "added");
  await rig.s3.send(new (await import("@aws-sdk/client-s3")).DeleteObjectCommand({ Bucket: src, Key: "fx/dir3/per%cent-3.bin" }));
  const before = (await versionsOf(dst)).versions;

  let step;
  const from = proxy.requests.length;
  ({ deployed, step } = await rig.engine.up(await register(args), deployed));
  assert.equal(step, "update");
  assert.deepEqual([deployed.outputs.copiedCount, deployed.outputs.skippedCount, deployed.outputs.removedCount], [2, 38, 0]);
  const listings = proxy.requests.slice(from).filter((r) => r.method === "GET" && r.url.includes(`/${src}`) && r.url.includes("list-type=2"));
  assert.equal(listings.length, 2, "the source is listed once by diff and once by the run");
  assert.equal((await rig.get(dst, "seed/dir2/plus+sign-2.bin")).toString(), "changed");
  assert.equal((await rig.get(dst, "seed/new/added.txt")).toString(), "added");
  assert.equal(await rig.exists(dst, "seed/dir3/per%cent-3.bin"), true, "without prune, the copy of a removed source stays");
  const after = (await versionsOf(dst)).versions;
  const grew = [...after].filter(([k, n]) => n !== (before.get(k) ?? 0)).map(([k]) => k).sort();
  assert.deepEqual(grew, ["seed/.copied-prefix-manifest.json.gz", "seed/dir2/plus+sign-2.bin", "seed/new/added.txt"], "only those were written");

  ({ deployed, step } = await rig.engine.up(await register({ ...args, prune: true }), deployed));
  assert.equal(step, "update");
  assert.deepEqual([deployed.outputs.copiedCount, deployed.outputs.removedCount, deployed.outputs.objectCount], [0, 1, 40]);
  assert.equal(await rig.exists(dst, "seed/dir3/per%cent-3.bin"), false);
  assert.equal((await versionsOf(dst)).versions.get("seed/dir3/per%cent-3.bin"), undefined, "its version is gone too, no marker");

  const manifestBefore = (await versionsOf(dst)).versions.get(`seed/${MANIFEST}`);
  ({ deployed, step } = await rig.engine.up(await register({ ...args, prune: true, concurrency: 4, timeoutSeconds: 900 }), deployed));
  assert.equal(step, "update");
  assert.equal((await versionsOf(dst)).versions.get(`seed/${MANIFEST}`), manifestBefore, "tuning writes nothing, not even a manifest");
  await rig.engine.destroy(deployed);
});

test("delete only what was written: an object another process wrote under the destination prefix survives prune and destroy", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  await seed(src, "p/", 10);
  const args = { source: at(src, "p/"), destination: at(dst, "d/"), prune: true };
  const from = proxy.requests.length;
  let { deployed } = await rig.engine.up(await register(args));
  const sent = proxy.requests.slice(from);
  // From a listing, into an unversioned bucket: one CopyObject per object and no HEAD, whatever the server.
  assert.deepEqual(sent.filter((r) => r.method === "HEAD").map((r) => r.url), [], "no HEAD of any object");
  assert.equal(sent.filter((r) => r.method === "PUT" && !r.url.includes(".copied-prefix")).length, 10, "one CopyObject per object");
  await rig.put(dst, "d/someone-else.txt", "not ours");
  await rig.put(src, "p/more.txt", "more");
  ({ deployed } = await rig.engine.up(await register(args), deployed));
  assert.equal(await rig.exists(dst, "d/someone-else.txt"), true, "prune keeps it");
  await rig.engine.destroy(deployed);
  assert.deepEqual(await listAll(dst), ["d/someone-else.txt"], "destroy keeps it, and removes the rest");
});

test("a manifest deleted out of band: the next up plans a run that adopts what is there by ETag and size (no new version) and writes it again; destroy without one keeps the objects", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket({ versioned: true })];
  await seed(src, "m/", 20);
  const args = { source: at(src, "m/"), destination: at(dst, "out/") };
  let { deployed } = await rig.engine.up(await register(args));
  const eraseManifest = async () => {
    const { DeleteObjectCommand } = await import("@aws-sdk/client-s3");
    for (const [key] of (await versionsOf(dst)).versions) if (key.endsWith(MANIFEST)) await rig.s3.send(new DeleteObjectCommand({ Bucket: dst, Key: key }));
  };
  await eraseManifest();
  const before = (await versionsOf(dst)).versions;
  let step;
  ({ deployed, step } = await rig.engine.up(await register(args), deployed));
  assert.equal(step, "update", "every object counts as new without a manifest");
  assert.deepEqual([deployed.outputs.objectCount, deployed.outputs.copyStatus], [20, "success"]);
  const after = (await versionsOf(dst)).versions;
  for (const [key, n] of before) if (!key.endsWith(MANIFEST)) assert.equal(after.get(key), n, `${key}: adopted, not copied again`);
  assert.equal(await rig.exists(dst, `out/${MANIFEST}`), true, "the manifest is written again");

  await eraseManifest();
  await rig.engine.destroy(deployed);
  assert.equal((await listAll(dst, "out/")).length, 20, "without a manifest, destroy cannot tell what it wrote: it keeps everything");
});

test("two CopiedPrefix resources cannot share a destination prefix: the second is refused before it writes anything", async () => {
  const [a, b, dst] = [await rig.bucket(), await rig.bucket(), await rig.bucket()];
  await seed(a, "x/", 5);
  await rig.put(b, "y/other.txt", "from b");
  const { deployed } = await rig.engine.up(await register({ source: at(a, "x/"), destination: at(dst, "shared/") }, "first"));
  const before = await listAll(dst);
  const failed = await rig.engine.up(await register({ source: at(b, "y/"), destination: at(dst, "shared/") }, "second")).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.match(String(failed?.message), /InvalidInput.*already holds the manifest of another CopiedPrefix.*Choose another destination\.prefix/);
  assert.deepEqual(await listAll(dst), before, "nothing written, the first's manifest untouched");
  await rig.engine.destroy(deployed);
});
