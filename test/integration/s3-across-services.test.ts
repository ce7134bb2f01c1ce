// S3 to S3 across two services (two servers: this suite's S3 server, and a second moto). CopyObject runs on
// the destination's server and would read a bucket of the same name there, so a server-side copy is refused
// at check, naming both endpoints; strategy "stream" copies through the provider with bounded memory.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { CreateBucketCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { sha256, startS3Rig, type S3Rig } from "../support/s3rig.ts";
import { s3Client, startS3Server, type S3Server } from "../support/s3server.ts";

let rig: S3Rig;
let other: S3Server;
const MiB = 1024 * 1024;

before(async () => {
  rig = await startS3Rig();
  other = await startS3Server({ moto: true });
});
after(async () => {
  await rig?.stop();
  await other?.stop();
});

async function otherBucket(): Promise<string> {
  const name = `o-${randomBytes(6).toString("hex")}`;
  await s3Client(other).send(new CreateBucketCommand({ Bucket: name }));
  return name;
}
// The other service has its own keys: given explicitly, as for a second account.
const onOther = (bucket: string, key: string) => ({ s3: { bucket, key, endpoint: other.endpoint, forcePathStyle: true, credentials: { accessKeyId: other.accessKeyId, secretAccessKey: other.secretAccessKey } } });

test("a server-side S3 copy between two services is refused at check, naming both endpoints and strategy \"stream\"", async () => {
  const bucket = await rig.bucket();
  await rig.put(bucket, "seed", "prod");
  // The same bucket name on both servers: exactly the case where CopyObject would copy the wrong object.
  await s3Client(other).send(new CreateBucketCommand({ Bucket: bucket }));
  const reg = await rig.register({ source: rig.at(bucket, "seed"), destination: onOther(bucket, "seed") });
  const { failures } = await rig.host.check(reg, {}, reg.inputs);
  assert.deepEqual(failures.map((f) => f.property), ["destination.s3.endpoint"]);
  assert.ok(failures[0].reason.includes(`is ${other.endpoint}, but the source is on ${rig.server.endpoint}`), failures[0].reason);
  assert.match(failures[0].reason, /Set strategy: "stream"/);
});

test("strategy \"stream\" copies across services: bytes, headers, metadata and tags arrive; a source change re-copies; destroy removes it", async () => {
  const [src, dst] = [await rig.bucket(), await otherBucket()];
  const body = randomBytes(12 * MiB);
  const put = await rig.put(src, "seed.gz", body, {
    ContentType: "application/x-tar", ContentEncoding: "gzip", CacheControl: "max-age=60", ContentDisposition: "attachment", ContentLanguage: "en",
    Metadata: { origin: "prod" }, Tagging: "env=prod",
  });
  const reg = await rig.register({ source: rig.at(src, "seed.gz"), destination: onOther(dst, "seed.gz"), strategy: "stream" });
  const { deployed } = await rig.engine.up(reg);
  assert.deepEqual([deployed.outputs.strategy, deployed.outputs.sourceEtag], ["stream", put.etag]);
  const client = s3Client(other);
  const got = await client.send(new GetObjectCommand({ Bucket: dst, Key: "seed.gz" }));
  assert.equal(sha256(Buffer.from(await got.Body!.transformToByteArray())), sha256(body));
  const head = await client.send(new HeadObjectCommand({ Bucket: dst, Key: "seed.gz" }));
  assert.deepEqual(
    [head.ContentType, head.ContentEncoding, head.CacheControl, head.ContentDisposition, head.ContentLanguage, head.Metadata],
    ["application/x-tar", "gzip", "max-age=60", "attachment", "en", { origin: "prod" }],
  );
  assert.deepEqual((await client.send(new GetObjectTaggingCommand({ Bucket: dst, Key: "seed.gz" }))).TagSet, [{ Key: "env", Value: "prod" }]);
  assert.match(rig.host.output(), /streaming .* through this process: 12 MiB, 8 MiB parts, 4 at a time \(at most 32 MiB in memory\)/);

  await rig.put(src, "seed.gz", "changed");
  const next = await rig.engine.up(reg, deployed);
  assert.equal(next.step, "update", "trackSource reads the source on its own service");
  const after = await client.send(new GetObjectCommand({ Bucket: dst, Key: "seed.gz" }));
  assert.equal(await after.Body!.transformToString(), "changed");

  await rig.engine.destroy(next.deployed);
  await assert.rejects(client.send(new HeadObjectCommand({ Bucket: dst, Key: "seed.gz" })), (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 404);
  assert.equal((await client.send(new ListMultipartUploadsCommand({ Bucket: dst }))).Uploads?.length ?? 0, 0);
});
