/**
 * The Azurite starter, and the scripted copy proxy (a SIMULATION of pending/failed/aborted copies),
 * exercised with the real @azure/storage-blob SDK.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BlobSASPermissions, type BlobBeginCopyFromURLOptions, type BlobBeginCopyFromUrlPollState, type BlobClient, type BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { startAzureCopyProxy, type AzureCopyProxy } from "./azureCopyProxy.ts";
import { blobService, startAzurite, type Azurite } from "./azurite.ts";
import { groupAlive } from "./processGroups.ts";

/**
 * Copy Blob through the SDK's poller (startCopyFromURL is private): its first poll sends Copy
 * Blob, and it completes at once only when the answer says `success`.
 */
async function startCopy(client: BlobClient, source: string, options: BlobBeginCopyFromURLOptions = {}) {
  const poller = await client.beginCopyFromURL(source, options);
  const state = poller.getOperationState() as BlobBeginCopyFromUrlPollState;
  return { copyId: state.copyId, copyStatus: state.isCompleted ? state.result?.copyStatus : "pending" };
}
const readSas = () => ({ permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(Date.now() + 3600_000) });

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
});
