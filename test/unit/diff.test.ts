import { test } from "node:test";
import assert from "node:assert/strict";
import { CREDENTIALS_ONLY, decideDiff, normalizeEtag } from "pulumi-copied-object/dist/diff.js";
import { UNKNOWN } from "pulumi-copied-object/dist/args.js";
import type { CopyOutputs } from "pulumi-copied-object/dist/operation.js";
import type { WireInputs } from "pulumi-copied-object/dist/args.js";

const inputs: WireInputs = {
  source: { s3: { bucket: "prod", key: "seed" } },
  destination: { s3: { bucket: "dev", key: "seed" } },
};
const olds: CopyOutputs = { args: inputs, etag: "e1", sourceEtag: "s1", copyStatus: "success" };

test("identical inputs and an unchanged source mean no changes", () => {
  assert.deepEqual(decideDiff(olds, inputs, { etag: "\"s1\"" }), { changes: false, replaces: [], reasons: [] });
});

test("a changed destination key is a replace", () => {
  const d = decideDiff(olds, { ...inputs, destination: { s3: { bucket: "dev", key: "other" } } });
  assert.deepEqual(d.replaces, ["destination"]);
  assert.equal(d.changes, true);
});

test("a destination unknown during preview is a possible replace", () => {
  assert.deepEqual(decideDiff(olds, { ...inputs, destination: { s3: { bucket: UNKNOWN, key: "seed" } } }).replaces, ["destination"]);
});

test("a changed region on the same destination object is an update, not a replace", () => {
  const d = decideDiff(olds, { ...inputs, destination: { s3: { bucket: "dev", key: "seed", region: "eu-west-1" } } });
  assert.deepEqual([d.changes, d.replaces], [true, []]);
});

test("a changed source or option is an in-place update", () => {
  assert.deepEqual(decideDiff(olds, { ...inputs, source: { s3: { bucket: "prod", key: "seed", versionId: "v2" } } }).replaces, []);
  const d = decideDiff(olds, { ...inputs, metadata: { team: "data" } });
  assert.deepEqual([d.changes, d.replaces, d.reasons], [true, [], ["metadata changed"]]);
});

test("a source whose ETag changed is re-copied when trackSource is on (the default)", () => {
  const d = decideDiff(olds, inputs, { etag: "s2" });
  assert.equal(d.changes, true);
  assert.match(d.reasons[0], /content changed/);
});

test("a source with a new version id is re-copied even with the same content", () => {
  const versioned: CopyOutputs = { ...olds, sourceVersionId: "v1" };
  assert.equal(decideDiff(versioned, inputs, { etag: "s1", versionId: "v2" }).changes, true);
});

test("trackSource: false ignores source changes", () => {
  assert.equal(decideDiff({ ...olds, args: { ...inputs, trackSource: false } }, { ...inputs, trackSource: false }, { etag: "s2" }).changes, false);
});

test("a vanished source is reported as a change", () => {
  assert.deepEqual(decideDiff(olds, inputs, "missing").reasons, ["the source no longer exists"]);
});

test("a copy that did not finish is re-run", () => {
  assert.equal(decideDiff({ ...olds, copyStatus: "aborted" }, inputs).changes, true);
});

test("drift found by refresh is re-copied", () => {
  assert.equal(decideDiff({ ...olds, destinationDrift: "changed outside Pulumi" }, inputs).changes, true);
});

test("changed credentials alone are an update that says so", () => {
  const d = decideDiff(olds, { ...inputs, sourceCredentials: { accessKeyId: "a", secretAccessKey: "b" } });
  assert.deepEqual(d.reasons, [CREDENTIALS_ONLY]);
});

test("ETags compare without quotes or weak markers", () => {
  assert.equal(normalizeEtag("\"abc\""), "abc");
  assert.equal(normalizeEtag("W/\"abc\""), "abc");
  assert.equal(normalizeEtag("abc"), "abc");
});
