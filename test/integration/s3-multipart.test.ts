// Multipart UploadPartCopy against a real S3 server: same bytes and attributes as a single copy,
// leftovers aborted, and an interrupted copy leaves no upload behind.
import { after, before, diagnostic, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { CreateMultipartUploadCommand } from "@aws-sdk/client-s3";
import { HostCallError } from "../support/providerHost.ts";
import { startCountingProxy, type CountingProxy } from "../support/countingProxy.ts";
import { codeOf, sha256, startS3Rig, type S3Rig } from "../support/s3rig.ts";
import { startS3Server, type S3Server } from "../support/s3server.ts";

const MiB = 1024 * 1024;
let server: S3Server;
let rig: S3Rig;
let src: string;
// Simulation: holds each UploadPartCopy back 250 ms, so a copy outlasts a deadline or a signal
// on any server (Ceph RGW copies 70 MiB by reference in milliseconds). Everything else is real.
let slow: CountingProxy;
const isPartCopy = (req: { method?: string; url?: string; headers: Record<string, unknown> }) =>
  req.method === "PUT" && /[?&]partNumber=/.test(req.url ?? "") && "x-amz-copy-source" in req.headers;
const big = randomBytes(70 * MiB);

before(async () => {
  server = await startS3Server();
  rig = await startS3Rig({ server });
  src = await rig.bucket();
  await rig.put(src, "big.bin", big, { ContentType: "application/x-tar", CacheControl: "max-age=60", Metadata: { origin: "prod" }, Tagging: "env=prod" });
  slow = await startCountingProxy(rig.server.endpoint, { delayMs: (req) => (isPartCopy(req) ? 250 : 0) });
});
after(async () => {
  await slow?.close();
  await rig?.stop();
  await server?.stop();
});

test("a 70 MiB object copied in 14 forced 5 MiB parts has the same bytes, headers, metadata and tags as a single copy", async () => {
  const dst = await rig.bucket();
  const multi = await rig.engine.up(await rig.register({ source: rig.at(src, "big.bin"), destination: rig.at(dst, "multi.bin"), strategy: "multipart", partSizeBytes: 5 * MiB, concurrency: 4 }, undefined, "multi"));
  const single = await rig.engine.up(await rig.register({ source: rig.at(src, "big.bin"), destination: rig.at(dst, "single.bin"), strategy: "copy" }, undefined, "single"));
  assert.equal(multi.deployed.outputs.strategy, "multipart");
  assert.equal(single.deployed.outputs.strategy, "copy");
  assert.equal(sha256(await rig.get(dst, "multi.bin")), sha256(big));
  assert.match(String(multi.deployed.outputs.etag), /-14$/);
  const [a, b] = [await rig.head(dst, "multi.bin"), await rig.head(dst, "single.bin")];
  for (const field of ["ContentType", "CacheControl", "ContentLength", "Metadata"] as const) assert.deepEqual(a[field], b[field], field);
  assert.deepEqual(await rig.tags(dst, "multi.bin"), await rig.tags(dst, "single.bin"));
  assert.deepEqual(await rig.tags(dst, "multi.bin"), { env: "prod" });
  assert.equal(await rig.uploads(dst), 0);
});

test("a multipart upload left on the destination key by a killed run is aborted by the next create", async () => {
  const dst = await rig.bucket();
  await rig.s3.send(new CreateMultipartUploadCommand({ Bucket: dst, Key: "out.bin" }));
  await rig.s3.send(new CreateMultipartUploadCommand({ Bucket: dst, Key: "someone-else.bin" }));
  assert.equal(await rig.uploads(dst, "out.bin"), 1);
  await rig.engine.up(await rig.register({ source: rig.at(src, "big.bin"), destination: rig.at(dst, "out.bin"), strategy: "copy" }));
  assert.equal(await rig.uploads(dst, "out.bin"), 0);
  assert.equal(await rig.uploads(dst, "someone-else.bin"), 1, "other keys' uploads are not ours to abort");
});

test("a copy that outlives timeoutSeconds is aborted: CopyTimedOut, partial state, no upload left, destroy cleans up (parts slowed by a proxy)", async () => {
  const dst = await rig.bucket();
  const via = { endpoint: slow.endpoint };
  const reg = await rig.register({ source: rig.at(src, "big.bin", via), destination: rig.at(dst, "out.bin", via), strategy: "multipart", partSizeBytes: 5 * MiB, concurrency: 1, timeoutSeconds: 1 });
  const inputs = await rig.engine.check(reg);
  const failure = await rig.host.create(reg, inputs).then(() => undefined, (e: unknown) => e);
  if (failure === undefined) return void assertSkippedTooFast();
  assert.ok(failure instanceof HostCallError);
  assert.equal(codeOf(failure), "CopyTimedOut", failure.message);
  assert.equal(failure.partial?.id, `s3+${slow.endpoint}/${dst}/out.bin`, "the id names the service as the locator spells it");
  assert.equal(failure.partial?.properties.copyStatus, "aborted");
  assert.equal(typeof failure.partial?.properties.__provider, "string", "the engine needs it to delete the partial resource later");
  assert.equal(await rig.uploads(dst), 0);
  assert.equal(await rig.exists(dst, "out.bin"), false);
  await rig.host.delete(reg, failure.partial!.id, failure.partial!.properties);
});

test("SIGINT to the provider's process group aborts an in-flight multipart copy within 5 s, and the process exits non-zero (parts slowed by a proxy)", async () => {
  const dst = await rig.bucket();
  const via = { endpoint: slow.endpoint };
  const reg = await rig.register({ source: rig.at(src, "big.bin", via), destination: rig.at(dst, "out.bin", via), strategy: "multipart", partSizeBytes: 5 * MiB, concurrency: 1 });
  const inputs = await rig.engine.check(reg);
  let settled = false;
  const creating = rig.host.create(reg, inputs).then(() => "finished", (e: Error) => e.message).finally(() => (settled = true));
  // Wait, from the server's side, until the upload exists, as the engine's Ctrl-C would land mid-copy.
  const deadline = Date.now() + 10_000;
  while (!settled && (await rig.uploads(dst, "out.bin")) === 0 && Date.now() < deadline) await sleep(10);
  if (settled) return void assertSkippedTooFast();
  const signalled = Date.now();
  rig.host.signalGroup("SIGINT");
  const exit = await rig.host.exited();
  const elapsed = Date.now() - signalled;
  diagnostic(`the provider exited ${elapsed} ms after SIGINT, with code ${exit.code}`);
  assert.ok(elapsed < 5000, `exited ${elapsed} ms after SIGINT`);
  assert.notEqual(exit.code, 0);
  assert.notEqual(await creating, "finished");
  assert.equal(await rig.uploads(dst, "out.bin"), 0, "the multipart upload was aborted on the server");
  assert.equal(await rig.exists(dst, "out.bin"), false);
  // The host is gone: start a fresh one, on the same server, for the tests after this.
  await rig.stop();
  rig = await startS3Rig({ server });
});

function assertSkippedTooFast(): void {
  assert.fail("the copy finished before it could be interrupted; slow the proxy down further");
}

test("an update cut off by its timeout is kept as a partial result with the old version; the next up re-copies and destroy removes both (parts slowed by a proxy)", async () => {
  const dst = await rig.bucket({ versioned: true });
  const via = { endpoint: slow.endpoint };
  // The metadata changes with the release: a content change, so the update copies again.
  const args = (concurrency: number, timeoutSeconds: number, release: string) =>
    rig.register({ source: rig.at(src, "big.bin", via), destination: rig.at(dst, "out.bin", via), strategy: "multipart", partSizeBytes: 5 * MiB, concurrency, timeoutSeconds, metadata: { release } });
  const first = await rig.engine.up(await args(14, 60, "1"));

  const cutOff = await rig.engine.up(await args(1, 1, "2"), first.deployed).then(() => undefined, (e: unknown) => e);
  assert.ok(cutOff instanceof HostCallError && cutOff.partial, String(cutOff));
  assert.equal(codeOf(cutOff), "CopyTimedOut");
  assert.match(cutOff.message, /of 14 parts .* had been copied/);
  const partial = cutOff.partial.properties;
  assert.equal(partial.copyStatus, "aborted");
  assert.equal(partial.versionId, first.deployed.outputs.versionId, "the destination still holds the first copy");
  assert.equal(sha256(await rig.get(dst, "out.bin")), sha256(big));
  assert.equal(await rig.uploads(dst), 0);

  // What the engine now holds: the partial outputs. The next up must re-copy.
  const again = await rig.engine.up(await args(14, 60, "2"), { ...first.deployed, outputs: partial });
  assert.equal(again.step, "update");
  assert.equal(again.deployed.outputs.copyStatus, "success");
  assert.deepEqual(again.deployed.outputs.priorVersionIds, [first.deployed.outputs.versionId]);
  await rig.engine.destroy(again.deployed);
  assert.deepEqual(await rig.versions(dst, "out.bin"), []);
});
