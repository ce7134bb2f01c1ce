// Any URL, and S3 through a presigned GET, into Azure Blob, through the real provider host.
// SIMULATION in part: Azurite never fetches an outside URL, so the scripted proxy in front of it
// plays the service's read of the source (test/support/azureCopyProxy.ts); the rest is Azurite's.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { PutBucketVersioningCommand, CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { HostCallError } from "../support/providerHost.ts";
import { startAzureCopyProxy, type AzureCopyProxy } from "../support/azureCopyProxy.ts";
import { startAzureRig, type AzureRig } from "../support/azureRig.ts";
import { codeOf } from "../support/s3rig.ts";
import { s3Client, startS3Server, type S3Server } from "../support/s3server.ts";

let rig: AzureRig;
let proxy: AzureCopyProxy;
let s3: S3Server;
let web: http.Server;
let webUrl: string;
const files = new Map<string, { body: Buffer; etag: string; type: string }>();

function serve(path: string, body: Buffer, type = "application/gzip") {
  files.set(path, { body, type, etag: `"${createHash("md5").update(body).digest("hex")}"` });
}

before(async () => {
  s3 = await startS3Server();
  rig = await startAzureRig({ env: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region } });
  const { primary } = rig.azurite.accounts;
  proxy = await startAzureCopyProxy(rig.azurite.endpoint, { accounts: [{ name: primary.name, key: primary.key }] });
  web = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/latest") return void res.writeHead(302, { location: "/files/seed.sql.gz" }).end();
    const file = files.get(url.pathname);
    if (!file) return void res.writeHead(404).end();
    // Like a presigned GET URL: no HEAD, but ranges.
    if (url.pathname.startsWith("/get-only/")) {
      if (req.method === "HEAD") return void res.writeHead(405).end();
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
      if (range) {
        const [first, last] = [Number(range[1]), Math.min(Number(range[2]), file.body.length - 1)];
        res.writeHead(206, { "content-type": file.type, "content-range": `bytes ${first}-${last}/${file.body.length}`, "content-length": last - first + 1, etag: file.etag });
        return void res.end(file.body.subarray(first, last + 1));
      }
    }
    res.writeHead(200, { "content-type": file.type, "content-length": file.body.length, etag: file.etag });
    res.end(req.method === "HEAD" ? undefined : file.body);
  });
  await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
});
after(async () => {
  web?.closeAllConnections();
  await new Promise((resolve) => web?.close(resolve));
  await proxy?.close();
  await rig?.stop();
  await s3?.stop();
});

const primary = () => rig.azurite.accounts.primary;
const into = (container: string, blob: string) => rig.at(primary(), container, blob, {}, proxy.endpoint);

