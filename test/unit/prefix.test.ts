// CopiedPrefix's pure parts: its input rules (each one made to fail, naming the field), the selection, the key
// mapping, and the manifest (UTF-8 key order, merge, round trip, out-of-order refusal).
import { test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { ambientOf } from "../../dist/ambient.js";
import { compareKeys, ManifestWriter, merge, Peekable, readManifest, unchanged, type ManifestEntry } from "../../dist/manifest.js";
import { validatePrefixInputs } from "../../dist/prefixArgs.js";
import { objectAt, selected } from "../../dist/prefixLocators.js";

const env = ambientOf();
const S3 = { source: { s3: { bucket: "prod", prefix: "fx/" } }, destination: { s3: { bucket: "dev", prefix: "seed/" } } };
const ROLE = "arn:aws:iam::123456789012:role/batch-copy";

test("valid inputs on every kind pass", () => {
  assert.deepEqual(validatePrefixInputs(S3, env), []);
  const blob = { azureBlob: { account: "acct", container: "ctr", prefix: "" } };
  const file = { azureFile: { account: "acct", share: "shr", prefix: "dir/" } };
  assert.deepEqual(validatePrefixInputs({ source: file, destination: blob, include: ["**/*.gz"], prune: true, concurrency: 64 }, env), []);
  const batch = { source: S3.source, destination: { s3: { bucket: "dev", prefix: "seed/fx/" } }, engine: "s3-batch", batchRoleArn: ROLE };
  assert.deepEqual(validatePrefixInputs(batch, env), []);
});

const rows: Array<{ name: string; args: Record<string, unknown>; property: string; reason: RegExp }> = [
  { name: "a URL side", args: { ...S3, source: { url: "https://x/y" } }, property: "source.url", reason: /names one object, not a prefix/ },
  { name: "no prefix", args: { ...S3, source: { s3: { bucket: "prod" } } }, property: "source.s3.prefix", reason: /is required/ },
  { name: "a key", args: { ...S3, source: { s3: { bucket: "prod", prefix: "a/", key: "k" } } }, property: "source.s3.key", reason: /give prefix instead/ },
  { name: "a prefix that is not a string", args: { ...S3, destination: { s3: { bucket: "dev", prefix: 3 } } }, property: "destination.s3.prefix", reason: /must be a string/ },
  {
    name: "a Files prefix without a trailing slash",
    args: { ...S3, source: { azureFile: { account: "a", share: "s", prefix: "dir" } } },
    property: "source.azureFile.prefix",
    reason: /end it with "\/"/,
  },
  {
    name: "a Files prefix with ..",
    args: { ...S3, source: { azureFile: { account: "a", share: "s", prefix: "a/../b/" } } },
    property: "source.azureFile.prefix",
    reason: /"\.\."/,
  },
  {
    name: "a Blob prefix with a . segment",
    args: { ...S3, source: { azureBlob: { account: "a", container: "c", prefix: "a/./b" } } },
    property: "source.azureBlob.prefix",
    reason: /"\." or "\.\." segments/,
  },
  { name: "an invalid bucket (CopiedObject's rule)", args: { ...S3, source: { s3: { bucket: "Bad_Bucket", prefix: "" } } }, property: "source.s3.bucket", reason: /./ },
  { name: "overlapping prefixes in one bucket", args: { source: { s3: { bucket: "bkt", prefix: "a/" } }, destination: { s3: { bucket: "bkt", prefix: "a/copy/" } } }, property: "destination.s3.prefix", reason: /overlap/ },
  { name: "include not a list", args: { ...S3, include: "*.gz" }, property: "include", reason: /list of globs/ },
  { name: "an empty exclude glob", args: { ...S3, exclude: [""] }, property: "exclude", reason: /list of globs/ },
  { name: "prune as a string", args: { ...S3, prune: "yes" }, property: "prune", reason: /./ },
  { name: "concurrency 0", args: { ...S3, concurrency: 0 }, property: "concurrency", reason: /1 to 256/ },
  { name: "concurrency 1000", args: { ...S3, concurrency: 1000 }, property: "concurrency", reason: /1 to 256/ },
  { name: "an unknown engine", args: { ...S3, engine: "batch" }, property: "engine", reason: /"auto", "provider" or "s3-batch"/ },
  { name: "s3-batch without a role", args: { ...S3, engine: "s3-batch" }, property: "batchRoleArn", reason: /is required with engine "s3-batch"/ },
  {
    name: "s3-batch from Azure",
    args: { ...S3, source: { azureBlob: { account: "a", container: "c", prefix: "" } }, engine: "s3-batch", batchRoleArn: ROLE },
    property: "engine",
    reason: /S3 to S3 only/,
  },
  {
    name: "s3-batch with a key mapping a job cannot express",
    args: { ...S3, engine: "s3-batch", batchRoleArn: ROLE },
    property: "destination.s3.prefix",
    reason: /S3 Batch Operations only prepends a prefix.*Or use engine "provider"/,
  },
  { name: "a role that is not an ARN", args: { ...S3, batchRoleArn: "batch-copy" }, property: "batchRoleArn", reason: /IAM role ARN/ },
  { name: "sourceEtag", args: { ...S3, sourceEtag: "abc" }, property: "sourceEtag", reason: /pins one object/ },
  { name: "a misspelt option", args: { ...S3, prunne: true }, property: "prunne", reason: /not an option of CopiedPrefix.*prune/ },
  { name: "a per-object option's own rule", args: { ...S3, storageClass: "COLD" }, property: "storageClass", reason: /./ },
];
for (const row of rows) {
  test(`refused: ${row.name}, naming ${row.property}`, () => {
    const failures = validatePrefixInputs(row.args, env);
    const failure = failures.find((f) => f.property === row.property);
    assert.ok(failure, `no failure names ${row.property}: ${JSON.stringify(failures)}`);
    assert.match(failure.reason, row.reason);
    assert.doesNotMatch(failure.reason, /option of CopiedObject/, "a prefix's errors speak of CopiedPrefix");
  });
}

test("selection: include and exclude globs on the relative key; the manifest and the run mark are never selected", () => {
  assert.equal(selected("a/b.sql.gz", ["**/*.gz"], undefined), true);
  assert.equal(selected("a/b.txt", ["**/*.gz"], undefined), false);
  assert.equal(selected("tmp/b.gz", ["**/*.gz"], ["tmp/**"]), false);
  assert.equal(selected(".copied-prefix-manifest.json.gz", undefined, undefined), false);
  assert.equal(selected(".copied-prefix-running", undefined, undefined), false);
});

test("key mapping: the destination prefix, then the source key without the source prefix, joined as strings", () => {
  assert.deepEqual(objectAt({ s3: { bucket: "dev", prefix: "seed/" } }, "a b/ü+%#.bin"), { s3: { bucket: "dev", key: "seed/a b/ü+%#.bin" } });
  assert.deepEqual(objectAt({ azureBlob: { account: "a", container: "c", prefix: "p-" } }, "x"), { azureBlob: { account: "a", container: "c", blob: "p-x" } });
  assert.deepEqual(objectAt({ azureFile: { account: "a", share: "s", prefix: "" } }, "d/f"), { azureFile: { account: "a", share: "s", path: "d/f" } });
});

test("key order is UTF-8 bytes, as S3 and Azure list, not JavaScript's UTF-16 order", () => {
  // U+FF5E (3 UTF-8 bytes, EF BD 9E) sorts before U+1F680 (4 bytes, F0 ...) in UTF-8, after it in UTF-16.
  assert.ok("🚀" < "～", "JavaScript puts the emoji first");
  assert.ok(compareKeys("～", "🚀") < 0, "UTF-8 puts it last");
  assert.equal(compareKeys("a", "a"), 0);
});

const listed = (key: string, etag = "e") => ({ key, etag, size: 1 });
const entry = (k: string, e = "e"): ManifestEntry => ({ k, e, s: 1 });
async function* of<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}
async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test("merge pairs listing and manifest by key: new, both, gone", async () => {
  const merged = await all(merge(of([listed("a"), listed("b")]), new Peekable(of([entry("b"), entry("c")]))));
  assert.deepEqual(merged.map((m) => [m.key, !!m.listed, !!m.entry]), [["a", true, false], ["b", true, true], ["c", false, true]]);
});

