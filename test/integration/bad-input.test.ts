// Bad input (issue 5, R5): each row goes through Pulumi's real provider host. `check` must fail,
// naming the field and saying how to fix it, and no request may reach any server: every locator
// points at a counting proxy in front of moto, Azurite or the Azure Files test server (a labelled
// simulation: no Files emulator exists), and the counts are compared per row. The two limits that
// depend on the source's size are decided after one HEAD and before any write (last tests).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { CopiedObjectArgs } from "pulumi-copied-object";
import { startCountingProxy, type CountingProxy } from "../support/countingProxy.ts";
import { startAzureFilesServer, type AzureFilesServer } from "../support/azureFilesServer.ts";
import { startAzurite, type Azurite } from "../support/azurite.ts";
import { HostCallError } from "../support/providerHost.ts";
import { codeOf, startS3Rig, type S3Rig } from "../support/s3rig.ts";

let rig: S3Rig;
let azurite: Azurite;
let files: AzureFilesServer;
const proxies: Record<"s3" | "blob" | "file", CountingProxy> = {} as never;

before(async () => {
  rig = await startS3Rig();
  azurite = await startAzurite();
  files = await startAzureFilesServer();
  proxies.s3 = await startCountingProxy(rig.server.endpoint);
  proxies.blob = await startCountingProxy(azurite.endpoint);
  proxies.file = await startCountingProxy(files.endpoint);
});
after(async () => {
  for (const p of Object.values(proxies)) await p?.close();
  await rig?.stop();
  await azurite?.stop();
  await files?.close();
});

// The rows are written before the servers start: "{s3}", "{blob}" and "{file}" stand for the proxies.
const s3 = (bucket: string, key: string, extra: Record<string, unknown> = {}) => ({ s3: { bucket, key, endpoint: "{s3}", forcePathStyle: true, ...extra } });
const blob = (container: string, name: string, extra: Record<string, unknown> = {}) => ({ azureBlob: { accountUrl: "{blob}/devstoreaccount1", container, blob: name, ...extra } });
const file = (share: string, path: string, extra: Record<string, unknown> = {}) => ({ azureFile: { accountUrl: "{file}/devstoreaccount1", share, path, ...extra } });
const atProxies = (args: Record<string, unknown>) => JSON.parse(JSON.stringify(args).replace(/\{(s3|blob|file)\}/g, (_, k: "s3" | "blob" | "file") => proxies[k].endpoint));
const S3 = { source: s3("src", "k"), destination: s3("dst", "k") };
const KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const SAS_WRITE_ONLY = "sv=2025-01-05&sp=w&sr=b&se=2099-01-01T00:00:00Z&sig=c2lnbmF0dXJlLWNhbmFyeS1ub3QtZWNob2Vk";

