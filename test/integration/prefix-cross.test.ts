// CopiedPrefix across stores, through the real host, real servers only (Azurite as the source, moto as the
// destination): CopiedObject's pair rules carry over per object, so Blob → S3 is refused at check without the
// streaming opt-in, and with it every object streams through the provider with its headers.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { CreateBucketCommand, GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { CopiedPrefix, type CopiedPrefixArgs } from "pulumi-copied-object";
import { CheckFailed } from "../support/engine.ts";
import { registerUnderMocks } from "../support/providerHost.ts";
import { startAzureRig, type AzureRig } from "../support/azureRig.ts";
import { s3Client, startS3Server, type S3Server } from "../support/s3server.ts";

let s3: S3Server;
let client: S3Client;
let rig: AzureRig;
before(async () => {
  s3 = await startS3Server();
  client = s3Client(s3);
  rig = await startAzureRig({ env: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region } });
});
after(async () => {
  await rig?.stop();
  await s3?.stop();
});

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const register = async (args: CopiedPrefixArgs) => (await registerUnderMocks(() => new CopiedPrefix("prefix", args)))[0];

test("Blob → S3: refused at check without strategy stream, naming it; with it, each object streams with its content headers, and the next up plans nothing", async () => {
  const primary = rig.azurite.accounts.primary;
  const src = await rig.container(primary);
  const objects = new Map(Array.from({ length: 12 }, (_, i) => [`r/${i}/part ${i}.csv`, randomBytes(1000 + i)] as const));
  for (const [name, body] of objects) await rig.put(primary, src, `exports/${name}`, body, { contentType: "text/csv" });
  const bucket = `b${randomBytes(5).toString("hex")}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const source = { azureBlob: { accountUrl: primary.url, container: src, prefix: "exports/" } };
  const destination = { s3: { bucket, prefix: "imported/", endpoint: s3.endpoint, forcePathStyle: true } };

  const refused = await rig.engine.up(await register({ source, destination })).then(() => undefined, (e: unknown) => e);
  assert.ok(refused instanceof CheckFailed, String(refused));
  assert.ok(refused.failures.some((f) => f.property === "strategy" && /stream/.test(f.reason)), JSON.stringify(refused.failures));

  const { deployed } = await rig.engine.up(await register({ source, destination, strategy: "stream" }));
  assert.deepEqual([deployed.outputs.objectCount, deployed.outputs.copiedCount, deployed.outputs.copyStatus], [12, 12, "success"]);
  for (const [name, body] of objects) {
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `imported/${name}` }));
    assert.equal(got.ContentType, "text/csv", name);
    assert.equal(sha(await got.Body!.transformToByteArray()), sha(body), name);
  }
  assert.equal((await rig.engine.up(await register({ source, destination, strategy: "stream" }), deployed)).step, "same");
  await rig.engine.destroy(deployed);
});
