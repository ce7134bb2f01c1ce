// SIMULATION of faults no local server produces on demand: a proxy in front of the real S3 server
// answers chosen requests itself (503 SlowDown, 500, dropped connections, 200 OK with an <Error>
// body), so the server never sees them. Everything that is forwarded is the server's own doing.
import { after, before, diagnostic, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type http from "node:http";
import { startCountingProxy, type CountingProxy, type Fault } from "../support/countingProxy.ts";
import { HostCallError } from "../support/providerHost.ts";
import { codeOf, sha256, startS3Rig, type S3Rig } from "../support/s3rig.ts";
import { FAULT_SEED, transientFaults } from "../support/seeded.ts";

const MiB = 1024 * 1024;
let rig: S3Rig;
let src: string;
const body = randomBytes(30 * MiB);
let fault: ((req: http.IncomingMessage) => Fault | undefined) | undefined;
let proxy: CountingProxy;

before(async () => {
  rig = await startS3Rig();
  src = await rig.bucket();
  await rig.put(src, "seed.bin", body, { Metadata: { origin: "prod" } });
  proxy = await startCountingProxy(rig.server.endpoint, { fault: (req) => fault?.(req) });
});
after(async () => {
  await proxy?.close();
  await rig?.stop();
});

const at = (bucket: string, key: string) => rig.at(bucket, key, { endpoint: proxy.endpoint });

test("simulated: with 20% of requests failing (503 SlowDown, 500, reset; seeded), single and multipart copies and a delete still complete, through the SDKs' own retries", async () => {
  const transient = transientFaults([{ status: 503, code: "SlowDown" }, { status: 500, code: "InternalError" }, { reset: true }], FAULT_SEED);
  // At most two faults in a row for one request: transient, as the retry budget (3 attempts) assumes.
  fault = transient;
  try {
    const dst = await rig.bucket();
    const before = { requests: proxy.requests.length, faults: proxy.faults.length };
    for (let round = 1; round <= Number(process.env.FAULT_ROUNDS ?? 3); round++) {
      const single = await rig.engine.up(await rig.register({ source: at(src, "seed.bin"), destination: at(dst, `single-${round}.bin`), strategy: "copy" }, undefined, `single-${round}`));
      const multi = await rig.engine.up(await rig.register({ source: at(src, "seed.bin"), destination: at(dst, `multi-${round}.bin`), strategy: "multipart", partSizeBytes: 5 * MiB, concurrency: 3 }, undefined, `multi-${round}`));
      assert.equal(sha256(await rig.get(dst, `single-${round}.bin`)), sha256(body));
      assert.equal(sha256(await rig.get(dst, `multi-${round}.bin`)), sha256(body));
      await rig.engine.destroy(single.deployed);
      await rig.engine.destroy(multi.deployed);
      assert.equal(await rig.exists(dst, `single-${round}.bin`), false);
      assert.equal(await rig.exists(dst, `multi-${round}.bin`), false);
    }
    const injected = proxy.faults.length - before.faults;
    diagnostic(`${injected} faults injected in ${proxy.requests.length - before.requests} requests`);
    assert.ok(injected >= 5, `${injected} faults`);
    assert.equal(await rig.uploads(dst), 0);
  } finally {
    fault = undefined;
  }
});

for (const [operation, matches] of [
  ["CopyObject", (req: http.IncomingMessage) => req.method === "PUT" && !!req.headers["x-amz-copy-source"] && !/partNumber=/.test(req.url ?? "")],
  ["UploadPartCopy", (req: http.IncomingMessage) => req.method === "PUT" && !!req.headers["x-amz-copy-source"] && /partNumber=/.test(req.url ?? "")],
  ["CompleteMultipartUpload", (req: http.IncomingMessage) => req.method === "POST" && /uploadId=/.test(req.url ?? "")],
] as const) {
  test(`simulated: ${operation} answering 200 OK with an <Error> body is never reported as success, and nothing is left behind`, async () => {
    fault = (req) => (matches(req) ? { okWithError: "InternalError" } : undefined);
    try {
      const dst = await rig.bucket();
      const strategy = operation === "CopyObject" ? "copy" : "multipart";
      const failure = await rig.engine.up(await rig.register({ source: at(src, "seed.bin"), destination: at(dst, "out.bin"), strategy, partSizeBytes: 5 * MiB })).then(() => undefined, (e: unknown) => e);
      assert.ok(failure instanceof HostCallError, String(failure));
      assert.equal(codeOf(failure), "CopyFailed");
      assert.match(failure.message, /InternalError/);
      assert.equal(await rig.exists(dst, "out.bin"), false);
      assert.equal(await rig.uploads(dst), 0, "the multipart upload was aborted");
    } finally {
      fault = undefined;
    }
  });
}