interface Row { name: string; args: Record<string, unknown>; property: string; reason: RegExp }
const rows: Row[] = [
  // Names and keys.
  { name: "empty S3 key", args: { source: s3("src", ""), destination: s3("dst", "k") }, property: "source.s3.key", reason: /is required: the object's key/ },
  { name: "S3 key over 1024 bytes", args: { source: s3("src", "k"), destination: s3("dst", "é".repeat(513)) }, property: "destination.s3.key", reason: /1026 bytes .* at most 1024 bytes\. Shorten it/ },
  { name: "invalid bucket name", args: { source: s3("-bad-", "k"), destination: s3("dst", "k") }, property: "source.s3.bucket", reason: /must be a valid bucket name/ },
  { name: "invalid container name", args: { source: blob("Bad--Container", "b"), destination: blob("dst", "b") }, property: "source.azureBlob.container", reason: /3-63 lowercase letters, digits and single hyphens/ },
  { name: "empty blob name", args: { source: blob("src", "b"), destination: blob("dst", "") }, property: "destination.azureBlob.blob", reason: /is required: the blob's name/ },
  { name: "blob name over 1024", args: { source: blob("src", "x".repeat(1025)), destination: blob("dst", "b") }, property: "source.azureBlob.blob", reason: /at most 1024/ },
  { name: "invalid share name", args: { source: file("share", "a"), destination: file("Share_Name", "a") }, property: "destination.azureFile.share", reason: /must be a share name: 3-63 lowercase/ },
  { name: "empty file path", args: { source: file("share", ""), destination: file("share", "a") }, property: "source.azureFile.path", reason: /is required: the file's path/ },
  // Locator kinds.
  { name: "both locator kinds", args: { source: { ...s3("src", "k"), ...blob("src", "b") }, destination: s3("dst", "k") }, property: "source", reason: /exactly one of the keys s3, azureBlob, azureFile, url \(got (s3, azureBlob|azureBlob, s3)\)/ },
  { name: "no locator kind", args: { source: {}, destination: s3("dst", "k") }, property: "source", reason: /exactly one of the keys .*\(got none\)/ },
  { name: "unknown locator kind", args: { source: { gcs: { bucket: "b", key: "k" } }, destination: s3("dst", "k") }, property: "source.gcs", reason: /is not a kind of location\. Use s3, azureBlob, azureFile or url/ },
  { name: "snapshot on a destination blob", args: { source: blob("src", "b"), destination: blob("dst", "b", { snapshot: "2026-01-01T00:00:00.0000000Z" }) }, property: "destination.azureBlob.snapshot", reason: /applies to sources only.*Remove it/ },
  { name: "versionId on a destination object", args: { source: s3("src", "k"), destination: s3("dst", "k", { versionId: "v1" }) }, property: "destination.s3.versionId", reason: /applies to sources only.*Remove it/ },
  { name: "shareSnapshot on a destination file", args: { source: file("share", "a"), destination: file("share", "b", { shareSnapshot: "2026-01-01T00:00:00.0000000Z" }) }, property: "destination.azureFile.shareSnapshot", reason: /applies to sources only.*Remove it/ },
  { name: "malformed snapshot", args: { source: blob("src", "b", { snapshot: "yesterday" }), destination: blob("dst", "b") }, property: "source.azureBlob.snapshot", reason: /timestamp as Azure lists it, e\.g\. "2026-11-21T09:30:00\.1234567Z"/ },
  { name: "unknown locator field", args: { source: s3("src", "k", { bukket: "x" }), destination: s3("dst", "k") }, property: "source.s3.bukket", reason: /did you mean "bucket"/ },
  // Options: unknown names, wrong types, absurd values.
  { name: "unknown option", args: { ...S3, timeoutSecond: 60 }, property: "timeoutSecond", reason: /did you mean "timeoutSeconds"/ },
  { name: "timeout of the wrong type", args: { ...S3, timeoutSeconds: "soon" }, property: "timeoutSeconds", reason: /must be a number from 1 to 604800/ },
  { name: "negative timeout", args: { ...S3, timeoutSeconds: -5 }, property: "timeoutSeconds", reason: /from 1 to 604800 .*got -5/ },
  { name: "absurd timeout", args: { ...S3, timeoutSeconds: 1e9 }, property: "timeoutSeconds", reason: /at most 7 days/ },
  { name: "part size below 5 MiB", args: { ...S3, partSizeBytes: 1024 }, property: "partSizeBytes", reason: /S3 parts are 5 MiB to 5 GiB/ },
  { name: "part size above 5 GiB", args: { ...S3, partSizeBytes: 6 * 1024 ** 3 }, property: "partSizeBytes", reason: /S3 parts are 5 MiB to 5 GiB/ },
  { name: "concurrency 0", args: { ...S3, concurrency: 0 }, property: "concurrency", reason: /whole number from 1 to 64/ },
  { name: "absurd concurrency", args: { ...S3, concurrency: 10_000 }, property: "concurrency", reason: /whole number from 1 to 64/ },
  { name: "poll interval 0", args: { ...S3, pollIntervalSeconds: 0 }, property: "pollIntervalSeconds", reason: /from 0\.1 to 3600/ },
  { name: "unknown strategy", args: { ...S3, strategy: "fast" }, property: "strategy", reason: /must be one of "auto", "copy", "multipart", "blocks", "sync", "stream"/ },
  { name: "strategy of another store", args: { ...S3, strategy: "blocks" }, property: "strategy", reason: /Azure Blob strategy; for S3 to S3 use/ },
  // (Upper-case names pass on a custom endpoint: S3-compatible servers define their own classes.)
  { name: "unknown storage class", args: { ...S3, storageClass: "frosty" }, property: "storageClass", reason: /must be an S3 storage class/ },
  { name: "unknown access tier", args: { source: blob("src", "b"), destination: blob("dst", "b"), accessTier: "Warm" }, property: "accessTier", reason: /must be one of Hot, Cool, Cold, Archive/ },
  { name: "metadata name that is no identifier", args: { ...S3, metadata: { "bad name": "x" } }, property: "metadata.bad name", reason: /only letters, digits/ },
  { name: "tag value not a string", args: { ...S3, tags: { team: 5 } }, property: "tags.team", reason: /must be a string .*convert it with String\(\)/ },
  { name: "empty sourceEtag", args: { ...S3, sourceEtag: "" }, property: "sourceEtag", reason: /non-empty string/ },
  // Pairs and URLs.
  { name: "a URL as destination", args: { source: s3("src", "k"), destination: { url: "https://example.com/x" } }, property: "destination.url", reason: /can only be a source.*Copy to an s3, azureBlob or azureFile destination/ },
  { name: "a non-http URL source", args: { source: { url: "ftp://example.com/x" }, destination: blob("dst", "b") }, property: "source.url", reason: /must be an http\(s\) URL/ },
  { name: "Blob to S3 without stream", args: { source: blob("src", "b"), destination: s3("dst", "k") }, property: "strategy", reason: /cannot copy from Azure Blob server-side.*Set st/ },
  { name: "URL to Azure Files", args: { source: { url: "https://example.com/x" }, destination: file("share", "a") }, property: "destination", reason: /not supported: Copy File reads only Azure Files and Azure Blob sources/ },
  { name: "an object copied onto itself", args: { source: s3("same", "k"), destination: s3("same", "k") }, property: "destination.s3.key", reason: /is the source object itself.*set source\.s3\.versionId/ },
  // Endpoints and credentials.
  { name: "malformed accountUrl", args: { source: { azureBlob: { accountUrl: "not a url", container: "src", blob: "b" } }, destination: blob("dst", "b") }, property: "source.azureBlob.accountUrl", reason: /must be an http\(s\) URL/ },
  { name: "malformed S3 endpoint", args: { source: s3("src", "k", { endpoint: "s3.local:9000" }), destination: s3("dst", "k") }, property: "source.s3.endpoint", reason: /must be an http\(s\) URL/ },
  { name: "malformed region", args: { source: s3("src", "k", { region: "mars!" }), destination: s3("dst", "k") }, property: "source.s3.region", reason: /AWS region name such as "eu-west-1"/ },
  { name: "a SAS without read permission on a source", args: { source: blob("src", "b", { credentials: { sasToken: SAS_WRITE_ONLY } }), destination: blob("dst", "b") }, property: "source.azureBlob.credentials.sasToken", reason: /read/ },
  { name: "two Azure credential kinds", args: { source: blob("src", "b", { credentials: { accountKey: KEY, sasToken: SAS_WRITE_ONLY } }), destination: blob("dst", "b") }, property: "source.azureBlob.credentials", reason: /exactly one of accountKey, sasToken or connectionString/ },
  { name: "an account key that is not base64", args: { source: blob("src", "b"), destination: blob("dst", "b", { credentials: { accountKey: "not base64 at all!" } }) }, property: "destination.azureBlob.credentials.accountKey", reason: /base64/ },
  { name: "S3 credentials missing the secret", args: { source: s3("src", "k", { credentials: { accessKeyId: "AKIDBADINPUT0001" } }), destination: s3("dst", "k") }, property: "source.s3.credentials.secretAccessKey", reason: /required|must be/ },
];

const counts = () => Object.values(proxies).map((p) => p.requests.length).concat(files.requests.length);

for (const row of rows) {
  test(`bad input, refused at check with 0 requests: ${row.name}`, async () => {
    const before = counts();
    const reg = await rig.register(atProxies(row.args) as CopiedObjectArgs);
    const { failures } = await rig.host.check(reg, {}, reg.inputs);
    const failure = failures.find((f) => f.property === row.property);
    assert.ok(failure, `no failure names ${row.property}; got ${JSON.stringify(failures)}`);
    assert.match(failure.reason, row.reason);
    for (const secret of [KEY, "c2lnbmF0dXJlLWNhbmFyeS1ub3QtZWNob2Vk", "AKIDBADINPUT0001"]) assert.ok(!JSON.stringify(failures).includes(secret), "a credential was echoed");
    assert.deepEqual(counts(), before, "a request reached a server");
  });
}

test(`the table has at least 30 rows, over every locator kind (${rows.length})`, () => {
  assert.ok(rows.length >= 30);
  for (const kind of ["s3", "azureBlob", "azureFile", "url"]) assert.ok(rows.some((r) => JSON.stringify(r.args).includes(`"${kind}"`)), kind);
});

// SIMULATED SIZE: moto cannot cheaply hold a 6 GiB or 50 GiB object, so this stand-in answers the
// one HEAD of the source with that size (as S3 would) and counts anything else, which must not come.
async function sizeServer(sizeBytes: number): Promise<{ endpoint: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.method !== "HEAD") return void res.writeHead(500).end();
    res.writeHead(200, { "content-length": String(sizeBytes), etag: '"0123456789abcdef0123456789abcdef"', "last-modified": new Date().toUTCString(), "content-type": "application/octet-stream" }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

for (const [name, sizeBytes, options, message] of [
  ["a single copy forced above 5 GiB", 6 * 1024 ** 3, { strategy: "copy" }, /single S3 CopyObject is limited to 5 GiB\. Use strategy "auto" or "multipart"/],
  ["parts above 10,000", 50 * 1024 ** 3, { strategy: "multipart", partSizeBytes: 5 * 1024 ** 2 }, /into 10240 parts; S3 allows 10,000\. Use partSizeBytes of at least 6291456/],
] as const) {
  test(`simulated size: ${name} is refused after exactly one HEAD, before any write`, async () => {
    const server = await sizeServer(sizeBytes);
    try {
      const at = (bucket: string, key: string) => ({ s3: { bucket, key, endpoint: server.endpoint, forcePathStyle: true } });
      const outcome = await rig.engine.up(await rig.register({ source: at("src", "huge.bin"), destination: at("dst", "out.bin"), ...options } as CopiedObjectArgs)).then(() => undefined, (e: unknown) => e);
      assert.ok(outcome instanceof HostCallError, String(outcome));
      assert.equal(codeOf(outcome), "InvalidInput");
      assert.match(outcome.message, message);
      assert.equal(outcome.partial, undefined, "nothing was written, so nothing is kept");
      assert.deepEqual(server.requests, ["HEAD /src/huge.bin"]);
    } finally {
      await server.close();
    }
  });
}
