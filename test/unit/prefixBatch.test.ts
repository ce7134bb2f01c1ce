// engine "s3-batch"'s pure rules (prefixBatchRules.ts): which key mappings a job's TargetKeyPrefix can express, what
// a job cannot do, which engine "auto" picks, how the CSV manifest spells awkward keys and how a completion report
// is read back, and the job's copy operation built from the per-object options.
import { test } from "../support/testing.ts";
import assert from "node:assert/strict";
import {
  BATCH_AUTO_THRESHOLD,
  batchCopyOperation,
  batchObstacles,
  batchTargetPrefix,
  chooseEngine,
  csvFields,
  csvLine,
  reportFailure,
  reportKey,
  roleAccount,
  taskFailure,
} from "../../dist/prefixBatchRules.js";
import { selected } from "../../dist/prefixLocators.js";
import { validatePrefixInputs } from "../../dist/prefixArgs.js";
import { ambientOf } from "../../dist/ambient.js";
import { readStackConfig } from "../../dist/stackConfig.js";

test("the key mapping is expressible when the destination prefix is a folder (or nothing) followed by the source prefix", () => {
  const cases: Array<[string, string, string | undefined]> = [
    ["", "", ""],
    ["fx/", "fx/", ""],
    ["fx/", "seed/fx/", "seed/"],
    ["", "seed/", "seed/"],
    ["fx/", "a/b/fx/", "a/b/"],
    ["fx", "seed/fx", "seed/"],
    // Only prepending is possible: the source prefix cannot be dropped or changed.
    ["fx/", "seed/", undefined],
    ["fx/", "", undefined],
    ["a/fx/", "fx/", undefined],
    // A prepend that is not a folder: AWS documents TargetKeyPrefix as a folder, so it is not relied on.
    ["fx/", "seedfx/", undefined],
    ["", "seed-", undefined],
  ];
  for (const [from, to, want] of cases) assert.equal(batchTargetPrefix(from, to), want, `${JSON.stringify(from)} → ${JSON.stringify(to)}`);
});

test("what a job cannot express is named by property: the mapping, headers without metadata, other storage classes, DSSE", () => {
  const src = { prefix: "fx/" };
  assert.deepEqual(batchObstacles(src, { prefix: "seed/fx/" }, {}), []);
  assert.deepEqual(batchObstacles(src, { prefix: "seed/fx/" }, { metadata: {}, contentType: "text/csv", storageClass: "GLACIER_IR" }), []);
  const props = (o: Parameters<typeof batchObstacles>[2], to = "seed/fx/") => batchObstacles(src, { prefix: to }, o).map((f) => f.property);
  assert.deepEqual(props({}, "seed/"), ["destination.s3.prefix"]);
  assert.deepEqual(props({ cacheControl: "no-store" }), ["cacheControl"]);
  assert.deepEqual(props({ storageClass: "REDUCED_REDUNDANCY" }), ["storageClass"]);
  assert.deepEqual(props({ serverSideEncryption: "aws:kms:dsse" }), ["serverSideEncryption"]);
});

test(`engine "auto" picks S3 Batch Operations only with a role, a copy a job can do, and more than ${BATCH_AUTO_THRESHOLD} objects`, () => {
  assert.equal(chooseEngine(undefined, true, true, BATCH_AUTO_THRESHOLD + 1), "s3-batch");
  assert.equal(chooseEngine("auto", true, true, BATCH_AUTO_THRESHOLD), "provider", "at the threshold: the provider");
  assert.equal(chooseEngine("auto", true, false, 10 * BATCH_AUTO_THRESHOLD), "provider", "no role");
  assert.equal(chooseEngine("auto", false, true, 10 * BATCH_AUTO_THRESHOLD), "provider", "a job cannot do it");
  assert.equal(chooseEngine("provider", true, true, 10 * BATCH_AUTO_THRESHOLD), "provider");
  assert.equal(chooseEngine("s3-batch", true, true, 1), "s3-batch");
});

test("CSV manifest keys are URL-encoded: awkward keys stay one field, and decode to themselves whether S3 reads '+' as a space or not", () => {
  const keys = [
    "with space",
    "plus+sign",
    "per%cent",
    "hash#tag",
    "comma,key",
    'quote"d',
    "ünïcødé/日本",
    "emoji-🚀",
    "line\nbreak",
    "a/b/c",
    "?&=",
  ];
  for (const key of keys) {
    const line = csvLine("bkt", `fx/${key}`);
    assert.ok(line.endsWith("\n") && !line.slice(0, -1).includes("\n"), key);
    const fields = line.slice(0, -1).split(",");
    assert.equal(fields.length, 2, `one key field for ${JSON.stringify(key)}: ${line}`);
    assert.ok(!/[ +]/.test(fields[1]), `no literal space or plus: ${fields[1]}`);
    assert.equal(decodeURIComponent(fields[1]), `fx/${key}`);
    assert.equal(reportKey(fields[1]), `fx/${key}`, "form decoding reads it alike");
  }
  assert.equal(csvLine("bkt", "a/b c", "v1"), "bkt,a/b%20c,v1\n");
  assert.equal(reportKey("dir/with+space%2Bplus"), "dir/with space+plus", "a report that form-encodes is read too");
});

