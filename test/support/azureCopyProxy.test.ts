/**
 * The Azurite starter, and the scripted copy proxy (a SIMULATION of pending/failed/aborted copies,
 * and of the service reading URL sources Azurite cannot reach), exercised with the real
 * @azure/storage-blob SDK.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "./testing.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { BlobSASPermissions, type BlobBeginCopyFromURLOptions, type BlobBeginCopyFromUrlPollState, type BlobClient, type BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { startAzureCopyProxy, type AzureCopyProxy } from "./azureCopyProxy.ts";
import { blobService, startAzurite, type Azurite } from "./azurite.ts";
import { groupAlive } from "./processGroups.ts";
import { freePort, s3Client, startS3Server, type S3Server } from "./s3server.ts";

/**
 * Copy Blob through the SDK's poller (startCopyFromURL is private): its first poll sends Copy
 * Blob, and it completes at once only when the answer says `success`.
 */
async function startCopy(client: BlobClient, source: string, options: BlobBeginCopyFromURLOptions = {}) {
  const poller = await client.beginCopyFromURL(source, options);
  const state = poller.getOperationState() as BlobBeginCopyFromUrlPollState;
  return { copyId: state.copyId, copyStatus: state.isCompleted ? state.result?.copyStatus : "pending" };
}
const MiB = 1024 * 1024;
const readSas = () => ({ permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(Date.now() + 3600_000) });

const PAGE = "<p>served by a plain web server</p>\n".repeat(20);
interface WebServer { url(path: string): string; hits: string[]; close(): Promise<void> }

