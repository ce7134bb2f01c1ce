// The S3 backend against a narrow fake of the SDK client, for what no local server shows:
// AWS's 412 on CopySourceIfMatch, part failures, and limits that moto and Ceph RGW do not enforce.
import { test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { s3ToS3 } from "../../dist/stores/s3Copy.js";
import { isCompatibleServer } from "../../dist/stores/s3Listed.js";
import { isCopyError } from "../../dist/errors.js";
import { silentLogger } from "../../dist/operation.js";
import type { CopyJob } from "../../dist/stores/types.js";
import { runCopy } from "../../dist/pipeline.js";
import type { S3Api } from "../../dist/stores/s3.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
type Handler = (input: Record<string, unknown>) => unknown;

function fakeS3(handlers: Record<string, Handler>) {
  const calls: Array<{ name: string; input: Record<string, unknown> }> = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }, options?: { abortSignal?: AbortSignal }) {
      const name = command.constructor.name.replace(/Command$/, "");
      calls.push({ name, input: command.input });
      await new Promise((r) => setImmediate(r));
      if (options?.abortSignal?.aborted) throw Object.assign(new Error("Request aborted"), { name: "AbortError" });
      const handler = handlers[name];
      if (!handler) throw new Error(`unexpected ${name}`);
      return handler(command.input);
    },
  };
  return { client: client as unknown as S3Api, calls, names: () => calls.map((c) => c.name) };
}

function serviceError(name: string, status: number) {
  return Object.assign(new Error(`${name} from the fake`), { name, $metadata: { httpStatusCode: status } });
}

const head = (size: number) => () => ({ ETag: "\"0123456789abcdef0123456789abcdef\"", ContentLength: size, ContentType: "application/gzip", Metadata: { team: "data" } });
const base = {
  ListMultipartUploads: () => ({ Uploads: [] }),
  GetObjectTagging: () => ({ TagSet: [{ Key: "env", Value: "prod" }] }),
  CreateMultipartUpload: () => ({ UploadId: "up-1" }),
  AbortMultipartUpload: () => ({}),
};

function request(overrides: Partial<CopyJob> = {}): CopyJob {
  return {
    source: { s3: { bucket: "src", key: "a b+c" } },
    destination: { s3: { bucket: "dst", key: "out" } },
    options: {},
    signal: new AbortController().signal,
    log: silentLogger,
    ...overrides,
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "resolved";
  } catch (e) {
    return isCopyError(e) ? e.code : `not a CopyError: ${(e as Error).message}`;
  }
}

test("a source replaced between HEAD and CopyObject (AWS answers 412) is SourceChanged", async () => {
  const fake = fakeS3({ ...base, HeadObject: head(10), CopyObject: () => { throw serviceError("PreconditionFailed", 412); } });
  assert.equal(await codeOf(runCopy(request(), s3ToS3(() => fake.client))), "SourceChanged");
  const copy = fake.calls.find((c) => c.name === "CopyObject");
  assert.equal(copy?.input.CopySourceIfMatch, "\"0123456789abcdef0123456789abcdef\"");
  assert.equal(copy?.input.CopySource, "src/a%20b%2Bc");
});

test("a sourceEtag that does not match fails before anything is written", async () => {
  const fake = fakeS3({ ...base, HeadObject: head(10) });
  assert.equal(await codeOf(runCopy(request({ options: { sourceEtag: "\"ffff\"" } }), s3ToS3(() => fake.client))), "SourceChanged");
  assert.deepEqual(fake.names(), ["HeadObject"]);
});

test("a 6 GiB source forced to a single CopyObject is refused after one HEAD, with no write", async () => {
  const fake = fakeS3({ ...base, HeadObject: head(6 * GiB) });
  assert.equal(await codeOf(runCopy(request({ options: { strategy: "copy" } }), s3ToS3(() => fake.client))), "InvalidInput");
  assert.deepEqual(fake.names(), ["HeadObject"]);
});