test("simulated service read: a URL that redirects is resolved first, then copied by the service with its content type", async () => {
  const body = randomBytes(64 * 1024);
  serve("/files/seed.sql.gz", body);
  const dst = await rig.container(primary());
  const { deployed } = await rig.engine.up(await rig.register({ source: { url: `${webUrl}/latest` }, destination: into(dst, "seed.sql.gz") }));
  assert.deepEqual(await rig.get(primary(), dst, "seed.sql.gz"), body);
  assert.deepEqual(proxy.fetches.map((f) => [f.url, f.status]).slice(-1), [[`${webUrl}/files/seed.sql.gz`, 200]], "the service read the final URL, not the redirect");
  assert.equal(deployed.outputs.sourceEtag, files.get("/files/seed.sql.gz")!.etag.replace(/"/g, ""));
  assert.equal(deployed.outputs.strategy, "copy");
  const props = await rig.service(primary()).getContainerClient(dst).getBlobClient("seed.sql.gz").getProperties();
  assert.equal(props.contentType, "application/gzip");
});

test("simulated service read: a URL source whose content changes is re-copied on the next up", async () => {
  serve("/files/report.csv", Buffer.from("a,b\n1,2\n"), "text/csv");
  const dst = await rig.container(primary());
  const reg = await rig.register({ source: { url: `${webUrl}/files/report.csv` }, destination: into(dst, "report.csv") });
  const first = await rig.engine.up(reg);
  assert.equal((await rig.engine.up(reg, first.deployed)).step, "same");
  serve("/files/report.csv", Buffer.from("a,b\n3,4\n"), "text/csv");
  assert.equal((await rig.engine.up(reg, first.deployed)).step, "update");
  assert.equal((await rig.get(primary(), dst, "report.csv")).toString(), "a,b\n3,4\n");
});

test("a URL's query (a signature) is registered as a secret and appears in no output, provider or log", async () => {
  serve("/files/signed.bin", Buffer.from("signed"));
  const dst = await rig.container(primary());
  const reg = await rig.register({ source: { url: `${webUrl}/files/signed.bin?sv=1&sig=QUERYCANARY0005` }, destination: into(dst, "signed.bin") });
  assert.ok(reg.secretPaths.includes("sourceCredentials"), reg.secretPaths.join(", "));
  assert.deepEqual(reg.inputs.source, { url: `${webUrl}/files/signed.bin` });
  const { deployed } = await rig.engine.up(reg);
  assert.equal((await rig.get(primary(), dst, "signed.bin")).toString(), "signed");
  const { sourceCredentials, ...publicOutputs } = deployed.outputs;
  assert.deepEqual(sourceCredentials, { query: "sv=1&sig=QUERYCANARY0005" });
  for (const text of [String(reg.inputs.__provider), JSON.stringify(publicOutputs), rig.host.output()]) assert.ok(!text.includes("QUERYCANARY0005"));
});

test("a URL that answers 404 is SourceNotFound before anything is written", async () => {
  const dst = await rig.container(primary());
  const before = proxy.fetches.length;
  const failure = await rig.engine.up(await rig.register({ source: { url: `${webUrl}/files/missing` }, destination: into(dst, "x") })).then(() => undefined, (e: unknown) => e);
  assert.ok(failure instanceof HostCallError);
  assert.equal(codeOf(failure), "SourceNotFound");
  assert.equal(failure.partial, undefined);
  assert.equal(proxy.fetches.length, before, "no copy was started");
});

test("simulated service read: S3 into Azure Blob reads a presigned GET pinned to the version, which is never stored or logged", async () => {
  const client = s3Client(s3);
  const bucket = `t-${randomBytes(6).toString("hex")}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }));
  const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: "db/seed.sql.gz", Body: "from S3", ContentType: "application/gzip", Metadata: { origin: "prod" } }));
  const dst = await rig.container(primary());
  const { deployed } = await rig.engine.up(await rig.register({ source: { s3: { bucket, key: "db/seed.sql.gz", endpoint: s3.endpoint, forcePathStyle: true } }, destination: into(dst, "seed.sql.gz") }));
  assert.equal((await rig.get(primary(), dst, "seed.sql.gz")).toString(), "from S3");
  assert.equal(deployed.outputs.sourceVersionId, put.VersionId);
  const read = proxy.fetches.at(-1)!;
  assert.match(read.url, /X-Amz-Signature=/, "the service, not the client, read S3");
  assert.match(read.url, new RegExp(`versionId=${put.VersionId}`));
  const signature = new URL(read.url).searchParams.get("X-Amz-Signature")!;
  for (const text of [JSON.stringify(deployed.outputs), rig.host.output()]) assert.ok(!text.includes(signature));
  const props = await rig.service(primary()).getContainerClient(dst).getBlobClient("seed.sql.gz").getProperties();
  assert.deepEqual([props.contentType, props.metadata], ["application/gzip", { origin: "prod" }]);
});

test("simulated service read: a URL that refuses HEAD (like a presigned GET) is sized with a one-byte ranged GET", async () => {
  const body = randomBytes(10_000);
  serve("/get-only/blob.bin", body, "application/octet-stream");
  const dst = await rig.container(primary());
  const { deployed } = await rig.engine.up(await rig.register({ source: { url: `${webUrl}/get-only/blob.bin` }, destination: into(dst, "blob.bin") }));
  assert.deepEqual(await rig.get(primary(), dst, "blob.bin"), body);
  assert.equal(deployed.outputs.contentLength, 10_000);
});
