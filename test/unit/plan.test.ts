import { test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { S3_DEFAULTS, defaultPartSize, partRanges, planS3Copy } from "../../dist/plan.js";
import { isCopyError } from "../../dist/errors.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isCopyError(e) ? e.code : "not a CopyError";
  }
  return undefined;
}

test("auto uses one CopyObject up to the threshold and multipart above it", () => {
  assert.deepEqual(planS3Copy({ sizeBytes: S3_DEFAULTS.singleCopyThresholdBytes }), { strategy: "copy" });
  const plan = planS3Copy({ sizeBytes: 6 * GiB });
  assert.equal(plan.strategy, "multipart");
  assert.ok(plan.strategy === "multipart" && plan.partCount === Math.ceil((6 * GiB) / plan.partSizeBytes));
});

test("on AWS auto copies once up to 1 GiB; on an S3-compatible server up to 5 GiB, where a copy is in place (bench P1)", () => {
  assert.equal(planS3Copy({ sizeBytes: 1 * GiB + 1 }).strategy, "multipart");
  assert.equal(planS3Copy({ sizeBytes: 5 * GiB, compatibleServer: true }).strategy, "copy");
  assert.equal(planS3Copy({ sizeBytes: 5 * GiB + 1, compatibleServer: true }).strategy, "multipart");
  assert.equal(planS3Copy({ sizeBytes: 2 * GiB, compatibleServer: true, partSizeBytes: 64 * MiB }).strategy, "multipart");
});

test("a single copy is never planned above 5 GiB", () => {
  assert.equal(codeOf(() => planS3Copy({ sizeBytes: 5 * GiB + 1, strategy: "copy" })), "InvalidInput");
  assert.equal(planS3Copy({ sizeBytes: 5 * GiB, strategy: "copy" }).strategy, "copy");
});

test("forced multipart honours the part size and caps concurrency at the part count", () => {
  const plan = planS3Copy({ sizeBytes: 70 * MiB, strategy: "multipart", partSizeBytes: 5 * MiB, concurrency: 32 });
  assert.deepEqual(plan, { strategy: "multipart", partSizeBytes: 5 * MiB, partCount: 14, concurrency: 14 });
});

test("more than 10,000 parts is refused, naming the smallest part size that works", () => {
  const fn = () => planS3Copy({ sizeBytes: 100 * GiB, strategy: "multipart", partSizeBytes: 5 * MiB });
  assert.equal(codeOf(fn), "InvalidInput");
  assert.throws(fn, /at least 11534336/);
});

test("the default part size grows so that a 5 TiB object fits in 10,000 parts", () => {
  const size = 5 * 1024 * GiB;
  const part = defaultPartSize(size);
  assert.ok(Math.ceil(size / part) <= 10_000);
  assert.ok(part <= 5 * GiB && part % MiB === 0);
  assert.equal(defaultPartSize(2 * GiB), S3_DEFAULTS.partSizeBytes);
});

test("objects over 5 TiB are refused", () => {
  assert.equal(codeOf(() => planS3Copy({ sizeBytes: 5 * 1024 * GiB + 1 })), "InvalidInput");
});

test("an empty object is copied with CopyObject even when multipart is forced", () => {
  assert.deepEqual(planS3Copy({ sizeBytes: 0, strategy: "multipart" }), { strategy: "copy" });
});

test("Azure strategies are refused for S3 copies", () => {
  assert.equal(codeOf(() => planS3Copy({ sizeBytes: 10, strategy: "blocks" })), "InvalidInput");
});

test("part ranges cover every byte once, the last part short", () => {
  const ranges = [...partRanges(12, 5)];
  assert.deepEqual(ranges, [
    { partNumber: 1, first: 0, last: 4 },
    { partNumber: 2, first: 5, last: 9 },
    { partNumber: 3, first: 10, last: 11 },
  ]);
});

import { BLOB_DEFAULTS, planBlobCopy } from "../../dist/plan.js";

test("Azure auto: async Copy Blob within an account; across accounts sync up to 256 MiB, blocks above", () => {
  const base = { blockBlob: true };
  assert.deepEqual(planBlobCopy({ ...base, sizeBytes: 10 * GiB, sameAccount: true }), { strategy: "copy" });
  assert.deepEqual(planBlobCopy({ ...base, sizeBytes: 256 * MiB, sameAccount: false }), { strategy: "sync" });
  const large = planBlobCopy({ ...base, sizeBytes: 256 * MiB + 1, sameAccount: false });
  assert.equal(large.strategy, "blocks");
  assert.ok(large.strategy === "blocks" && large.blockSizeBytes === BLOB_DEFAULTS.blockSizeBytes && large.blockCount === 5);
  assert.deepEqual(planBlobCopy({ blockBlob: false, sizeBytes: 1 * GiB, sameAccount: false }), { strategy: "copy" }, "page and append blobs use Copy Blob");
});

test("Azure limits: sync above 256 MiB, blocks of a page blob, and more than 50,000 blocks are refused", () => {
  assert.equal(codeOf(() => planBlobCopy({ blockBlob: true, sizeBytes: 257 * MiB, sameAccount: true, strategy: "sync" })), "InvalidInput");
  assert.equal(codeOf(() => planBlobCopy({ blockBlob: false, sizeBytes: 1, sameAccount: true, strategy: "blocks" })), "InvalidInput");
  assert.equal(codeOf(() => planBlobCopy({ blockBlob: true, sizeBytes: 100 * GiB, sameAccount: true, strategy: "blocks", partSizeBytes: 1 * MiB })), "InvalidInput");
  assert.equal(codeOf(() => planBlobCopy({ blockBlob: true, sizeBytes: 1, sameAccount: true, strategy: "multipart" })), "InvalidInput");
});

test("the default block size grows so a 190 TiB blob fits in 50,000 blocks", () => {
  const plan = planBlobCopy({ blockBlob: true, sizeBytes: 190 * 1024 * GiB, sameAccount: false, strategy: "blocks" });
  assert.ok(plan.strategy === "blocks" && plan.blockCount <= 50_000 && plan.blockSizeBytes <= 4000 * MiB);
});
