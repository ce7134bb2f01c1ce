/**
 * The Azure Files TEST DOUBLE (a SIMULATION: no Files emulator exists), exercised with the real
 * @azure/storage-file-share SDK, which signs every request with Shared Key or a SAS.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "./testing.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { BlobSASPermissions } from "@azure/storage-blob";
import { AccountSASPermissions, AccountSASResourceTypes, FileSASPermissions, ShareServiceClient, StorageSharedKeyCredential, type ShareClient, type ShareFileClient } from "@azure/storage-file-share";
import { startAzureFilesServer, type AzureFilesServer } from "./azureFilesServer.ts";
import { blobService, startAzurite } from "./azurite.ts";

const service = (account: { name: string; key: string; url: string }) => new ShareServiceClient(account.url, new StorageSharedKeyCredential(account.name, account.key));
const readSas = () => ({ permissions: FileSASPermissions.parse("r"), expiresOn: new Date(Date.now() + 3600_000) });
const BODY = Buffer.from("0123456789".repeat(100));
type RestError = { statusCode: number; details: Record<string, unknown>; response: { bodyAsText: string } };
async function caught(promise: Promise<unknown>): Promise<RestError> {
  try {
    await promise;
  } catch (e) {
    return e as RestError;
  }
  throw new Error("expected a rejection");
}
/** Rejects with this HTTP status and x-ms-error-code. */
async function fails(promise: Promise<unknown>, statusCode: number, errorCode: string) {
  await assert.rejects(promise, (e: { statusCode?: number; details?: { errorCode?: string } }) => {
    assert.deepEqual({ statusCode: e.statusCode, errorCode: e.details?.errorCode }, { statusCode, errorCode });
    return true;
  });
}

