// Secrets (issue 5, R6): credentials of every kind, given as inputs, on every store and on the
// cross-store pairs, through Pulumi's real provider host. Afterwards no surface a user or operator
// can read (the serialized provider, the outputs and ids, error messages, check failures, and
// everything the provider process printed) holds any of them, nor any SAS or presigned signature
// the package generated itself, which are read back from the servers that received them.
// Servers: moto (S3) and Azurite (two accounts) are real. SIMULATIONS, labelled in the test names:
// the Azure Files test server (no emulator exists), and the scripted proxy in front of Azurite that
// plays the Blob service's read of sources Azurite cannot reach (a web server, S3, Azure Files).
// No credential is in the provider's environment: each one has to come from the inputs.
import { after, before, diagnostic, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { BlobSASPermissions, ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } from "@azure/storage-blob";
import {
  FileSASPermissions,
  generateFileSASQueryParameters,
  ShareSASPermissions,
  ShareServiceClient,
  StorageSharedKeyCredential as FileSharedKeyCredential,
} from "@azure/storage-file-share";
import type * as pulumi from "@pulumi/pulumi";
import { CopiedObject, type CopiedObjectArgs } from "pulumi-copied-object";
import { startAzureCopyProxy, type AzureCopyProxy } from "../support/azureCopyProxy.ts";
import { startAzureFilesServer, type AzureFilesServer } from "../support/azureFilesServer.ts";
import { blobService, startAzurite, type Azurite, type AzuriteAccount } from "../support/azurite.ts";
import { MiniEngine, type Deployed } from "../support/engine.ts";
import { HostCallError, ProviderHost, registerUnderMocks, type Registration } from "../support/providerHost.ts";
import { codeOf, repoRoot } from "../support/s3rig.ts";
import { s3Client, startS3Server, type S3Server } from "../support/s3server.ts";
import { MIN_CANARY_LENGTH, scan, signaturesIn, uniqueCanaries, type Canary, type Hit } from "../support/secretsScan.ts";

let s3: S3Server;
let s3c: S3Client;
let azurite: Azurite;
let proxy: AzureCopyProxy;
let files: AzureFilesServer;
let web: http.Server;
let webUrl: string;
let host: ProviderHost;
let engine: MiniEngine;

const hex = (n: number) => randomBytes(n).toString("hex");
// S3 keys: moto accepts any, so they are made up, distinctive, and carry `/` and `+` so that the
// URL-encoded form differs from the plain one. A session token makes presigned URLs carry it too.
const s3Credentials = {
  accessKeyId: `AKIASECRETS${hex(5).toUpperCase()}`,
  secretAccessKey: `s3secret/${hex(8)}+${hex(8)}`,
  sessionToken: `s3session/${hex(10)}+${hex(10)}==`,
};
// Keys given where the server must refuse them.
const wrongBlobKey = randomBytes(64).toString("base64");
const wrongFileKey = randomBytes(64).toString("base64");
const wrongConnectionKey = randomBytes(64).toString("base64");
// A URL's query: not a real signature, so a web server can be asked to refuse it.
const urlQueryCanary = `sv=2025-11-05&se=2099-01-01&sr=b&sp=r&sig=${encodeURIComponent(randomBytes(32).toString("base64"))}`;

/** Every credential given as an input: the canaries. Generated signatures are added after the run. */
const given: Canary[] = [];
function canary(label: string, kind: string, value: string): string {
  assert.ok(value.length >= MIN_CANARY_LENGTH, `${label} is too short to be a distinctive canary`);
  given.push({ label, kind, value });
  return value;
}
/** A SAS token's whole text and its signature, decoded (the form the scanner then encodes). */
function sasCanary(label: string, kind: string, token: string): string {
  canary(`${label} (whole token)`, kind, token);
  canary(`${label} sig`, kind, new URLSearchParams(token).get("sig")!);
  return token;
}

/** What a user or an operator can read, per surface. */
const surfaces = {
  provider: [] as string[],
  inputs: [] as string[],
  outputs: [] as string[],
  errors: [] as string[],
  checkFailures: [] as string[],
};
const deployments: Array<{ name: string; deployed: Deployed; gone: () => Promise<boolean> }> = [];
const failures: Array<{ name: string; code: string | undefined }> = [];

before(async () => {
  s3 = await startS3Server();
  s3c = s3Client(s3);
  azurite = await startAzurite();
  const { primary, secondary } = azurite.accounts;
  proxy = await startAzureCopyProxy(azurite.endpoint, { accounts: [primary, secondary].map(({ name, key }) => ({ name, key })) });
  // Random keys, so that no key here is a well-known one.
  files = await startAzureFilesServer({ accounts: [{ name: "filesacct" }], copyDelayMs: 300 });
  // A web source that answers HEAD but refuses the service's GET, as an expired signature would.
  web = http.createServer((req, res) => {
    if (req.url?.startsWith("/missing")) return void res.writeHead(404).end();
    if (req.method === "HEAD") return void res.writeHead(200, { "content-length": "6", etag: '"w1"', "content-type": "text/plain" }).end();
    res.writeHead(403, { "content-type": "text/plain" }).end("Forbidden");
  });
  await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  // No credential in the provider's environment: blank the Azure ones, give S3 only its region.
  host = await ProviderHost.start({
    cwd: repoRoot,
    env: { AWS_REGION: s3.region, AWS_EC2_METADATA_DISABLED: "true", AZURE_STORAGE_ACCOUNT: "", AZURE_STORAGE_KEY: "", AZURE_STORAGE_CONNECTION_STRING: "" },
    callTimeoutMs: 120_000,
  });
  await host.configure();
  engine = new MiniEngine(host);
  canary("s3.accessKeyId", "s3-key", s3Credentials.accessKeyId);
  canary("s3.secretAccessKey", "s3-key", s3Credentials.secretAccessKey);
  canary("s3.sessionToken", "s3-key", s3Credentials.sessionToken);
  canary("Azurite primary account key", "account-key", primary.key);
  canary("Azurite secondary account key", "account-key", secondary.key);
  canary("Files account key", "account-key", fileAccount().key);
  canary("wrong blob account key", "account-key", wrongBlobKey);
  canary("wrong file account key", "account-key", wrongFileKey);
  canary("wrong key in a connection string", "connection-string", wrongConnectionKey);
  canary("url query (whole)", "url-query", urlQueryCanary);
  canary("url query sig", "url-query", new URLSearchParams(urlQueryCanary).get("sig")!);
});
after(async () => {
  await host?.stop();
  web?.closeAllConnections();
  await new Promise((resolve) => (web ? web.close(resolve) : resolve(undefined)));
  await files?.close();
  await proxy?.close();
  await azurite?.stop();
  await s3?.stop();
});

// ---- arranging the servers -------------------------------------------------------------------

const primary = () => azurite.accounts.primary;
const secondary = () => azurite.accounts.secondary;
const fileAccount = () => files.accounts[0]!;
const viaProxy = (account: AzuriteAccount) => `${proxy.endpoint}/${account.name}`;
const blobAt = (account: AzuriteAccount, container: string, blob: string, credentials?: Record<string, string>, accountUrl = viaProxy(account)) =>
  ({ azureBlob: { accountUrl, container, blob, ...(credentials ? { credentials } : {}) } });
const fileAt = (share: string, path: string, credentials?: Record<string, string>) =>
  ({ azureFile: { accountUrl: fileAccount().url, share, path, ...(credentials ? { credentials } : {}) } });
const s3At = (bucket: string, key: string, withCredentials = true) =>
  ({ s3: { bucket, key, endpoint: s3.endpoint, forcePathStyle: true, ...(withCredentials ? { credentials: s3Credentials } : {}) } });

function blobConnectionString(account: AzuriteAccount, key = account.key, endpoint = viaProxy(account)): string {
  return `DefaultEndpointsProtocol=http;AccountName=${account.name};AccountKey=${key};BlobEndpoint=${endpoint};`;
}
function fileConnectionString(key = fileAccount().key): string {
  return `DefaultEndpointsProtocol=http;AccountName=${fileAccount().name};AccountKey=${key};FileEndpoint=${fileAccount().url};`;
}
const hour = () => new Date(Date.now() + 3600_000);
function blobSas(account: AzuriteAccount, containerName: string, blobName: string, permissions: string): string {
  return generateBlobSASQueryParameters({ containerName, blobName, permissions: BlobSASPermissions.parse(permissions), expiresOn: hour() }, new StorageSharedKeyCredential(account.name, account.key)).toString();
}
function containerSas(account: AzuriteAccount, containerName: string, permissions: string): string {
  return generateBlobSASQueryParameters({ containerName, permissions: ContainerSASPermissions.parse(permissions), expiresOn: hour() }, new StorageSharedKeyCredential(account.name, account.key)).toString();
}
const fileKey = () => new FileSharedKeyCredential(fileAccount().name, fileAccount().key);
function fileSas(share: string, path: string, permissions: string): string {
  return generateFileSASQueryParameters({ shareName: share, filePath: path, permissions: FileSASPermissions.parse(permissions), expiresOn: hour() }, fileKey()).toString();
}
function shareSas(share: string, permissions: string): string {
  return generateFileSASQueryParameters({ shareName: share, permissions: ShareSASPermissions.parse(permissions), expiresOn: hour() }, fileKey()).toString();
}

async function bucket(): Promise<string> {
  const name = `t-${hex(6)}`;
  await s3c.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}
async function s3Put(b: string, key: string, body: Buffer): Promise<void> {
  await s3c.send(new PutObjectCommand({ Bucket: b, Key: key, Body: body }));
}
async function s3Get(b: string, key: string): Promise<Buffer> {
  const out = await s3c.send(new GetObjectCommand({ Bucket: b, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}
async function s3Gone(b: string, key: string): Promise<boolean> {
  return s3c.send(new HeadObjectCommand({ Bucket: b, Key: key })).then(() => false, (e: { $metadata?: { httpStatusCode?: number } }) => {
    if (e.$metadata?.httpStatusCode === 404) return true;
    throw e;
  });
}
async function container(account: AzuriteAccount): Promise<string> {
  const name = `c${hex(6)}`;
  await blobService(account).createContainer(name);
  return name;
}
async function blobPut(account: AzuriteAccount, c: string, blob: string, body: Buffer): Promise<void> {
  await blobService(account).getContainerClient(c).getBlockBlobClient(blob).upload(body, body.length);
}
const blobGet = (account: AzuriteAccount, c: string, blob: string) => blobService(account).getContainerClient(c).getBlobClient(blob).downloadToBuffer();
const blobGone = async (account: AzuriteAccount, c: string, blob: string) => !(await blobService(account).getContainerClient(c).getBlobClient(blob).exists());
const shares = () => new ShareServiceClient(fileAccount().url, fileKey());
async function share(): Promise<string> {
  const name = `s${hex(5)}`;
  await shares().getShareClient(name).create();
  return name;
}
async function filePut(s: string, path: string, body: Buffer): Promise<void> {
  await shares().getShareClient(s).rootDirectoryClient.getFileClient(path).uploadData(body);
}
const filePeek = (s: string, path: string) => files.peek(`/${fileAccount().name}/${s}/${path}`);

// ---- driving the provider --------------------------------------------------------------------

type LocatorArg = Record<string, unknown>;
/** CopiedObjectArgs with the locators loosely typed: the tests build every kind of them. */
type Args = Omit<CopiedObjectArgs, "source" | "destination"> & { source: LocatorArg; destination: LocatorArg };

async function register(name: string, args: Args, opts?: pulumi.CustomResourceOptions): Promise<Registration> {
  const [reg] = await registerUnderMocks(() => new CopiedObject(name, args as unknown as CopiedObjectArgs, opts));
  const { __provider, sourceCredentials: _s, destinationCredentials: _d, ...inputs } = reg!.inputs;
  surfaces.provider.push(String(__provider));
  surfaces.inputs.push(JSON.stringify(inputs));
  return reg!;
}

/** The locator as it must reach the provider: readable, without its credentials (a URL without its query). */
function readable(locator: LocatorArg): unknown {
  const [kind, body] = Object.entries(locator)[0]!;
  if (kind === "url") return { url: String(body).split("?")[0] };
  const { credentials: _credentials, ...rest } = body as Record<string, unknown>;
  return { [kind]: rest };
}
function credentialsOf(locator: LocatorArg): unknown {
  const [kind, body] = Object.entries(locator)[0]!;
  if (kind === "url") return String(body).includes("?") ? { query: String(body).slice(String(body).indexOf("?") + 1) } : undefined;
  return (body as { credentials?: unknown }).credentials;
}

/** Credentials travel as secret inputs of their own; source and destination stay readable. */
function assertSecretRegistration(reg: Registration, args: { source: LocatorArg; destination: LocatorArg }): void {
  for (const side of ["source", "destination"] as const) {
    const credentials = credentialsOf(args[side]);
    const secretName = `${side}Credentials`;
    if (credentials !== undefined) {
      assert.ok(reg.secretPaths.includes(secretName), `${reg.name}: ${secretName} is secret (secret paths: ${reg.secretPaths.join(", ")})`);
      assert.deepEqual(reg.inputs[secretName], credentials, `${reg.name}: ${secretName} carries the credentials`);
    }
    assert.ok(!reg.secretPaths.some((p) => p === side || p.startsWith(`${side}.`) || p.startsWith(`${side}[`)), `${reg.name}: ${side} is not secret (secret paths: ${reg.secretPaths.join(", ")})`);
    assert.deepEqual(reg.inputs[side], readable(args[side]), `${reg.name}: ${side} reaches the provider readable and without credentials`);
  }
  assert.deepEqual([...reg.additionalSecretOutputs].sort(), ["args", "destinationCredentials", "sourceCredentials"], `${reg.name}: additionalSecretOutputs`);
}

function recordOutputs(id: string, outputs: Record<string, unknown>): void {
  const { sourceCredentials: _s, destinationCredentials: _d, ...rest } = outputs;
  surfaces.outputs.push(JSON.stringify({ id, ...rest }));
}

/** One resource through up, a second up (no change), and refresh; kept for destroy. */
async function deploy(name: string, args: Args, check: () => Promise<void>, gone: () => Promise<boolean>): Promise<Deployed> {
  const reg = await register(name, args);
  assertSecretRegistration(reg, args);
  const { deployed } = await engine.up(reg);
  await check();
  const { sourceCredentials: _s, destinationCredentials: _d, ...checked } = deployed.inputs;
  surfaces.inputs.push(JSON.stringify(checked));
  recordOutputs(deployed.id, deployed.outputs);
  for (const side of ["source", "destination"] as const) {
    const credentials = credentialsOf(args[side]);
    if (credentials !== undefined) assert.deepEqual(deployed.outputs[`${side}Credentials`], credentials, `${name}: the provider keeps ${side}Credentials, under the secret name, for delete`);
  }
  assert.equal((await engine.up(reg, deployed)).step, "same", `${name}: credentials given as inputs make no perpetual diff`);
  const refreshed = await engine.refresh(deployed);
  assert.ok(refreshed, `${name}: refresh finds the copy`);
  recordOutputs(refreshed.id, refreshed.outputs);
  deployments.push({ name, deployed, gone });
  return deployed;
}

/** One failing up: the error is kept for the scan, and its code returned. */
async function failing(name: string, args: Args): Promise<HostCallError> {
  const reg = await register(name, args);
  assertSecretRegistration(reg, args);
  const outcome = await engine.up(reg).then(() => undefined, (e: unknown) => e);
  assert.ok(outcome instanceof HostCallError, `${name}: expected a failed call, got ${String(outcome)}`);
  surfaces.errors.push(outcome.message);
  if (outcome.partial) {
    surfaces.errors.push(...outcome.partial.reasons);
    recordOutputs(outcome.partial.id, outcome.partial.properties);
  }
  failures.push({ name, code: codeOf(outcome) });
  return outcome;
}

// ---- the tests -------------------------------------------------------------------------------

test("credentials of every kind as inputs (S3 keys and session token, account key, SAS, connection string) copy on every store and cross-store pair (simulated Files server, simulated service read); they are secret at registration and source/destination stay readable", async () => {
  const [p, s] = [primary(), secondary()];

  // S3 → S3 with keys and a session token on both sides.
  {
    const [src, dst] = [await bucket(), await bucket()];
    const body = randomBytes(40_000);
    await s3Put(src, "seed.bin", body);
    await deploy("s3-keys", { source: s3At(src, "seed.bin"), destination: s3At(dst, "seed.bin") }, async () => assert.deepEqual(await s3Get(dst, "seed.bin"), body), () => s3Gone(dst, "seed.bin"));
  }
  // Blob → Blob, one account: the source by account key, the destination by connection string.
  {
    const [src, dst] = [await container(p), await container(p)];
    const body = randomBytes(30_000);
    await blobPut(p, src, "a.bin", body);
    const cs = canary("primary connection string", "connection-string", blobConnectionString(p));
    await deploy("blob-key-to-connection-string", { source: blobAt(p, src, "a.bin", { accountKey: p.key }), destination: blobAt(p, dst, "a.bin", { connectionString: cs }) },
      async () => assert.deepEqual(await blobGet(p, dst, "a.bin"), body), () => blobGone(p, dst, "a.bin"));
  }
  // Blob → Blob across accounts: the package signs a service SAS for the source with its key.
  {
    const [src, dst] = [await container(s), await container(p)];
    const body = randomBytes(30_000);
    await blobPut(s, src, "x.bin", body);
    await deploy("blob-cross-account-generated-sas", { source: blobAt(s, src, "x.bin", { accountKey: s.key }), destination: blobAt(p, dst, "x.bin", { accountKey: p.key }) },
      async () => assert.deepEqual(await blobGet(p, dst, "x.bin"), body), () => blobGone(p, dst, "x.bin"));
  }
  // Blob → Blob with a SAS token as the source's credential (read + tags), the destination by a container SAS.
  {
    const [src, dst] = [await container(s), await container(p)];
    const body = randomBytes(20_000);
    await blobPut(s, src, "sas.bin", body);
    const sourceSas = sasCanary("source blob SAS", "sas", blobSas(s, src, "sas.bin", "rt"));
    const destinationSas = sasCanary("destination container SAS", "sas", containerSas(p, dst, "racwdt"));
    const args = (sasToken: string) => ({ source: blobAt(s, src, "sas.bin", { sasToken }), destination: blobAt(p, dst, "sas.bin", { sasToken: destinationSas }) });
    const first = await deploy("blob-sas-to-sas", args(sourceSas), async () => assert.deepEqual(await blobGet(p, dst, "sas.bin"), body), () => blobGone(p, dst, "sas.bin"));
    // A renewed SAS alone is an update that copies nothing; its outputs are scanned too.
    const renewed = sasCanary("renewed source blob SAS", "sas", generateBlobSASQueryParameters({ containerName: src, blobName: "sas.bin", permissions: BlobSASPermissions.parse("rt"), expiresOn: new Date(Date.now() + 7200_000) }, new StorageSharedKeyCredential(s.name, s.key)).toString());
    const reg = await register("blob-sas-renewed", args(renewed));
    assertSecretRegistration(reg, args(renewed));
    const rotated = await engine.up(reg, first);
    assert.equal(rotated.step, "update");
    assert.equal(rotated.deployed.outputs.lastModified, first.outputs.lastModified, "a renewed SAS alone copies nothing");
    assert.deepEqual(rotated.deployed.outputs.sourceCredentials, { sasToken: renewed });
    recordOutputs(rotated.deployed.id, rotated.deployed.outputs);
    deployments[deployments.length - 1]!.deployed = rotated.deployed;
  }
  // A URL whose query is a real SAS (Azurite checks it): lifted into a secret input.
  {
    const [src, dst] = [await container(s), await container(p)];
    const body = randomBytes(10_000);
    await blobPut(s, src, "by-url.bin", body);
    const query = sasCanary("SAS in a url source", "sas", blobSas(s, src, "by-url.bin", "r"));
    await deploy("url-with-sas", { source: { url: `${viaProxy(s)}/${src}/by-url.bin?${query}` }, destination: blobAt(p, dst, "by-url.bin", { accountKey: p.key }) },
      async () => assert.deepEqual(await blobGet(p, dst, "by-url.bin"), body), () => blobGone(p, dst, "by-url.bin"));
  }
  // S3 → Blob: the package presigns a GET with the given keys and session token; the simulated service reads it.
  {
    const [src, dst] = [await bucket(), await container(p)];
    const body = randomBytes(25_000);
    await s3Put(src, "to-azure.bin", body);
    await deploy("simulated service read: s3-presigned-to-blob", { source: s3At(src, "to-azure.bin"), destination: blobAt(p, dst, "to-azure.bin", { accountKey: p.key }) },
      async () => assert.deepEqual(await blobGet(p, dst, "to-azure.bin"), body), () => blobGone(p, dst, "to-azure.bin"));
  }
  // Simulated Files: File → File, the source by account key (the package signs a file SAS), the destination by a share SAS.
  {
    const sh = await share();
    const body = randomBytes(20_000);
    await filePut(sh, "seed.bak", body);
    const destinationSas = sasCanary("destination share SAS", "sas", shareSas(sh, "rcwd"));
    await deploy("simulated Files: file-key-to-file-sas", { source: fileAt(sh, "seed.bak", { accountKey: fileAccount().key }), destination: fileAt(sh, "out/seed.bak", { sasToken: destinationSas }) },
      async () => assert.deepEqual(filePeek(sh, "out/seed.bak")?.content, body), async () => filePeek(sh, "out/seed.bak") === undefined);
  }
  // Simulated Files: Blob → File, both by connection string; the Files server reads Azurite through a generated blob SAS.
  {
    const [src, sh] = [await container(s), await share()];
    const body = randomBytes(15_000);
    await blobPut(s, src, "b.bin", body);
    const blobCs = canary("secondary connection string", "connection-string", blobConnectionString(s, s.key, s.url));
    const fileCs = canary("files connection string", "connection-string", fileConnectionString());
    await deploy("simulated Files: blob-connection-string-to-file", { source: { azureBlob: { accountUrl: s.url, container: src, blob: "b.bin", credentials: { connectionString: blobCs } } }, destination: fileAt(sh, "b.bin", { connectionString: fileCs }) },
      async () => assert.deepEqual(filePeek(sh, "b.bin")?.content, body), async () => filePeek(sh, "b.bin") === undefined);
  }
  // Simulated Files + simulated service read: File → Blob; the Blob service reads the file through a generated file SAS.
  {
    const [sh, dst] = [await share(), await container(p)];
    const body = randomBytes(15_000);
    await filePut(sh, "f.bin", body);
    await deploy("simulated Files: file-connection-string-to-blob", { source: fileAt(sh, "f.bin", { connectionString: fileConnectionString() }), destination: blobAt(p, dst, "f.bin", { accountKey: p.key }) },
      async () => assert.deepEqual(await blobGet(p, dst, "f.bin"), body), () => blobGone(p, dst, "f.bin"));
  }
  // Blob → S3, streamed through the provider (opt-in): a source SAS and S3 keys.
  {
    const [src, dst] = [await container(s), await bucket()];
    const body = randomBytes(50_000);
    await blobPut(s, src, "stream.bin", body);
    const sourceSas = sasCanary("streamed source blob SAS", "sas", blobSas(s, src, "stream.bin", "rt"));
    await deploy("blob-sas-streamed-to-s3", { source: blobAt(s, src, "stream.bin", { sasToken: sourceSas }), destination: s3At(dst, "stream.bin"), strategy: "stream" },
      async () => assert.deepEqual(await s3Get(dst, "stream.bin"), body), () => s3Gone(dst, "stream.bin"));
  }

  // Destroy runs with the stored credentials (outputs), as the engine's delete does.
  for (const { name, deployed, gone } of deployments) {
    assert.equal(await engine.destroy(deployed), true);
    assert.equal(await gone(), true, `${name}: destroy removed the copy`);
  }
  const kinds = new Set(given.map((c) => c.kind));
  for (const kind of ["s3-key", "account-key", "sas", "connection-string", "url-query"]) assert.ok(kinds.has(kind), `a ${kind} was given as an input`);
});

test("failures provoked with each credential kind (missing source, missing destination, wrong key, refused SAS, refused URL) carry their codes (simulated Files server, simulated service read)", async () => {
  const [p, s] = [primary(), secondary()];
  const expect = (error: HostCallError, code: string) => assert.equal(codeOf(error), code, error.message);

  // S3 keys and session token.
  const sb = await bucket();
  expect(await failing("s3-missing-source", { source: s3At(sb, "nope"), destination: s3At(sb, "out") }), "SourceNotFound");
  await s3Put(sb, "k", Buffer.from("x"));
  expect(await failing("s3-missing-destination-bucket", { source: s3At(sb, "k"), destination: s3At(`t-missing-${hex(4)}`, "out") }), "DestinationNotFound");
  // The presigned URL is made, then the destination's container is missing.
  expect(await failing("simulated service read: s3-presigned-missing-container", { source: s3At(sb, "k"), destination: blobAt(p, `missing${hex(4)}`, "out", { accountKey: p.key }) }), "DestinationNotFound");

  // Account keys: a wrong one, and a right one on a missing source.
  const [sc, pc] = [await container(s), await container(p)];
  await blobPut(s, sc, "k", Buffer.from("blob"));
  expect(await failing("blob-wrong-account-key", { source: blobAt(s, sc, "k", { accountKey: wrongBlobKey }), destination: blobAt(p, pc, "out", { accountKey: p.key }) }), "AccessDenied");
  expect(await failing("blob-missing-source", { source: blobAt(s, sc, "nope", { accountKey: s.key }), destination: blobAt(p, pc, "out", { accountKey: p.key }) }), "SourceNotFound");

  // A SAS signed for another blob: refused by the server.
  const otherSas = sasCanary("SAS for another blob", "sas", blobSas(s, sc, "other", "r"));
  expect(await failing("blob-sas-for-another-blob", { source: blobAt(s, sc, "k", { sasToken: otherSas }), destination: blobAt(p, pc, "out", { accountKey: p.key }) }), "AccessDenied");

  // A connection string with a wrong key on the destination, after the package signed the source's SAS.
  const badCs = canary("connection string with a wrong key", "connection-string", blobConnectionString(p, wrongConnectionKey));
  expect(await failing("blob-connection-string-wrong-key", { source: blobAt(s, sc, "k", { accountKey: s.key }), destination: blobAt(p, pc, "out", { connectionString: badCs }) }), "AccessDenied");

  // Simulated Files: a file SAS for a missing file, a wrong key in a connection string, a SAS on a missing share.
  const sh = await share();
  await filePut(sh, "k", Buffer.from("file"));
  const missingFileSas = sasCanary("file SAS for a missing file", "sas", fileSas(sh, "nope", "r"));
  expect(await failing("simulated Files: file-sas-missing-source", { source: fileAt(sh, "nope", { sasToken: missingFileSas }), destination: fileAt(sh, "out", { accountKey: fileAccount().key }) }), "SourceNotFound");
  const badFileCs = canary("files connection string with a wrong key", "connection-string", fileConnectionString(wrongFileKey));
  expect(await failing("simulated Files: file-connection-string-wrong-key", { source: fileAt(sh, "k", { accountKey: fileAccount().key }), destination: fileAt(sh, "out", { connectionString: badFileCs }) }), "AccessDenied");
  const noShare = `s${hex(5)}`;
  const missingShareSas = sasCanary("share SAS for a missing share", "sas", shareSas(noShare, "rcwd"));
  expect(await failing("simulated Files: share-sas-missing-destination", { source: fileAt(sh, "k", { accountKey: fileAccount().key }), destination: fileAt(noShare, "out", { sasToken: missingShareSas }) }), "DestinationNotFound");

  // After the copy started with a generated SAS: Azure reports it failed (simulated pending copy), or it outlives its timeout and is aborted.
  const failedCopy = await failing("simulated pending copy: blob-generated-sas-copy-failed", (() => {
    proxy.arm(`/${p.name}/${pc}/failed.bin`, { pendingPolls: 1, final: "failed", description: '500 InternalError "Copy failed."' });
    return { source: blobAt(s, sc, "k", { accountKey: s.key }), destination: blobAt(p, pc, "failed.bin", { accountKey: p.key }), strategy: "copy" as const };
  })());
  expect(failedCopy, "CopyFailed");
  assert.ok(failedCopy.partial?.properties.copyId, "the failed copy is a partial result with its copy id");
  files.script(`/${fileAccount().name}/${sh}/slow.bin`, { delayMs: 60_000 });
  const timedOut = await failing("simulated Files: file-generated-sas-timeout", { source: fileAt(sh, "k", { connectionString: fileConnectionString() }), destination: fileAt(sh, "slow.bin", { connectionString: fileConnectionString() }), timeoutSeconds: 1 });
  expect(timedOut, "CopyTimedOut");
  assert.ok(files.aborts.some((a) => a.path === `/${fileAccount().name}/${sh}/slow.bin` && a.status === 204), "the pending Copy File was aborted");

  // A URL with a signature: missing (404), and one the service's read is refused (403) after the copy started.
  expect(await failing("url-query-missing", { source: { url: `${webUrl}/missing/signed.bin?${urlQueryCanary}` }, destination: blobAt(p, pc, "out", { accountKey: p.key }) }), "SourceNotFound");
  const refused = await failing("simulated service read: url-query-refused", { source: { url: `${webUrl}/signed.bin?${urlQueryCanary}` }, destination: blobAt(p, pc, "out", { accountKey: p.key }) });
  expect(refused, "AccessDenied");
  assert.ok(refused.partial, "the refused copy had started: it is kept as a partial result, whose properties are scanned too");
});

test("check failures about credentials of each kind name the field and never echo the value", async () => {
  const misspelt = { accessKeyId: s3Credentials.accessKeyId, secretKey: canary("check: misspelt S3 secret", "s3-key", `misspelt/${hex(12)}`) };
  const blob = (credentials: Record<string, string>) => blobAt(primary(), "cccc", "k", credentials);
  const cases: Array<{ name: string; source: LocatorArg; destination: LocatorArg; properties: string[] }> = [
    {
      name: "S3 keys with a misspelt field",
      source: { s3: { ...s3At("b-bucket", "k", false).s3, credentials: misspelt } },
      destination: s3At("b-bucket", "k2", false),
      properties: ["source.s3.credentials.secretKey", "source.s3.credentials.secretAccessKey"],
    },
    {
      name: "an account key beside a SAS",
      source: blob({ accountKey: canary("check: account key beside a SAS", "account-key", randomBytes(32).toString("base64")), sasToken: canary("check: SAS beside an account key", "sas", `sv=2025-11-05&sr=b&sp=r&sig=${hex(16)}`) }),
      destination: blobAt(primary(), "dddd", "k"),
      properties: ["source.azureBlob.credentials"],
    },
    {
      name: "a file SAS without a signature",
      source: fileAt("ssss", "k", { sasToken: canary("check: SAS without a signature", "sas", `sv=2025-11-05&sp=r&nosig=${hex(16)}`) }),
      destination: fileAt("ssss", "k2"),
      properties: ["source.azureFile.credentials.sasToken"],
    },
    {
      name: "a source SAS without read",
      source: blob({ sasToken: canary("check: SAS without read", "sas", `sv=2025-11-05&sr=b&sp=w&sig=${hex(16)}`) }),
      destination: blobAt(primary(), "dddd", "k"),
      properties: ["source.azureBlob.credentials.sasToken"],
    },
    {
      name: "not a connection string",
      source: blob({ connectionString: canary("check: not a connection string", "connection-string", `Endpoint=nowhere;Secret=${hex(16)}`) }),
      destination: blobAt(primary(), "dddd", "k"),
      properties: ["source.azureBlob.credentials.connectionString"],
    },
  ];
  for (const { name, source, destination, properties } of cases) {
    const reg = await register(`check-${name.replace(/\W+/g, "-")}`, { source, destination });
    assertSecretRegistration(reg, { source, destination });
    const { failures: found } = await host.check(reg, {}, reg.inputs);
    assert.deepEqual(found.map((f) => f.property), properties, `${name}: the failures name the fields`);
    surfaces.checkFailures.push(JSON.stringify(found));
  }
});

test("no surface (serialized provider, inputs, outputs and ids, errors, check failures, provider logs) holds any given credential or any generated SAS or presigned signature, plain, URL-encoded or base64", async () => {
  // The signatures the package generated, read from the servers that received them.
  const serverSide: Array<{ origin: string; url: string }> = [
    ...proxy.requests.flatMap((r) => (r.headers["x-ms-copy-source"] ? [{ origin: "blob proxy x-ms-copy-source", url: String(r.headers["x-ms-copy-source"]) }] : [])),
    ...proxy.fetches.map((f) => ({ origin: "simulated service read", url: f.url })),
    ...files.requests.flatMap((r) => (r.headers["x-ms-copy-source"] ? [{ origin: "files x-ms-copy-source", url: String(r.headers["x-ms-copy-source"]) }] : [])),
  ];
  const givenValues = new Set(given.map((c) => c.value));
  const generated = uniqueCanaries(serverSide.flatMap(({ origin, url }) => signaturesIn(url, origin))).filter((c) => !givenValues.has(c.value));
  const generatedKinds = new Map<string, number>();
  for (const c of generated) generatedKinds.set(c.kind, (generatedKinds.get(c.kind) ?? 0) + 1);
  diagnostic(`generated signatures captured server side: ${[...generatedKinds].map(([k, n]) => `${k} ${n}`).join(", ")} (from ${serverSide.length} copy-source URLs)`);
  for (const kind of ["blob-sas", "file-sas", "s3-presigned"]) assert.ok((generatedKinds.get(kind) ?? 0) >= 1, `at least one ${kind} generated by the package was captured`);
  assert.ok(generated.some((c) => c.label.includes("X-Amz-Signature")), "a presigned X-Amz-Signature was captured");
  assert.ok(generated.some((c) => c.label.includes("X-Amz-Credential")), "a presigned X-Amz-Credential was captured");

  const canaries = uniqueCanaries([...given, ...generated]);
  for (const c of canaries) assert.ok(c.value.length >= MIN_CANARY_LENGTH, `${c.label} is long enough to be distinctive`);

  // Control: the scanner finds every generated signature where it really went (the servers' logs), so its forms match the wire.
  const serverText = JSON.stringify(serverSide);
  const missed = generated.filter((c) => scan("server logs", serverText, [c]).length === 0).map((c) => c.label);
  assert.deepEqual(missed, [], "the scanner finds each generated signature in the server-side logs");
  const encodedSeen = scan("server logs", serverText, generated).some((h) => h.encoding === "url-encoded");
  assert.ok(encodedSeen, "some signature reached the servers URL-encoded, a form the scanner checks");
  const token = given.find((c) => c.label === "s3.sessionToken")!;
  assert.ok(scan("server logs", serverText, [token]).some((h) => h.encoding === "url-encoded"), "the given session token went into a presigned URL, URL-encoded, and the scanner finds it there");

  // The surfaces, each scanned for every canary in every form.
  const texts: Record<string, string> = {
    "serialized provider (__provider)": surfaces.provider.join("\n"),
    "registered and checked inputs (outside the two secret fields)": surfaces.inputs.join("\n"),
    "outputs and ids (create, refresh, partial)": surfaces.outputs.join("\n"),
    "error messages": surfaces.errors.join("\n"),
    "check failures": surfaces.checkFailures.join("\n"),
    "provider process output": host.output(),
  };
  const hits: Hit[] = [];
  for (const [surface, text] of Object.entries(texts)) {
    assert.ok(text.length > 0, `${surface}: something was captured to scan`);
    const found = scan(surface, text, canaries);
    hits.push(...found);
    diagnostic(`${surface}: ${Buffer.byteLength(text)} bytes scanned for ${canaries.length} canaries → ${found.reduce((n, h) => n + h.count, 0)} occurrences`);
  }
  diagnostic(`canaries: ${given.length} given (${[...new Set(given.map((c) => c.kind))].join(", ")}), ${generated.length} generated; ${deployments.length} copies, ${failures.length} failures`);
  assert.ok(surfaces.provider.length >= deployments.length + failures.length, "every registration's provider was scanned");
  assert.ok(surfaces.errors.length >= failures.length, "every failure's message was scanned");
  assert.deepEqual(hits.map((h) => `${h.surface}: ${h.label} (${h.encoding}) ×${h.count}`), [], "plaintext credentials or signatures on a readable surface");
  // Not vacuous: the provider printed its logs of the copies and deletes.
  assert.match(host.output(), /copying .* to /);
  assert.match(host.output(), /deleted /);
});
