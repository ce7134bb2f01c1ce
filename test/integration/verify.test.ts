// Every `verify` check can fail. SIMULATION: no honest server returns a wrong copy on demand, so a proxy in
// front of the real servers (moto, Azurite, the Files test server) tampers with the destination's answers
// after the copy (a wrong size, ETag, Content-MD5 or block list), as a corrupt copy would look. Each check
// must then fail the copy with CopyFailed; with verify: false the same copy succeeds.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { ShareServiceClient, StorageSharedKeyCredential } from "@azure/storage-file-share";
import { startCountingProxy, type Answer, type CountingProxy } from "../support/countingProxy.ts";
import { startAzureFilesServer, type AzureFilesServer } from "../support/azureFilesServer.ts";
import { startAzureRig, type AzureRig } from "../support/azureRig.ts";
import { HostCallError } from "../support/providerHost.ts";
import { codeOf, startS3Rig, type S3Rig } from "../support/s3rig.ts";

const MiB = 1024 * 1024;
let s3: S3Rig;
let azure: AzureRig;
let files: AzureFilesServer;
let web: http.Server;
let webUrl: string;
const proxies: Record<"s3" | "blob" | "file", CountingProxy> = {} as never;
let tamper: ((req: http.IncomingMessage, answer: Answer) => Answer | undefined) | undefined;

