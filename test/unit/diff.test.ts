// The re-copy rules (diff.ts): copy again only when the stored result would differ.
import { test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { decideDiff, sourceDrift } from "../../dist/diff.js";
import { ambientOf } from "../../dist/ambient.js";
import { OPTION_EFFECT, UNKNOWN, type WireInputs } from "../../dist/args.js";
import { normalizeEtag } from "../../dist/values.js";
import type { CopyState } from "../../dist/state.js";

const inputs: WireInputs = {
  source: { s3: { bucket: "prod", key: "seed" } },
  destination: { s3: { bucket: "dev", key: "seed" } },
};
const olds: CopyState = { args: inputs, etag: "e1", sourceEtag: "s1", copyStatus: "success" };
const env = ambientOf();
const decide = (news: Partial<WireInputs>, state: CopyState = olds, now?: Parameters<typeof decideDiff>[3]) => decideDiff(state, { ...inputs, ...news }, env, now);

test("identical inputs and an unchanged source mean no changes", () => {
  assert.deepEqual(decide({}, olds, { etag: "\"s1\"" }), { changes: false, replaces: [], recopy: [], tuning: [], warnings: [] });
});

test("a changed destination key is a replace", () => {
  const d = decide({ destination: { s3: { bucket: "dev", key: "other" } } });
  assert.deepEqual([d.changes, d.replaces], [true, ["destination"]]);
  assert.match(d.recopy[0], /the destination changed \(s3:\/\/dev\/seed → s3:\/\/dev\/other\)/);
});

test("a destination unknown during preview is a possible replace", () => {
  assert.deepEqual(decide({ destination: { s3: { bucket: UNKNOWN, key: "seed" } } }).replaces, ["destination"]);
});

test("a destination respelt (region, path style, AWS's own endpoint) is an update that writes nothing", () => {
  for (const s3 of [
    { bucket: "dev", key: "seed", region: "eu-west-1" },
    { bucket: "dev", key: "seed", forcePathStyle: true },
    { bucket: "dev", key: "seed", endpoint: "https://s3.eu-west-1.amazonaws.com/" },
  ]) {
    const d = decide({ destination: { s3 } });
    assert.deepEqual([d.changes, d.replaces, d.recopy], [true, [], []], JSON.stringify(s3));
    assert.match(d.tuning[0], /spelt differently \(the same object, s3:\/\/dev\/seed\)/);
  }
});

test("a changed source object or pinned version re-copies in place; a respelt source writes nothing", () => {
  const pinned = decide({ source: { s3: { bucket: "prod", key: "seed", versionId: "v2" } } });
  assert.deepEqual([pinned.replaces, pinned.recopy.length], [[], 1]);
  assert.equal(decide({ source: { s3: { bucket: "prod", key: "other" } } }).recopy.length, 1);
  const respelt = decide({ source: { s3: { bucket: "prod", key: "seed", region: "us-east-1" } } });
  assert.deepEqual([respelt.recopy, respelt.tuning.length], [[], 1]);
});

test("every content option re-copies; every tuning option writes nothing; the table classifies every option", () => {
  const values: Record<string, unknown> = {
    metadata: { team: "data" }, tags: { env: "dev" }, contentType: "text/csv", cacheControl: "no-cache", contentDisposition: "inline",
    contentEncoding: "gzip", contentLanguage: "en", storageClass: "STANDARD_IA", accessTier: "Cool", serverSideEncryption: "AES256",
    kmsKeyId: "alias/k", sourceEtag: "s1", strategy: "multipart", partSizeBytes: 8 * 1024 * 1024, concurrency: 2, timeoutSeconds: 7200,
    pollIntervalSeconds: 5, trackSource: false, verify: false,
  };
  assert.deepEqual(Object.keys(values).sort(), Object.keys(OPTION_EFFECT).sort(), "a value for every option");
  for (const [key, value] of Object.entries(values)) {
    const d = decide({ [key]: value });
    const effect = OPTION_EFFECT[key as keyof typeof OPTION_EFFECT];
    assert.equal(d.changes, true, key);
    assert.deepEqual(d.replaces, [], key);
    // sourceEtag "s1" is the ETag that was copied: a guard on content already there writes nothing.
    assert.deepEqual([d.recopy, d.tuning], effect === "content" ? [[`${key} changed`], []] : [[], [`${key} changed`]], key);
  }
});

test("a sourceEtag asking for other content than was copied re-copies", () => {
  assert.deepEqual(decide({ sourceEtag: "\"s2\"" }).recopy, ["sourceEtag changed"]);
  assert.deepEqual(decide({ sourceEtag: "\"s1\"" }).recopy, []);
});

test("changed credentials alone write nothing", () => {
  const d = decide({ sourceCredentials: { accessKeyId: "a", secretAccessKey: "b" } });
  assert.deepEqual([d.recopy, d.tuning], [[], ["credentials changed"]]);
});

test("a source whose ETag changed is re-copied when trackSource is on (the default)", () => {
  const d = decide({}, olds, { etag: "s2" });
  assert.equal(d.changes, true);
  assert.match(d.recopy[0], /content changed/);
});

test("a source with a new version id is re-copied even with the same content", () => {
  assert.equal(decide({}, { ...olds, sourceVersionId: "v1" }, { etag: "s1", versionId: "v2" }).recopy.length, 1);
});

test("trackSource: false ignores source changes", () => {
  const off: CopyState = { ...olds, args: { ...inputs, trackSource: false } };
  assert.equal(decideDiff(off, { ...inputs, trackSource: false }, env, { etag: "s2" }).changes, false);
});

test("a source that is gone plans no change and says the copy is kept", () => {
  const d = decide({}, olds, "missing");
  assert.deepEqual([d.changes, d.recopy], [false, []]);
  assert.deepEqual(d.warnings, ["the source s3://prod/seed no longer exists; the copy is kept as it was"]);
  assert.equal(sourceDrift(olds, "missing"), undefined);
});

test("a source that is gone still lets tuning apply, and warns that a content change cannot copy", () => {
  const tuned = decide({ timeoutSeconds: 99 }, olds, "missing");
  assert.deepEqual([tuned.changes, tuned.recopy, tuned.tuning], [true, [], ["timeoutSeconds changed"]]);
  const content = decide({ contentType: "text/plain" }, olds, "missing");
  assert.deepEqual(content.recopy, ["contentType changed"]);
  assert.match(content.warnings[1], /copying again \(contentType changed\) needs the source: restore it, or undo the change/);
});

test("a copy that did not finish is re-run", () => {
  assert.deepEqual(decide({}, { ...olds, copyStatus: "aborted" }).recopy, ["the last copy did not finish (aborted)"]);
});

test("drift found by refresh is re-copied", () => {
  assert.deepEqual(decide({}, { ...olds, destinationDrift: "changed outside Pulumi" }).recopy, ["changed outside Pulumi"]);
});

test("ETags compare without quotes or weak markers", () => {
  assert.equal(normalizeEtag("\"abc\""), "abc");
  assert.equal(normalizeEtag("W/\"abc\""), "abc");
  assert.equal(normalizeEtag("abc"), "abc");
});