describe("azureFilesServer (simulation of Azure Files)", () => {
  let server: AzureFilesServer;
  let share: ShareClient; // devstoreaccount1/files
  let other: ShareClient; // account2/elsewhere
  let n = 0;
  const fresh = () => share.getDirectoryClient("copies").getFileClient(`f${++n}`);
  const pathOf = (file: ShareFileClient) => new URL(file.url).pathname;
  /** A source file with metadata, and a destination whose copy stays pending `delayMs`. */
  async function pendingCopy(delayMs = 10_000) {
    const source = fresh();
    await source.uploadData(BODY, { metadata: { origin: "src" } });
    const dest = fresh();
    server.script(pathOf(dest), { delayMs });
    const started = await dest.startCopyFromURL(source.url);
    return { source, dest, started };
  }

  before(async () => {
    server = await startAzureFilesServer({ copyDelayMs: 600 });
    share = service(server.accounts[0]!).getShareClient("files");
    other = service(server.accounts[1]!).getShareClient("elsewhere");
    await share.create();
    await other.create();
    await share.getDirectoryClient("copies").create();
  });
  after(() => server.close());

  test("endpoint, accounts and path-style URLs", () => {
    assert.match(server.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(server.accounts.map((a) => a.name), ["devstoreaccount1", "account2"]);
    assert.equal(server.accounts[0]!.url, `${server.endpoint}/devstoreaccount1`);
  });

  test("share, directories and files: create, upload, download, ranges, metadata, listing, delete", async () => {
    await fails(share.create(), 409, "ShareAlreadyExists");
    const dir = share.getDirectoryClient("a");
    assert.equal((await dir.createIfNotExists()).succeeded, true);
    assert.equal((await dir.createIfNotExists()).succeeded, false);
    assert.equal(await dir.exists(), true);
    assert.equal(await share.getDirectoryClient("nope").exists(), false);
    await fails(share.getDirectoryClient("nope/b").create(), 404, "ParentNotFound");
    await dir.getDirectoryClient("b").create();

    const file = dir.getFileClient("hello.bin");
    await file.uploadData(BODY, { metadata: { color: "blue" } });
    assert.deepEqual(await file.downloadToBuffer(), BODY);
    assert.equal((await file.downloadToBuffer(10, 5)).toString(), "01234");
    await file.uploadRange(Buffer.from("abc"), 3, 3);
    assert.equal((await file.downloadToBuffer(0, 8)).toString(), "012abc67");
    let props = await file.getProperties();
    assert.equal(props.contentLength, BODY.length);
    assert.deepEqual(props.metadata, { color: "blue" });
    await file.setMetadata({ color: "red", size: "big" });
    props = await file.getProperties();
    assert.deepEqual(props.metadata, { color: "red", size: "big" });
    assert.equal(props.copyStatus, undefined);

    const listed = [];
    for await (const entry of dir.listFilesAndDirectories()) listed.push(`${entry.kind}:${entry.name}`);
    assert.deepEqual(listed.sort(), ["directory:b", "file:hello.bin"]);

    await fails(share.getDirectoryClient("missing").getFileClient("x").getProperties(), 404, "ParentNotFound");
    await fails(dir.getFileClient("missing").getProperties(), 404, "ResourceNotFound");
    await fails(dir.delete(), 409, "DirectoryNotEmpty");
    await file.delete();
    assert.equal(await file.exists(), false);
    await dir.getDirectoryClient("b").delete();
    await dir.delete();
    const gone = service(server.accounts[0]!).getShareClient("gone");
    await gone.create();
    await gone.delete();
    await fails(gone.getDirectoryClient("d").create(), 404, "ShareNotFound");
  });

  test("Shared Key is verified: a wrong key is 403 AuthenticationFailed with the REST error body", async () => {
    const account = server.accounts[0]!;
    const wrong = service({ ...account, key: Buffer.alloc(64, 7).toString("base64") }).getShareClient("files");
    const err = await caught(wrong.getDirectoryClient("copies").getFileClient("x").create(1));
    assert.equal(err.statusCode, 403);
    assert.equal(err.details.errorCode, "AuthenticationFailed");
    assert.match(err.response.bodyAsText, /<Error><Code>AuthenticationFailed<\/Code><Message>Server failed to authenticate the request\..*<AuthenticationErrorDetail>The MAC signature found/s);
    // Another account's key, a missing signature, and a SAS signed with the wrong key fail too.
    await assert.rejects(service({ ...account, key: server.accounts[1]!.key }).getShareClient("files").exists(), { statusCode: 403 });
    const anonymous = await fetch(`${account.url}/files?restype=share`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get("x-ms-error-code"), "NoAuthenticationInformation");
    const forged = (await share.getDirectoryClient("copies").getFileClient("x").generateSasUrl(readSas())).replace(/sig=[^&]+/, "sig=AAAA");
    assert.equal((await fetch(forged)).status, 403);
    assert.equal(server.requests.filter((r) => r.status === 403).length >= 3, true);
  });

  test("Copy File, same account: pending with growing progress, then success with bytes and metadata", async () => {
    const source = fresh();
    await source.uploadData(BODY, { metadata: { origin: "src" } });
    const dest = fresh();
    server.script(pathOf(dest), { delayMs: 1000 });
    const started = await dest.startCopyFromURL(source.url);
    assert.equal(started.copyStatus, "pending");
    assert.ok(started.copyId);
    const first = await dest.getProperties();
    assert.equal(first.copyStatus, "pending");
    assert.equal(first.copyId, started.copyId);
    assert.equal(first.copySource, source.url);
    assert.equal(first.contentLength, 0);
    assert.equal(first.copyCompletedOn, undefined);
    await sleep(400);
    const second = await dest.getProperties();
    const [a, b] = [first, second].map((p) => Number(p.copyProgress!.split("/")[0]));
    assert.ok(b! > a!, `progress grows: ${first.copyProgress} then ${second.copyProgress}`);
    assert.equal(second.copyProgress!.split("/")[1], String(BODY.length));
    await sleep(700);
    const done = await dest.getProperties();
    assert.equal(done.copyStatus, "success");
    assert.equal(done.copyProgress, `${BODY.length}/${BODY.length}`);
    assert.ok(done.copyCompletedOn instanceof Date);
    assert.deepEqual(done.metadata, { origin: "src" });
    assert.deepEqual(await dest.downloadToBuffer(), BODY);
    // With no script, the server's copyDelayMs (600 ms here) applies.
    const plain = fresh();
    assert.equal((await plain.startCopyFromURL(source.url, { metadata: { own: "yes" } })).copyStatus, "pending");
    await sleep(700);
    assert.equal((await plain.getProperties()).copyStatus, "success");
    assert.deepEqual(server.peek(pathOf(plain))?.metadata, { own: "yes" });
  });

  test("Abort Copy File while pending: 204, then zero length, metadata kept, status aborted", async () => {
    const { dest, started } = await pendingCopy();
    const aborted = await dest.abortCopyFromURL(started.copyId!);
    assert.equal(aborted._response.status, 204);
    const props = await dest.getProperties();
    assert.equal(props.copyStatus, "aborted");
    assert.equal(props.contentLength, 0);
    assert.deepEqual(props.metadata, { origin: "src" });
    assert.ok(props.copyCompletedOn instanceof Date);
    assert.deepEqual(server.aborts.at(-1), { path: pathOf(dest), copyId: started.copyId, status: 204 });
    // Aborted stays aborted: the copy never lands later.
    await fails(dest.abortCopyFromURL(started.copyId!), 409, "NoPendingCopyOperation");
  });

  test("Abort Copy File after success is 409 NoPendingCopyOperation", async () => {
    const { dest, started } = await pendingCopy(0);
    assert.equal(started.copyStatus, "success");
    await fails(dest.abortCopyFromURL(started.copyId!), 409, "NoPendingCopyOperation");
    assert.deepEqual(await dest.downloadToBuffer(), BODY);
  });

  test("Abort Copy File with a wrong copy id is 409 CopyIdMismatch, and the copy goes on", async () => {
    const { dest, started } = await pendingCopy();
    await fails(dest.abortCopyFromURL("00000000-0000-0000-0000-000000000000"), 409, "CopyIdMismatch");
    assert.equal((await dest.getProperties()).copyStatus, "pending");
    await fails(dest.uploadRange(Buffer.from("x"), 0, 1), 409, "PendingCopyOperation");
    await dest.abortCopyFromURL(started.copyId!);
  });

  test("a scripted failure: pending, then failed with a description and a zero-length file", async () => {
    const source = fresh();
    await source.uploadData(BODY);
    const dest = fresh();
    server.script(pathOf(dest), { final: "failed", delayMs: 100 });
    assert.equal((await dest.startCopyFromURL(source.url)).copyStatus, "pending");
    await sleep(200);
    const props = await dest.getProperties();
    assert.equal(props.copyStatus, "failed");
    assert.match(props.copyStatusDescription ?? "", /500 InternalError/);
    assert.equal(props.contentLength, 0);
  });

  test("cross-account copy: a file SAS or account SAS source works; without one, 403 CannotVerifyCopySource", async () => {
    const source = other.rootDirectoryClient.getFileClient("cross.bin");
    await source.uploadData(BODY, { metadata: { from: "account2" } });
    const viaFileSas = fresh();
    await viaFileSas.startCopyFromURL(await source.generateSasUrl(readSas()));
    const accountSas = service(server.accounts[1]!).generateAccountSasUrl(new Date(Date.now() + 3600_000), AccountSASPermissions.parse("r"), AccountSASResourceTypes.parse("o").toString());
    const viaAccountSas = fresh();
    await viaAccountSas.startCopyFromURL(`${source.url}?${new URL(accountSas).search.slice(1)}`);
    await sleep(700);
    for (const dest of [viaFileSas, viaAccountSas]) {
      const props = await dest.getProperties();
      assert.equal(props.copyStatus, "success");
      assert.deepEqual(props.metadata, { from: "account2" });
      assert.deepEqual(await dest.downloadToBuffer(), BODY);
    }
    await fails(fresh().startCopyFromURL(source.url), 403, "CannotVerifyCopySource");
    const writeOnly = await source.generateSasUrl({ permissions: FileSASPermissions.parse("w"), expiresOn: new Date(Date.now() + 3600_000) });
    await fails(fresh().startCopyFromURL(writeOnly), 403, "CannotVerifyCopySource");
    await fails(fresh().startCopyFromURL(`${share.url}/copies/missing`), 404, "CannotVerifyCopySource");
    // What the source answered travels in the error too, as Copy File reports it.
    const err = await caught(fresh().startCopyFromURL(source.url));
    assert.deepEqual([err.details.copySourceStatusCode, err.details.copySourceErrorCode], [403, "AuthenticationFailed"]);
  });

  test("File <- Blob: a blob URL on Azurite is fetched with a plain GET", async () => {
    const azurite = await startAzurite();
    try {
      const container = (await blobService(azurite.accounts.primary).createContainer("blobs")).containerClient;
      const blob = container.getBlockBlobClient("b.bin");
      await blob.uploadData(BODY, { metadata: { kind: "blob" } });
      const url = await blob.generateSasUrl({ permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(Date.now() + 3600_000) });
      const dest = fresh();
      server.script(pathOf(dest), { delayMs: 0 });
      assert.equal((await dest.startCopyFromURL(url)).copyStatus, "success");
      assert.deepEqual(await dest.downloadToBuffer(), BODY);
      assert.deepEqual((await dest.getProperties()).metadata, { kind: "blob" });
      await fails(fresh().startCopyFromURL(blob.url), 403, "CannotVerifyCopySource");
    } finally {
      await azurite.stop();
    }
  });
});