before(async () => {
  s3 = await startS3Rig();
  azure = await startAzureRig();
  files = await startAzureFilesServer({ copyDelayMs: 0 });
  const options = { tamper: (req: http.IncomingMessage, answer: Answer) => tamper?.(req, answer) };
  proxies.s3 = await startCountingProxy(s3.server.endpoint, options);
  proxies.blob = await startCountingProxy(azure.azurite.endpoint, { ...options, errorStyle: "azure" });
  proxies.file = await startCountingProxy(files.endpoint, { ...options, errorStyle: "azure" });
  web = http.createServer((req, res) => {
    const body = Buffer.alloc(4096, 7);
    res.writeHead(200, { "content-length": body.length, "content-type": "application/octet-stream" });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
});
after(async () => {
  for (const p of Object.values(proxies)) await p?.close();
  web?.closeAllConnections();
  await new Promise((resolve) => web?.close(resolve));
  await s3?.stop();
  await azure?.stop();
  await files?.close();
});

const path = (req: http.IncomingMessage) => decodeURIComponent(new URL(req.url ?? "/", "http://proxy").pathname);
const query = (req: http.IncomingMessage) => new URL(req.url ?? "/", "http://proxy").searchParams;
/** A successful read of `object`'s properties (HEAD, or a GET without comp). */
const readOf = (req: http.IncomingMessage, object: string, answer: Answer) =>
  (req.method === "HEAD" || (req.method === "GET" && !query(req).has("comp"))) && path(req).endsWith(object) && answer.status === 200;
const withHeader = (answer: Answer, name: string, value: string): Answer => ({ ...answer, headers: { ...answer.headers, [name]: value } });

async function failed(promise: Promise<unknown>): Promise<HostCallError> {
  const outcome = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(outcome instanceof HostCallError, `expected a failed copy, got ${String(outcome)}`);
  return outcome;
}

test("simulated: S3 size and ETag checks fail a copy whose destination is not the source; verify: false lets the same copy succeed", async () => {
  const [src, dst] = [await s3.bucket(), await s3.bucket()];
  await s3.put(src, "seed", randomBytes(10_000));
  const at = (bucket: string, key: string) => s3.at(bucket, key, { endpoint: proxies.s3.endpoint });
  const cases: Array<[string, (a: Answer) => Answer, RegExp]> = [
    ["size", (a) => withHeader(a, "content-length", "9999"), /verify: s3:\/\/\S+\/size is 9999 bytes but s3:\/\/\S+ is 10000/],
    ["etag", (a) => withHeader(a, "etag", '"00000000000000000000000000000000"'), /verify: s3:\/\/\S+\/etag has ETag 0{32} but/],
  ];
  for (const [name, change, message] of cases) {
    tamper = (req, answer) => (req.method === "HEAD" && path(req) === `/${dst}/${name}` ? change(answer) : undefined);
    try {
      const failure = await failed(s3.engine.up(await s3.register({ source: at(src, "seed"), destination: at(dst, name) }, undefined, name)));
      assert.equal(codeOf(failure), "CopyFailed", name);
      assert.match(failure.message, message);
      assert.equal(failure.partial?.properties.copyStatus, "failed", `${name}: the written copy is kept in partial state`);
      const passed = await s3.engine.up(await s3.register({ source: at(src, "seed"), destination: at(dst, `${name}-unverified`), verify: false }, undefined, `${name}-unverified`));
      assert.equal(passed.deployed.outputs.copyStatus, "success", `${name}: verify: false skips the check`);
    } finally {
      tamper = undefined;
    }
  }
});

test("simulated: a streamed copy's size check fails when the destination is not what passed through", async () => {
  const b = await s3.bucket();
  tamper = (req, answer) => (req.method === "HEAD" && path(req) === `/${b}/page.bin` ? withHeader(answer, "content-length", "1") : undefined);
  try {
    const failure = await failed(s3.engine.up(await s3.register({ source: { url: `${webUrl}/page` }, destination: s3.at(b, "page.bin", { endpoint: proxies.s3.endpoint }), strategy: "stream" })));
    assert.equal(codeOf(failure), "CopyFailed");
    assert.match(failure.message, /verify: s3:\/\/\S+ is 1 bytes, but 4096 were read from/);
  } finally {
    tamper = undefined;
  }
});

test("simulated: Azure Blob size and Content-MD5 checks fail on copy and sync; a blocks copy is checked by its committed block list", async () => {
  const p = azure.azurite.accounts.primary;
  const [src, dst] = [await azure.container(p), await azure.container(p)];
  await azure.put(p, src, "seed", randomBytes(3 * MiB));
  const at = (container: string, blob: string) => azure.at(p, container, blob, {}, proxies.blob.endpoint);
  const cases: Array<[string, "copy" | "sync" | "blocks", (req: http.IncomingMessage, a: Answer) => Answer | undefined, RegExp]> = [
    ["copy-size", "copy", (req, a) => (readOf(req, "/copy-size", a) ? withHeader(a, "content-length", "5") : undefined), /verify: .*copy-size is 5 bytes but/],
    ["copy-md5", "copy", (req, a) => (readOf(req, "/copy-md5", a) ? withHeader(a, "content-md5", "AAAAAAAAAAAAAAAAAAAAAA==") : undefined), /has Content-MD5 AAAAAAAAAAAAAAAAAAAAAA== but/],
    ["sync-md5", "sync", (req, a) => (readOf(req, "/sync-md5", a) ? withHeader(a, "content-md5", "AAAAAAAAAAAAAAAAAAAAAA==") : undefined), /has Content-MD5 AAAAAAAAAAAAAAAAAAAAAA== but/],
    [
      "blocks-list",
      "blocks",
      (req, a) =>
        req.method === "GET" && query(req).get("comp") === "blocklist" && path(req).endsWith("/blocks-list")
          ? { ...a, body: Buffer.from(a.body.toString().replace(/<Block>(?:(?!<Block>).)*<\/Block><\/CommittedBlocks>/s, "</CommittedBlocks>")) }
          : undefined,
      /verify: .*blocks-list holds 2 committed blocks \(2097152 bytes\), not the 3 blocks \(3145728 bytes\) staged/,
    ],
  ];
  for (const [name, strategy, change, message] of cases) {
    tamper = change;
    try {
      const failure = await failed(azure.engine.up(await azure.register({ source: at(src, "seed"), destination: at(dst, name), strategy, partSizeBytes: 1 * MiB }, undefined, name)));
      assert.equal(codeOf(failure), "CopyFailed", `${name}: ${failure.message}`);
      assert.match(failure.message, message, name);
      const passed = await azure.engine.up(await azure.register({ source: at(src, "seed"), destination: at(dst, `${name}-unverified`), strategy, partSizeBytes: 1 * MiB, verify: false }, undefined, `${name}-u`));
      assert.equal(passed.deployed.outputs.copyStatus, "success", name);
    } finally {
      tamper = undefined;
    }
  }
});

test("simulated: the Azure Files size check fails a copy whose file is not the source's size", async () => {
  const [account] = files.accounts;
  const share = new ShareServiceClient(account.url, new StorageSharedKeyCredential(account.name, account.key)).getShareClient(`s${randomBytes(5).toString("hex")}`);
  await share.create();
  await share.rootDirectoryClient.getFileClient("seed.bak").uploadData(randomBytes(5000));
  tamper = (req, answer) => (readOf(req, "/out.bak", answer) && answer.headers["x-ms-copy-status"] === "success" ? withHeader(answer, "content-length", "4") : undefined);
  try {
    const failure = await failed(azure.engine.up(await azure.register({
      source: { azureFile: { accountUrl: account.url, share: share.name, path: "seed.bak" } },
      destination: { azureFile: { accountUrl: `${proxies.file.endpoint}/${account.name}`, share: share.name, path: "out.bak" } },
    })));
    assert.equal(codeOf(failure), "CopyFailed");
    assert.match(failure.message, /verify: azurefile:\/\/\S+out\.bak is 4 bytes but/);
  } finally {
    tamper = undefined;
  }
});