test("merge refuses a listing out of order instead of merging it wrongly", async () => {
  await assert.rejects(all(merge(of([listed("b"), listed("a")]), new Peekable(of<ManifestEntry>([])))), /out of order at a/);
});

test("unchanged: the same ETag and size, or the same pinned version; a failed line (e: '') never is", () => {
  assert.equal(unchanged(entry("k"), listed("k")), true);
  assert.equal(unchanged(entry("k"), listed("k", "other")), false);
  assert.equal(unchanged({ k: "k", e: "", s: 1 }, listed("k")), false);
  assert.equal(unchanged({ k: "k", e: "x", s: 1, sv: "v1" }, { ...listed("k"), versionId: "v1" }), true);
  assert.equal(unchanged({ k: "k", e: "e", s: 1, sv: "v1" }, { ...listed("k"), versionId: "v2" }), false);
});

test("a manifest round-trips through gzip; the writer refuses keys out of order; equal manifests have equal digests", async () => {
  const header = { v: 1 as const, source: "s3+aws/prod/fx/", destination: "s3+aws/dev/seed/" };
  const write = async (entries: ManifestEntry[]) => {
    const w = new ManifestWriter(header);
    const chunks: Buffer[] = [];
    w.body.on("data", (c: Buffer) => chunks.push(c));
    for (const e of entries) await w.add(e);
    const summary = w.end();
    await new Promise((resolve) => w.body.on("end", resolve));
    return { summary, body: Buffer.concat(chunks) };
  };
  const entries = [entry("a"), { k: "b/ü", e: "x", s: 5, dv: ["v1"] }];
  const first = await write(entries);
  const read = await readManifest(Readable.from([first.body]));
  assert.deepEqual(read.header, header);
  assert.deepEqual(await all(read.entries), entries);
  assert.deepEqual([first.summary.count, first.summary.bytes], [2, 6]);
  assert.equal((await write(entries)).summary.digest, first.summary.digest);
  const w = new ManifestWriter(header);
  w.body.resume();
  await w.add(entry("b"));
  await assert.rejects(w.add(entry("a")), /out of order at a/);
});