/** A plain web server: a copy source Azurite cannot read. */
async function startWebServer(): Promise<WebServer> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    if (req.url === "/page.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-language": "en", "cache-control": "max-age=60", "content-length": Buffer.byteLength(PAGE) });
      return void res.end(PAGE);
    }
    if (req.url === "/moved") return void res.writeHead(302, { location: "/page.html", "content-length": 0 }).end();
    if (req.url === "/forbidden") {
      const body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
      return void res.writeHead(403, { "content-type": "application/xml" }).end(body);
    }
    if (req.url === "/broken") {
      // Promises 1000 bytes, sends 10, hangs up.
      res.writeHead(200, { "content-type": "text/plain", "content-length": 1000 });
      res.write("x".repeat(10));
      return void setTimeout(() => res.destroy(), 20);
    }
    res.writeHead(404, { "content-length": 0 }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    hits,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe("startAzurite", () => {
  test("two accounts; a cross-account copy with a source SAS works, without one it is refused; stop leaves no process", async () => {
    const azurite = await startAzurite();
    try {
      const { primary, secondary } = azurite.accounts;
      assert.equal(primary.name, "devstoreaccount1");
      assert.equal(primary.url, `${azurite.endpoint}/devstoreaccount1`);
      assert.match(azurite.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
      const source = await blobService(secondary).createContainer("source");
      const dest = await blobService(primary).createContainer("dest");
      const blob = source.containerClient.getBlockBlobClient("a.txt");
      await blob.upload("cross-account", 13);
      const copy = await dest.containerClient.getBlobClient("b.txt").syncCopyFromURL(await blob.generateSasUrl(readSas()));
      assert.equal(copy.copyStatus, "success");
      const started = await startCopy(dest.containerClient.getBlobClient("c.txt"), await blob.generateSasUrl(readSas()));
      assert.equal(started.copyStatus, "success");
      assert.equal((await dest.containerClient.getBlobClient("c.txt").downloadToBuffer()).toString(), "cross-account");
      await assert.rejects(startCopy(dest.containerClient.getBlobClient("d.txt"), blob.url), { statusCode: 403 });
    } finally {
      await azurite.stop();
    }
    assert.equal(groupAlive(azurite.pid), false);
  });
});

describe("azureCopyProxy (simulation of Azure's asynchronous copy)", () => {
  let azurite: Azurite;
  let proxy: AzureCopyProxy;
  let container: ContainerClient; // addressed through the proxy
  let n = 0;
  const BODY = "x".repeat(1000);

  before(async () => {
    azurite = await startAzurite();
    proxy = await startAzureCopyProxy(azurite.endpoint);
    container = blobService(azurite.accounts.primary, proxy.endpoint).getContainerClient("copies");
    await container.create();
    await container.getBlockBlobClient("src").upload(BODY, BODY.length, { metadata: { origin: "src" } });
  });
  after(async () => {
    await proxy?.close();
    await azurite?.stop();
  });

  /** A fresh destination, armed with `script` when given. */
  function destination(script?: Parameters<AzureCopyProxy["arm"]>[1]) {
    const name = `dst${++n}`;
    if (script) proxy.arm(`/devstoreaccount1/copies/${name}`, script);
    return { client: container.getBlobClient(name), path: `/devstoreaccount1/copies/${name}` };
  }
  const source = () => container.getBlobClient("src").url;

  test("pending for N polls with growing progress and no completion time, then success with the bytes", async () => {
    const { client } = destination({ pendingPolls: 3, final: "success" });
    const started = await startCopy(client, source(), { metadata: { kept: "yes" } });
    assert.equal(started.copyStatus, "pending");
    assert.match(started.copyId ?? "", /^[0-9a-f-]{36}$/);
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const props = await client.getProperties();
      assert.equal(props.copyStatus, "pending");
      assert.equal(props.copyId, started.copyId);
      assert.equal(props.copyCompletedOn, undefined);
      seen.push(props.copyProgress ?? "");
    }
    assert.deepEqual(seen, ["250/1000", "500/1000", "750/1000"]);
    const done = await client.getProperties();
    assert.equal(done.copyStatus, "success");
    assert.equal(done.copyProgress, "1000/1000");
    assert.equal(done.copyId, started.copyId);
    assert.ok(done.copyCompletedOn instanceof Date);
    assert.equal(done.copySource, source());
    assert.deepEqual(done.metadata, { kept: "yes" });
    assert.equal((await client.downloadToBuffer()).toString(), BODY);
  });

  test("the SDK's poller follows pending to success; totalBytes scripts the progress total", async () => {
    const { client, path } = destination({ pendingPolls: 2, final: "success", totalBytes: 300 });
    const progress: Array<string | undefined> = [];
    const poller = await client.beginCopyFromURL(source(), { intervalInMs: 10, onProgress: (state) => void progress.push(state.copyProgress) });
    const result = await poller.pollUntilDone();
    assert.equal(result.copyStatus, "success");
    assert.deepEqual(progress, ["100/300", "200/300"]);
    const polls = proxy.requests.filter((r) => r.path === path && (r.method === "HEAD" || r.method === "GET"));
    assert.equal(polls.length, 3);
  });

  test("failed after N polls, with a description and a zero-length blob; the poller rejects", async () => {
    const { client } = destination({ pendingPolls: 1, final: "failed", description: '500 InternalError "Source went away."' });
    const poller = await client.beginCopyFromURL(source(), { intervalInMs: 10 });
    await assert.rejects(poller.pollUntilDone(), /Source went away/);
    const props = await client.getProperties();
    assert.equal(props.copyStatus, "failed");
    assert.equal(props.copyStatusDescription, '500 InternalError "Source went away."');
    assert.equal(props.contentLength, 0);
    assert.ok(props.copyCompletedOn instanceof Date);
  });

  test("aborted by someone else: aborted, zero length, metadata kept", async () => {
    const { client } = destination({ pendingPolls: 2, final: "aborted" });
    await startCopy(client, source(), { metadata: { kept: "yes" } });
    assert.equal((await client.getProperties()).copyStatus, "pending");
    assert.equal((await client.getProperties()).copyStatus, "pending");
    const props = await client.getProperties();
    assert.equal(props.copyStatus, "aborted");
    assert.equal(props.contentLength, 0);
    assert.ok(props.copyStatusDescription);
    assert.deepEqual(props.metadata, { kept: "yes" });
    const download = await client.download();
    assert.equal(download.contentLength, 0);
  });

  test("Abort Copy Blob while pending: 204 with the right id, then aborted with length 0", async () => {
    const { client, path } = destination({ pendingPolls: 10, final: "success" });
    const { copyId } = await startCopy(client, source());
    const first = await client.getProperties();
    assert.equal(first.copyProgress, "90/1000");
    const aborted = await client.abortCopyFromURL(copyId!);
    assert.equal(aborted._response.status, 204);
    assert.deepEqual(proxy.aborts.at(-1), { path, copyId, status: 204 });
    const request = proxy.requests.findLast((r) => r.path === path && r.method === "PUT");
    assert.equal(request?.query.comp, "copy");
    assert.equal(request?.query.copyid, copyId);
    assert.equal(request?.headers["x-ms-copy-action"], "abort");
    const props = await client.getProperties();
    assert.equal(props.copyStatus, "aborted");
    assert.equal(props.contentLength, 0);
    assert.equal(props.copyProgress, "90/1000");
    assert.equal(props.copyId, copyId);
    // A second abort finds nothing pending.
    await assert.rejects(client.abortCopyFromURL(copyId!), { statusCode: 409, code: "NoPendingCopyOperation" });
  });

  test("Abort with the wrong copy id: 409 CopyIdMismatch, and the copy stays pending", async () => {
    const { client, path } = destination({ pendingPolls: 3, final: "success" });
    await startCopy(client, source());
    await assert.rejects(client.abortCopyFromURL("00000000-0000-0000-0000-000000000000"), { statusCode: 409, code: "CopyIdMismatch" });
    assert.deepEqual(proxy.aborts.at(-1), { path, copyId: "00000000-0000-0000-0000-000000000000", status: 409 });
    assert.equal((await client.getProperties()).copyStatus, "pending");
  });

  test("a second Copy Blob onto a pending destination: 409 PendingCopyOperation", async () => {
    const { client } = destination({ pendingPolls: 3, final: "success" });
    await startCopy(client, source());
    await assert.rejects(startCopy(client, source()), { statusCode: 409, code: "PendingCopyOperation" });
  });

  test("unarmed copies pass through as Azurite answers them; Abort after success is 409 NoPendingCopyOperation", async () => {
    const { client } = destination();
    const started = await startCopy(client, source());
    assert.equal(started.copyStatus, "success");
    const props = await client.getProperties();
    assert.equal(props.copyStatus, "success");
    assert.equal(props.copyProgress, "1000/1000");
    await assert.rejects(client.abortCopyFromURL(started.copyId!), { statusCode: 409, code: "NoPendingCopyOperation" });
    assert.equal((await client.downloadToBuffer()).toString(), BODY);
  });

  test("auth stays real: a wrong key is refused through the proxy, even for an abort", async () => {
    const { client } = destination({ pendingPolls: 3, final: "success" });
    const { copyId } = await startCopy(client, source());
    const wrong = { ...azurite.accounts.primary, key: Buffer.alloc(64, 1).toString("base64") };
    const intruder = blobService(wrong, proxy.endpoint).getContainerClient("copies").getBlobClient(client.name);
    await assert.rejects(intruder.abortCopyFromURL(copyId!), { statusCode: 403 });
    assert.equal((await client.getProperties()).copyStatus, "pending");
  });

  test("a cross-account copy with a source SAS works through the proxy (source and destination on its host)", async () => {
    const other: BlobServiceClient = blobService(azurite.accounts.secondary, proxy.endpoint);
    const src = other.getContainerClient("elsewhere");
    await src.create();
    await src.getBlockBlobClient("s").upload("far", 3);
    const { client } = destination({ pendingPolls: 1, final: "success" });
    const started = await startCopy(client, await src.getBlobClient("s").generateSasUrl(readSas()));
    assert.equal(started.copyStatus, "pending");
    assert.equal((await client.getProperties()).copyProgress, "1/3");
    assert.equal((await client.getProperties()).copyStatus, "success");
    assert.equal((await client.downloadToBuffer()).toString(), "far");
  });

  test("without `accounts`, a web-server source goes to Azurite, which never reads it: 404, and the proxy reads nothing", async () => {
    const web = await startWebServer();
    try {
      const { client } = destination();
      await assert.rejects(startCopy(client, web.url("/page.html")), { statusCode: 404 });
      assert.deepEqual(proxy.fetches, []);
      assert.deepEqual(web.hits, []);
    } finally {
      await web.close();
    }
  });

  test("setDelay holds chosen requests back until removed", async () => {
    const { client } = destination();
    await startCopy(client, source());
    const remove = proxy.setDelay((r) => r.method === "HEAD" && r.path.endsWith(`/${client.name}`), 300);
    let start = Date.now();
    await client.getProperties();
    assert.ok(Date.now() - start >= 290);
    remove();
    start = Date.now();
    await client.getProperties();
    assert.ok(Date.now() - start < 290);
  });

  test("timed: pending at 0 bytes while queued, then progress in whole steps growing with time, then success at the scripted instant", async () => {
    const step = 8 * MiB;
    const { client, path } = destination({ durationMs: 2000, queuedMs: 500, totalBytes: 150 * MiB, stepBytes: step, final: "success" });
    const started = await startCopy(client, source());
    assert.equal(started.copyStatus, "pending");
    const startedAt = proxy.peek(path)!.startedAt;
    const queued = await client.getProperties();
    assert.equal(queued.copyStatus, "pending");
    assert.equal(queued.copyProgress, `0/${150 * MiB}`);
    await sleep(startedAt + 1250 - performance.now());
    const middle = await client.getProperties();
    const bytes = Number(middle.copyProgress?.split("/")[0]);
    const elapsed = performance.now() - startedAt;
    assert.equal(middle.copyStatus, "pending");
    assert.equal(middle.copyCompletedOn, undefined);
    assert.equal(bytes % step, 0, "whole steps");
    // Linear after the queue: at least what had been copied 1250 ms in, less one step; no more than now.
    assert.ok(bytes >= ((1250 - 500) / 1500) * 150 * MiB - step && bytes <= ((elapsed - 500) / 1500) * 150 * MiB, `${bytes} bytes at ${elapsed.toFixed(0)} ms`);
    // It ends at its instant without being read: no read between the last one and the peek.
    await sleep(startedAt + 2100 - performance.now());
    const view = proxy.peek(path)!;
    assert.equal(view.status, "success");
    assert.equal(view.completedAt, startedAt + 2000);
    assert.equal(view.polls, 2);
    assert.equal(view.readsAt.length, 2);
    const done = await client.getProperties();
    assert.equal(done.copyStatus, "success");
    assert.equal(done.copyProgress, `${150 * MiB}/${150 * MiB}`);
    // The completion time is the scripted instant's, to the second (the header's precision).
    const expected = Date.now() - (performance.now() - view.completedAt!);
    assert.ok(Math.abs(done.copyCompletedOn!.getTime() - expected) <= 1000, `${done.copyCompletedOn?.toISOString()} vs ${new Date(expected).toISOString()}`);
    assert.equal(proxy.peek(path)!.readsAt.length, 3, "reads after the end are counted too");
    assert.equal((await client.downloadToBuffer()).toString(), BODY);
  });

  test("timed: a copy that ends failed while nobody reads it; Abort after its instant is 409 NoPendingCopyOperation", async () => {
    const { client, path } = destination({ durationMs: 400, final: "failed", description: "simulated failure" });
    const { copyId } = await startCopy(client, source());
    await sleep(500);
    await assert.rejects(client.abortCopyFromURL(copyId!), { statusCode: 409, code: "NoPendingCopyOperation" });
    const props = await client.getProperties();
    assert.equal(props.copyStatus, "failed");
    assert.equal(props.copyStatusDescription, "simulated failure");
    assert.equal(props.contentLength, 0);
    assert.equal(proxy.peek(path)!.completedAt, proxy.peek(path)!.startedAt + 400);
    assert.throws(() => proxy.arm(path, { durationMs: 100, queuedMs: 100, final: "success" }), /queuedMs/);
  });
});

describe("azureCopyProxy with accounts (simulation of the service reading a URL source)", () => {
  let azurite: Azurite;
  let proxy: AzureCopyProxy;
  let web: WebServer;
  let container: ContainerClient; // addressed through the proxy
  let n = 0;
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  before(async () => {
    azurite = await startAzurite();
    const { primary, secondary } = azurite.accounts;
    proxy = await startAzureCopyProxy(azurite.endpoint, { accounts: [primary, secondary] });
    web = await startWebServer();
    container = blobService(primary, proxy.endpoint).getContainerClient("fromurl");
    await container.create();
  });
  after(async () => {
    await web?.close();
    await proxy?.close();
    await azurite?.stop();
  });

  function destination(script?: Parameters<AzureCopyProxy["arm"]>[1]) {
    const name = `dst${++n}`;
    if (script) proxy.arm(`/devstoreaccount1/fromurl/${name}`, script);
    return container.getBlobClient(name);
  }
  /** What `act` made the web server and the proxy's "service" read. */
  async function reads(act: () => Promise<unknown>) {
    const [hits, fetches] = [web.hits.length, proxy.fetches.length];
    await act();
    return { hits: web.hits.slice(hits), fetches: proxy.fetches.slice(fetches) };
  }
  const size = Buffer.byteLength(PAGE);

  test("Copy Blob from a web server: the proxy reads it as the service; bytes, content headers, metadata, tags and tier arrive", async () => {
    const client = destination();
    const url = web.url("/page.html");
    let result: Awaited<ReturnType<Awaited<ReturnType<BlobClient["beginCopyFromURL"]>>["pollUntilDone"]>> | undefined;
    const seen = await reads(async () => {
      const poller = await client.beginCopyFromURL(url, { metadata: { kept: "yes" }, tags: { team: "storage" }, tier: "Cool", intervalInMs: 10 });
      result = await poller.pollUntilDone();
    });
    assert.equal(result?.copyStatus, "success");
    assert.match(result?.copyId ?? "", UUID);
    assert.deepEqual(seen, { hits: ["GET /page.html"], fetches: [{ url, status: 200 }] });
    const props = await client.getProperties();
    assert.equal(props.contentType, "text/html; charset=utf-8");
    assert.equal(props.contentLanguage, "en");
    assert.equal(props.cacheControl, "max-age=60");
    assert.equal(props.contentLength, size);
    assert.deepEqual(props.metadata, { kept: "yes" });
    assert.equal(props.accessTier, "Cool");
    assert.equal(props.copyStatus, "success");
    assert.equal(props.copyId, result?.copyId);
    assert.equal(props.copySource, url);
    assert.equal(props.copyProgress, `${size}/${size}`);
    assert.ok(props.copyCompletedOn instanceof Date);
    assert.deepEqual((await client.getTags()).tags, { team: "storage" });
    assert.equal((await client.downloadToBuffer()).toString(), PAGE);
  });

  test("a 302 is not followed: Copy Blob is refused at once, 400 CannotVerifyCopySource, and nothing is written", async () => {
    const client = destination();
    const url = web.url("/moved");
    const seen = await reads(() =>
      assert.rejects(client.beginCopyFromURL(url), (error: { statusCode?: number; code?: string; message: string }) => {
        assert.equal(error.statusCode, 400);
        assert.equal(error.code, "CannotVerifyCopySource");
        assert.match(error.message, /A redirected response \(HTTP status code 302\) from the copy source is not supported/);
        return true;
      }),
    );
    assert.deepEqual(seen, { hits: ["GET /moved"], fetches: [{ url, status: 302 }] });
    assert.equal(await client.exists(), false);
  });

  test("a 404 or 403 from the source: refused at once with its status and CannotVerifyCopySource, the source's status in the details", async () => {
    const client = destination();
    const missing = web.url("/missing");
    const seen = await reads(() => assert.rejects(client.beginCopyFromURL(missing), { statusCode: 404, code: "CannotVerifyCopySource", message: /^Not Found/ }));
    assert.deepEqual(seen.fetches, [{ url: missing, status: 404 }]);
    const forbidden = web.url("/forbidden");
    await assert.rejects(client.syncCopyFromURL(forbidden), (error: { statusCode?: number; code?: string; details?: Record<string, unknown>; response?: { headers: { get(name: string): string | undefined } } }) => {
      assert.equal(error.statusCode, 403);
      assert.equal(error.code, "CannotVerifyCopySource");
      assert.equal(error.response?.headers.get("x-ms-copy-source-status-code"), "403");
      assert.equal(error.response?.headers.get("x-ms-copy-source-error-code"), "AccessDenied");
      // The SDK's own error model reads these (StorageError, Blob_copyFromURLExceptionHeaders).
      assert.equal(error.details?.copySourceStatusCode, 403);
      assert.equal(error.details?.copySourceErrorCode, "AccessDenied");
      assert.equal(error.details?.copySourceErrorMessage, "Forbidden");
      return true;
    });
    assert.equal(await client.exists(), false);
  });

  test("an unreachable source: 409 CannotVerifyCopySource, logged with status 0", async () => {
    const url = `http://127.0.0.1:${await freePort()}/gone`;
    await assert.rejects(destination().beginCopyFromURL(url), { statusCode: 409, code: "CannotVerifyCopySource" });
    assert.deepEqual(proxy.fetches.at(-1), { url, status: 0 });
  });

  test("Copy Blob From URL (sync) from the web server: success at once, the copy recorded on the blob; a wrong source MD5 is refused", async () => {
    const client = destination();
    const url = web.url("/page.html");
    const done = await client.syncCopyFromURL(url, { metadata: { how: "sync" } });
    assert.equal(done.copyStatus, "success");
    assert.match(done.copyId ?? "", UUID);
    assert.deepEqual(proxy.fetches.at(-1), { url, status: 200 });
    const props = await client.getProperties();
    assert.equal(props.copyId, done.copyId);
    assert.equal(props.copyStatus, "success");
    assert.equal(props.copySource, url);
    assert.equal(props.contentType, "text/html; charset=utf-8");
    assert.deepEqual(props.metadata, { how: "sync" });
    assert.equal((await client.downloadToBuffer()).toString(), PAGE);

    const md5 = createHash("md5").update(PAGE).digest();
    const checked = await destination().syncCopyFromURL(url, { sourceContentMD5: md5 });
    assert.equal(checked.copyStatus, "success");
    const wrong = destination();
    await assert.rejects(wrong.syncCopyFromURL(url, { sourceContentMD5: Buffer.alloc(16) }), { statusCode: 400, code: "Md5Mismatch" });
    await assert.rejects(wrong.syncCopyFromURL(web.url("/moved")), { statusCode: 400, code: "CannotVerifyCopySource" });
    assert.equal(await wrong.exists(), false);
  });

  test("armed: pending with this copy's id and the URL as source, then success; Abort while pending works as for any copy", async () => {
    const client = destination({ pendingPolls: 2, final: "success" });
    const url = web.url("/page.html");
    const started = await startCopy(client, url);
    assert.equal(started.copyStatus, "pending");
    assert.match(started.copyId ?? "", UUID);
    for (const progress of [Math.floor(size / 3), Math.floor((2 * size) / 3)]) {
      const props = await client.getProperties();
      assert.equal(props.copyStatus, "pending");
      assert.equal(props.copyId, started.copyId);
      assert.equal(props.copySource, url);
      assert.equal(props.copyProgress, `${progress}/${size}`);
      assert.equal(props.copyCompletedOn, undefined);
    }
    const done = await client.getProperties();
    assert.equal(done.copyStatus, "success");
    assert.equal(done.copyProgress, `${size}/${size}`);
    assert.equal((await client.downloadToBuffer()).toString(), PAGE);

    const aborted = destination({ pendingPolls: 5, final: "success" });
    const { copyId } = await startCopy(aborted, url, { metadata: { kept: "yes" } });
    await assert.rejects(aborted.abortCopyFromURL("00000000-0000-0000-0000-000000000000"), { statusCode: 409, code: "CopyIdMismatch" });
    assert.equal((await aborted.abortCopyFromURL(copyId!))._response.status, 204);
    const props = await aborted.getProperties();
    assert.equal(props.copyStatus, "aborted");
    assert.equal(props.contentLength, 0);
    assert.deepEqual(props.metadata, { kept: "yes" });
  });

  test("a source that breaks off mid-body after the copy was accepted: pending, then failed with a description and length 0", async () => {
    const client = destination();
    const started = await startCopy(client, web.url("/broken"), { metadata: { kept: "yes" } });
    assert.equal(started.copyStatus, "pending");
    const props = await client.getProperties();
    assert.equal(props.copyStatus, "failed");
    assert.match(props.copyStatusDescription ?? "", /HTTP 200\) broke off after 10 of 1000 bytes/);
    assert.equal(props.contentLength, 0);
    assert.deepEqual(props.metadata, { kept: "yes" });
    const poller = await destination().beginCopyFromURL(web.url("/broken"), { intervalInMs: 10 });
    await assert.rejects(poller.pollUntilDone(), /broke off/);
    await assert.rejects(destination().syncCopyFromURL(web.url("/broken")), { statusCode: 409, code: "CannotVerifyCopySource" });
  });

  test("auth and the destination stay Azurite's: a wrong key is refused before the source is read; a failed destination condition writes nothing", async () => {
    const wrong = { ...azurite.accounts.primary, key: Buffer.alloc(64, 1).toString("base64") };
    const intruder = blobService(wrong, proxy.endpoint).getContainerClient("fromurl").getBlobClient("intruded");
    const seen = await reads(() => assert.rejects(intruder.beginCopyFromURL(web.url("/page.html")), { statusCode: 403 }));
    assert.deepEqual(seen, { hits: [], fetches: [] });
    assert.equal(await container.getBlobClient("intruded").exists(), false);

    const existing = destination();
    await existing.getBlockBlobClient().upload("old", 3);
    // Azurite answers 409 here where Azure answers 412; see reference/azure-servers.md.
    await assert.rejects(startCopy(existing, web.url("/page.html"), { conditions: { ifNoneMatch: "*" } }), (error: { statusCode?: number }) => [409, 412].includes(error.statusCode ?? 0));
    assert.equal((await existing.downloadToBuffer()).toString(), "old");
    const nowhere = blobService(azurite.accounts.primary, proxy.endpoint).getContainerClient("nowhere").getBlobClient("x");
    await assert.rejects(nowhere.syncCopyFromURL(web.url("/page.html")), { statusCode: 404, code: "ContainerNotFound" });
  });

  test("a SAS-authorised destination in the second account works the same way", async () => {
    const other = blobService(azurite.accounts.secondary, proxy.endpoint).getContainerClient("elsewhere");
    await other.create();
    const client = other.getBlobClient("copied");
    const done = await client.syncCopyFromURL(web.url("/page.html"));
    assert.equal(done.copyStatus, "success");
    assert.equal((await client.downloadToBuffer()).toString(), PAGE);
  });
});