test("every part is pinned to the source ETag, and a failing part aborts the upload", async () => {
  let parts = 0;
  const fake = fakeS3({
    ...base,
    HeadObject: head(40 * MiB),
    UploadPartCopy: (input) => {
      parts++;
      if (input.PartNumber === 3) throw serviceError("PreconditionFailed", 412);
      return { CopyPartResult: { ETag: `"p${input.PartNumber}"` } };
    },
  });
  const code = await codeOf(runCopy(request({ options: { strategy: "multipart", partSizeBytes: 5 * MiB, concurrency: 2 } }), s3ToS3(() => fake.client)));
  assert.equal(code, "SourceChanged");
  const partCalls = fake.calls.filter((c) => c.name === "UploadPartCopy");
  assert.ok(partCalls.every((c) => c.input.CopySourceIfMatch === "\"0123456789abcdef0123456789abcdef\""));
  assert.ok(parts < 8, `the other parts stop after the failure (copied ${parts} of 8)`);
  assert.deepEqual(fake.names().slice(-1), ["AbortMultipartUpload"]);
  assert.ok(!fake.names().includes("CompleteMultipartUpload"));
});

test("multipart carries the source's metadata, headers and tags explicitly", async () => {
  const fake = fakeS3({
    ...base,
    HeadObject: head(12 * MiB),
    UploadPartCopy: (input) => ({ CopyPartResult: { ETag: `"p${input.PartNumber}"` } }),
    CompleteMultipartUpload: () => ({}),
  });
  const outcome = await runCopy(request({ options: { strategy: "multipart", partSizeBytes: 5 * MiB } }), s3ToS3(() => fake.client));
  const created = fake.calls.find((c) => c.name === "CreateMultipartUpload")!.input;
  assert.deepEqual([created.ContentType, created.Metadata, created.Tagging], ["application/gzip", { team: "data" }, "env=prod"]);
  const complete = fake.calls.find((c) => c.name === "CompleteMultipartUpload")!.input as { MultipartUpload: { Parts: unknown[] } };
  assert.deepEqual(complete.MultipartUpload.Parts, [{ PartNumber: 1, ETag: "\"p1\"" }, { PartNumber: 2, ETag: "\"p2\"" }, { PartNumber: 3, ETag: "\"p3\"" }]);
  assert.equal(outcome.strategy, "multipart");
  assert.deepEqual(fake.calls.filter((c) => c.name === "UploadPartCopy").map((c) => c.input.CopySourceRange), ["bytes=0-5242879", "bytes=5242880-10485759", "bytes=10485760-12582911"]);
});

test("an abort signal during multipart stops the parts and aborts the upload", async () => {
  const controller = new AbortController();
  const fake = fakeS3({
    ...base,
    HeadObject: head(40 * MiB),
    UploadPartCopy: (input) => {
      if (input.PartNumber === 2) controller.abort(Object.assign(new Error("SIGINT"), { name: "CopyError", code: "CopyAborted" }));
      return { CopyPartResult: { ETag: "\"p\"" } };
    },
  });
  const copy = runCopy(request({ signal: controller.signal, options: { strategy: "multipart", partSizeBytes: 5 * MiB, concurrency: 1 } }), s3ToS3(() => fake.client));
  await assert.rejects(copy, (e: Error & { code?: string }) => e.code === "CopyAborted" && /2 of 8 parts \(10 MiB of 40 MiB\) had been copied/.test(e.message));
  assert.equal(fake.names().at(-1), "AbortMultipartUpload");
});

test("an archived source (403 InvalidObjectState) is a copy failure that says to restore it, not access denied", async () => {
  const fake = fakeS3({ ...base, HeadObject: head(10), CopyObject: () => { throw serviceError("InvalidObjectState", 403); } });
  const copy = runCopy(request(), s3ToS3(() => fake.client));
  await assert.rejects(copy, (e: Error & { code?: string }) => e.code === "CopyFailed" && /restore it/.test(e.message));
});