test("completion report rows: quoted messages, the status and the code in either order, succeeded rows skipped", () => {
  assert.deepEqual(csvFields('b,k,,failed,403,AccessDenied,"Access Denied, really: ""no"""'), [
    "b",
    "k",
    "",
    "failed",
    "403",
    "AccessDenied",
    'Access Denied, really: "no"',
  ]);
  assert.deepEqual(reportFailure('src,fx/with%20space,,failed,403,AccessDenied,"Access Denied"'), {
    key: "fx/with space",
    code: "AccessDenied",
    message: "Access Denied",
  });
  assert.deepEqual(reportFailure("src,fx/a,,failed,SlowDown,503,Please reduce your request rate\r"), {
    key: "fx/a",
    code: "SlowDown",
    message: "Please reduce your request rate",
  });
  assert.equal(reportFailure('src,fx/a,,succeeded,200,,"{}"'), undefined);
  assert.deepEqual(reportFailure("src,fx/a,,failed,500,,"), { key: "fx/a", code: "HTTP 500", message: "" });
  assert.deepEqual(taskFailure({ key: "fx/a", code: "PreconditionFailed", message: "m" }), {
    key: "fx/a",
    code: "SourceChanged",
    message: "PreconditionFailed: m",
  });
  assert.equal(taskFailure({ key: "k", code: "SlowDown", message: "" }).code, "CopyFailed");
});

test("a job is created in the role's account and partition", () => {
  assert.deepEqual(roleAccount("arn:aws:iam::123456789012:role/batch-copy"), { partition: "aws", account: "123456789012" });
  assert.deepEqual(roleAccount("arn:aws-cn:iam::210987654321:role/path/r"), { partition: "aws-cn", account: "210987654321" });
});

test("the job's copy operation: source metadata and tags kept unless given; headers replace with the metadata; SSE and class carried", () => {
  const since = new Date("2026-01-02T03:04:05Z");
  const target = { partition: "aws", bucket: "dst", keyPrefix: "seed/" };
  assert.deepEqual(batchCopyOperation({}, { ...target, keyPrefix: "" }, since), {
    TargetResource: "arn:aws:s3:::dst",
    MetadataDirective: "COPY",
    UnModifiedSinceConstraint: since,
  });
  assert.deepEqual(
    batchCopyOperation(
      {
        metadata: { team: "data" },
        contentType: "text/csv",
        cacheControl: "no-store",
        tags: {},
        storageClass: "STANDARD_IA",
        serverSideEncryption: "aws:kms",
        kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/k",
      },
      target,
      since,
    ),
    {
      TargetResource: "arn:aws:s3:::dst",
      TargetKeyPrefix: "seed/",
      MetadataDirective: "REPLACE",
      NewObjectMetadata: { UserMetadata: { team: "data" }, CacheControl: "no-store", ContentType: "text/csv", SSEAlgorithm: "KMS" },
      NewObjectTagging: [],
      StorageClass: "STANDARD_IA",
      SSEAwsKmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/k",
      UnModifiedSinceConstraint: since,
    },
  );
});

test("the job's files live in a work area below the destination prefix that the selection never takes", () => {
  assert.equal(selected(".copied-prefix-batch/manifest.csv", undefined, undefined), false);
  assert.equal(selected(".copied-prefix-batch/reports/job-1/manifest.json", ["**"], undefined), false);
  assert.equal(selected(".copied-prefix-batchy", undefined, undefined), true);
});

test('check: engine "s3-batch" fails what a job cannot express, and judges nothing while a value is unknown', () => {
  const amb = ambientOf();
  const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
  const args = (extra: Record<string, unknown>) => ({
    source: { s3: { bucket: "seeds", prefix: "fx/" } },
    destination: { s3: { bucket: "dev-bucket", prefix: "seed/fx/" } },
    engine: "s3-batch",
    batchRoleArn: "arn:aws:iam::123456789012:role/r",
    ...extra,
  });
  assert.deepEqual(validatePrefixInputs(args({}), amb), []);
  const failures = validatePrefixInputs(
    args({ destination: { s3: { bucket: "dev-bucket", prefix: "seed/" } }, contentType: "text/csv" }),
    amb,
  );
  assert.deepEqual(failures.map((f) => f.property).sort(), ["contentType", "destination.s3.prefix"]);
  assert.deepEqual(validatePrefixInputs(args({ destination: { s3: { bucket: "dev-bucket", prefix: UNKNOWN } } }), amb), []);
});

test("stack config: aws:endpoints' s3control entry is kept beside s3 and sts", () => {
  const c = readStackConfig((k) =>
    k === "aws:endpoints"
      ? JSON.stringify([{ s3: "http://127.0.0.1:1", s3control: "http://127.0.0.1:2", sts: "http://127.0.0.1:3" }])
      : undefined,
  );
  assert.deepEqual(c.aws.endpoints, { s3: "http://127.0.0.1:1", s3control: "http://127.0.0.1:2", sts: "http://127.0.0.1:3" });
  const bad = readStackConfig((k) => (k === "aws:endpoints" ? JSON.stringify([{ s3control: "s3-control.local" }]) : undefined));
  assert.deepEqual(
    bad.problems.map((p) => p.key),
    ["aws:endpoints.s3control"],
  );
});