describe("azureCopyProxy with accounts: an S3 presigned GET URL as the source (simulation)", () => {
  let azurite: Azurite;
  let proxy: AzureCopyProxy;
  let s3: S3Server | undefined;
  let container: ContainerClient;
  let skip: string | undefined;

  before(async () => {
    try {
      s3 = await startS3Server();
    } catch (error) {
      skip = String((error as Error).message);
      return;
    }
    azurite = await startAzurite();
    proxy = await startAzureCopyProxy(azurite.endpoint, { accounts: (name) => (name === azurite.accounts.primary.name ? azurite.accounts.primary.key : undefined) });
    container = blobService(azurite.accounts.primary, proxy.endpoint).getContainerClient("froms3");
    await container.create();
  });
  after(async () => {
    await proxy?.close();
    await azurite?.stop();
    await s3?.stop();
  });

  test("beginCopyFromURL(presigned GET URL): the proxy reads S3 as the service; bytes and content type arrive", async () => {
    if (skip) throw new Error(`no S3 server for this test: ${skip}`);
    const client = s3Client(s3!);
    await client.send(new CreateBucketCommand({ Bucket: "presigned-source" }));
    const body = JSON.stringify({ from: "s3", n: [1, 2, 3] });
    await client.send(new PutObjectCommand({ Bucket: "presigned-source", Key: "dir/data.json", Body: body, ContentType: "application/json" }));
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: "presigned-source", Key: "dir/data.json" }), { expiresIn: 600 });
    const blob = container.getBlobClient("data.json");
    const result = await (await blob.beginCopyFromURL(url, { intervalInMs: 10 })).pollUntilDone();
    assert.equal(result.copyStatus, "success");
    assert.deepEqual(proxy.fetches, [{ url, status: 200 }]);
    const props = await blob.getProperties();
    assert.equal(props.contentType, "application/json");
    assert.equal(props.copySource, url);
    assert.equal((await blob.downloadToBuffer()).toString(), body);
    const missing = await getSignedUrl(client, new GetObjectCommand({ Bucket: "presigned-source", Key: "dir/none.json" }), { expiresIn: 600 });
    await assert.rejects(container.getBlobClient("none.json").beginCopyFromURL(missing), { statusCode: 404, code: "CannotVerifyCopySource" });
  });
});