test("a destination whose size differs from the source fails verification", async () => {
  let heads = 0;
  const fake = fakeS3({
    ...base,
    HeadObject: () => (++heads === 1 ? head(10)() : { ETag: "\"0123456789abcdef0123456789abcdef\"", ContentLength: 9 }),
    CopyObject: () => ({}),
  });
  assert.equal(await codeOf(runCopy(request(), s3ToS3(() => fake.client))), "CopyFailed");
});

test("leftover multipart uploads on exactly the destination key are aborted before copying", async () => {
  const fake = fakeS3({
    ...base,
    ListMultipartUploads: () => ({ Uploads: [{ Key: "out", UploadId: "old-1" }, { Key: "out-other", UploadId: "x" }] }),
    HeadObject: head(10),
    CopyObject: () => ({}),
  });
  await runCopy(request(), s3ToS3(() => fake.client));
  const aborted = fake.calls.filter((c) => c.name === "AbortMultipartUpload").map((c) => c.input.UploadId);
  assert.deepEqual(aborted, ["old-1"]);
});

test("tags a server ignored (Ceph RGW drops TaggingDirective: REPLACE) are set explicitly, and only then", async () => {
  const fake = fakeS3({ ...base, HeadObject: head(10), CopyObject: () => ({}), PutObjectTagging: () => ({}) });
  await runCopy(request({ options: { tags: { env: "dev" } } }), s3ToS3(() => fake.client));
  const put = fake.calls.find((c) => c.name === "PutObjectTagging");
  assert.deepEqual(put?.input.Tagging, { TagSet: [{ Key: "env", Value: "dev" }] });

  const honest = fakeS3({ ...base, HeadObject: head(10), CopyObject: () => ({}), GetObjectTagging: () => ({ TagSet: [{ Key: "env", Value: "dev" }] }) });
  await runCopy(request({ options: { tags: { env: "dev" } } }), s3ToS3(() => honest.client));
  assert.ok(!honest.names().includes("PutObjectTagging"));
});

test("a deadline that passes during the source HEAD is CopyTimedOut, not a server failure", async () => {
  const controller = new AbortController();
  controller.abort(Object.assign(new Error("CopyTimedOut: the copy did not finish within timeoutSeconds (1 s)"), { name: "CopyError", code: "CopyTimedOut" }));
  const fake = fakeS3({ ...base, HeadObject: head(10) });
  assert.equal(await codeOf(runCopy(request({ signal: controller.signal }), s3ToS3(() => fake.client))), "CopyTimedOut");
});

test("a multipart copy without permission to read the source's tags goes ahead untagged, with a warning", async () => {
  const warnings: string[] = [];
  const fake = fakeS3({
    ...base,
    HeadObject: head(12 * MiB),
    GetObjectTagging: () => { throw serviceError("AccessDenied", 403); },
    UploadPartCopy: () => ({ CopyPartResult: { ETag: "\"p\"" } }),
    CompleteMultipartUpload: () => ({}),
  });
  const log = { ...silentLogger, warn: (m: string) => void warnings.push(m) };
  await runCopy(request({ log, options: { strategy: "multipart", partSizeBytes: 5 * MiB } }), s3ToS3(() => fake.client));
  assert.equal(fake.calls.find((c) => c.name === "CreateMultipartUpload")?.input.Tagging, undefined);
  assert.match(warnings.join("\n"), /tags could not be read/);
});

test("S3-compatible servers are told from AWS by the endpoint's host", () => {
  const at = (endpoint?: string) => ({ bucket: "b", key: "k", ...(endpoint ? { endpoint } : {}) });
  assert.equal(isCompatibleServer(at()), false);
  assert.equal(isCompatibleServer(at("https://s3-fips.us-east-1.amazonaws.com")), false);
  assert.equal(isCompatibleServer(at("https://bucket.vpce-1a2b.s3.us-east-1.vpce.amazonaws.com")), false);
  assert.equal(isCompatibleServer(at("https://s3.cn-north-1.amazonaws.com.cn")), false);
  assert.equal(isCompatibleServer(at("http://127.0.0.1:9000")), true);
  assert.equal(isCompatibleServer(at("https://minio.example.com")), true);
  assert.equal(isCompatibleServer(at("https://amazonaws.com.example.org")), true);
});
