import { test } from "node:test";
import assert from "node:assert/strict";
import { S3_DEFAULTS, defaultPartSize, partRanges, planS3Copy } from "pulumi-copied-object/dist/plan.js";
import { isCopyError } from "pulumi-copied-object/dist/errors.js";

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
