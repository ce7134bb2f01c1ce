// The Azure Blob backend against narrow fakes, for what Azurite cannot show: versioned
// accounts (delete only what this resource wrote) and Azure AD sources (user delegation SAS).
import { test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { AnonymousCredential, BlobServiceClient } from "@azure/storage-blob";
import { azureBlobStore, type BlobHandle } from "../../dist/stores/azureBlob.js";
import { toAzureBlob } from "../../dist/stores/azureBlobCopy.js";
import { azureBlobSource } from "../../dist/stores/copySources.js";
import { readableUrl } from "../../dist/stores/azureSas.js";
import { isCopyError } from "../../dist/errors.js";
import type { Logger } from "../../dist/operation.js";
import type { CopyJob } from "../../dist/stores/types.js";
import { runCopy } from "../../dist/pipeline.js";

// The package loads the SDK's CommonJS build and this test its ESM build: same shapes, separate types.
type Client = BlobHandle["client"];
const MINUTE = 60_000;
const destination = { azureBlob: { accountUrl: "https://dst.blob.core.windows.net", container: "env", blob: "seed.sql" } };

function serviceError(status: number, code: string) {
  return Object.assign(new Error(`${code} from the fake`), { statusCode: status, code, details: { errorCode: code } });
}

function recordingLog() {
  const lines: Array<{ level: string; message: string }> = [];
  const log: Logger = {
    info: (message) => void lines.push({ level: "info", message }),
    warn: (message) => void lines.push({ level: "warn", message }),
    progress: (message) => void lines.push({ level: "progress", message }),
  };
  return { log, lines, warnings: () => lines.filter((l) => l.level === "warn").map((l) => l.message) };
}

/**
 * One blob on a versioned account, following Azure's rule: the current version cannot be
 * deleted by its id (403 OperationNotAllowedOnRootBlob); deleting the base blob makes it previous.
 */
function versionedBlob(current: string | undefined, previous: string[]) {
  const state = { current, previous: [...previous], etag: "\"0x1\"" };
  const calls: string[] = [];
  let beforeDelete = () => {};
  const client = {
    url: "https://dst.blob.core.windows.net/env/seed.sql",
    async getProperties() {
      calls.push("getProperties");
      if (!state.current) throw serviceError(404, "BlobNotFound");
      const props = { etag: state.etag, versionId: state.current, contentLength: 1 };
      beforeDelete();
      return props;
    },
    async delete(options?: { conditions?: { ifMatch?: string } }) {
      calls.push("delete base");
      if (!state.current) throw serviceError(404, "BlobNotFound");
      if (options?.conditions?.ifMatch && options.conditions.ifMatch !== state.etag) throw serviceError(412, "ConditionNotMet");
      state.previous.push(state.current);
      state.current = undefined;
      return {};
    },
    withVersion(versionId: string) {
      return {
        async delete() {
          calls.push(`delete ${versionId}`);
          if (versionId === state.current) throw serviceError(403, "OperationNotAllowedOnRootBlob");
          if (!state.previous.includes(versionId)) throw serviceError(404, "BlobNotFound");
          state.previous = state.previous.filter((v) => v !== versionId);
          return {};
        },
      };
    },
  };
  const store = azureBlobStore(() => ({ client: client as unknown as Client, accountName: "dst", service: noDelegation }));
  /** Someone else writes a new current version between our read and our delete. */
  const overwriteAfterRead = () => {
    beforeDelete = () => {
      state.previous.push(state.current!);
      state.current = "theirs-new";
      state.etag = "\"0x2\"";
    };
  };
  return { store, state, calls, overwriteAfterRead };
}

const noDelegation = { getUserDelegationKey: async () => { throw new Error("not expected"); } } as unknown as BlobHandle["service"];

test("delete on a versioned account: our current version goes by the base blob, then each of our versions; older history stays", async () => {
  const blob = versionedBlob("ours-2", ["theirs-0", "ours-1"]);
  const { log } = recordingLog();
  await blob.store.remove(destination, undefined, { versionIds: ["ours-2", "ours-1"] }, new AbortController().signal, log);
  assert.deepEqual(blob.calls, ["getProperties", "delete base", "delete ours-2", "delete ours-1"]);
  assert.equal(blob.state.current, undefined);
  assert.deepEqual(blob.state.previous, ["theirs-0"]);
});

test("delete on a versioned account whose current version someone else wrote keeps the base blob and deletes only our versions", async () => {
  const blob = versionedBlob("theirs-2", ["ours-1"]);
  const { log, warnings } = recordingLog();
  await blob.store.remove(destination, undefined, { versionIds: ["ours-1"] }, new AbortController().signal, log);
  assert.ok(!blob.calls.includes("delete base"));
  assert.deepEqual(blob.calls, ["getProperties", "delete ours-1"]);
  assert.equal(blob.state.current, "theirs-2");
  assert.deepEqual(blob.state.previous, []);
  assert.equal(warnings().length, 1);
  assert.match(warnings()[0], /theirs-2/);
});

test("a version overwritten between the read and the delete is someone else's: If-Match keeps it, and our versions still go", async () => {
  const blob = versionedBlob("ours-1", []);
  blob.overwriteAfterRead();
  const { log, warnings } = recordingLog();
  await blob.store.remove(destination, undefined, { versionIds: ["ours-1"] }, new AbortController().signal, log);
  assert.deepEqual(blob.calls, ["getProperties", "delete base", "delete ours-1"]);
  assert.equal(blob.state.current, "theirs-new");
  assert.deepEqual(blob.state.previous, []);
  assert.equal(warnings().length, 1);
});

test("delete where the blob and some versions are already gone (404s) succeeds", async () => {
  const blob = versionedBlob(undefined, ["ours-1"]);
  const { log } = recordingLog();
  await blob.store.remove(destination, undefined, { versionIds: ["ours-2", "ours-1"] }, new AbortController().signal, log);
  assert.deepEqual(blob.calls, ["getProperties", "delete ours-2", "delete ours-1"]);
  assert.deepEqual(blob.state.previous, []);
});

test("delete on an unversioned account removes the blob only while it holds what this resource wrote (If-Match); missing is fine; snapshots are CopyFailed", async () => {
  const deleted: unknown[] = [];
  const fake = (props: Record<string, unknown> | Error, error?: Error) =>
    azureBlobStore(() => ({
      client: {
        async getProperties() { if (props instanceof Error) throw props; return props; },
        async delete(options: unknown) { deleted.push(options); if (error) throw error; return {}; },
      } as unknown as Client,
      accountName: "dst",
      service: noDelegation,
    }));
  const ours = { versionIds: [], etag: "0x1" };
  const { log, warnings } = recordingLog();
  await fake({ etag: "\"0x1\"", contentLength: 5 }).remove(destination, undefined, ours, new AbortController().signal, log);
  assert.deepEqual(deleted.map((d) => (d as { conditions?: unknown }).conditions), [{ ifMatch: "\"0x1\"" }], "deleted with If-Match on the ETag read");
  await fake(serviceError(404, "BlobNotFound")).remove(destination, undefined, ours, new AbortController().signal, log);
  assert.equal(deleted.length, 1, "a missing blob is already gone: no Delete");
  await fake({ etag: "\"0x9\"", contentLength: 5 }).remove(destination, undefined, ours, new AbortController().signal, log);
  assert.equal(deleted.length, 1, "someone else's write is kept");
  assert.match(warnings()[0], /no longer holds what this resource wrote \(ETag 0x9, wrote 0x1\)/);
  await fake({ etag: "\"0x9\"", contentLength: 0, copyStatus: "aborted" }).remove(destination, undefined, ours, new AbortController().signal, log);
  assert.equal(deleted.length, 2, "the empty residue of an aborted copy is removed");
  await assert.rejects(fake({ etag: "\"0x1\"" }, serviceError(409, "SnapshotsPresent")).remove(destination, undefined, ours, new AbortController().signal, log), (e) => isCopyError(e) && e.code === "CopyFailed");
});

// ---- A user delegation SAS for sources reached with an Azure AD token ----

const key = {
  signedObjectId: "11111111-1111-1111-1111-111111111111",
  signedTenantId: "22222222-2222-2222-2222-222222222222",
  signedService: "b",
  signedVersion: "2025-01-05",
  value: Buffer.alloc(32, 7).toString("base64"),
};

function tokenSource(blob: { url: string }, getKey: (startsOn: Date, expiresOn: Date) => Promise<unknown>) {
  const asked: Array<{ startsOn: Date; expiresOn: Date }> = [];
  const service = {
    async getUserDelegationKey(startsOn: Date, expiresOn: Date) {
      asked.push({ startsOn, expiresOn });
      return getKey(startsOn, expiresOn);
    },
  } as unknown as BlobHandle["service"];
  const handle: BlobHandle = { client: blob as Client, accountName: "src", service };
  return { handle, asked };
}

const signedKey = async (signedStartsOn: Date, signedExpiresOn: Date) => ({ ...key, signedStartsOn, signedExpiresOn });
const seeds = () => new BlobServiceClient("https://src.blob.core.windows.net", new AnonymousCredential()).getContainerClient("seeds").getBlobClient("db/seed.sql");
const SNAPSHOT = "2025-01-01T00:00:00.0000000Z";
const VERSION = "2025-02-01T00:00:00.0000000Z";

test("a token-authenticated source gets a read-only user delegation SAS that lasts the copy's timeout plus a margin", async () => {
  const { handle, asked } = tokenSource(seeds(), signedKey);
  const { log, lines } = recordingLog();
  const before = Date.now();
  const url = new URL(await readableUrl(handle, { account: "src", container: "seeds", blob: "db/seed.sql" }, 3600, new AbortController().signal, log));
  const q = url.searchParams;
  assert.equal(q.get("sp"), "r");
  assert.equal(q.get("sr"), "b");
  assert.equal(q.get("skoid"), key.signedObjectId);
  assert.equal(q.get("sktid"), key.signedTenantId);
  assert.ok(q.get("sig"));
  const expiry = Date.parse(q.get("se")!);
  assert.ok(Math.abs(expiry - (before + 3600_000 + 15 * MINUTE)) < 5000, `se ${q.get("se")} is about an hour and a quarter from now`);
  assert.equal(asked.length, 1);
  assert.ok(Math.abs(asked[0].startsOn.getTime() - (before - 5 * MINUTE)) < 5000, "starts 5 minutes ago, for clock skew");
  assert.equal(Math.floor(asked[0].expiresOn.getTime() / 1000), Math.floor(expiry / 1000));
  assert.ok(lines.every((l) => !l.message.includes(q.get("sig")!)), "the signature is never logged");
});

test("the SAS for a snapshot or a version source is signed for that snapshot or version", async () => {
  const location = { account: "src", container: "seeds", blob: "db/seed.sql" };
  const snap = new URL(await readableUrl(tokenSource(seeds().withSnapshot(SNAPSHOT), signedKey).handle, { ...location, snapshot: SNAPSHOT }, 60, new AbortController().signal, recordingLog().log));
  assert.deepEqual([snap.searchParams.get("snapshot"), snap.searchParams.get("sr"), snap.searchParams.get("sp")], [SNAPSHOT, "bs", "r"]);
  const version = new URL(await readableUrl(tokenSource(seeds().withVersion(VERSION), signedKey).handle, { ...location, versionId: VERSION }, 60, new AbortController().signal, recordingLog().log));
  assert.deepEqual([version.searchParams.get("versionid"), version.searchParams.get("sr"), version.searchParams.get("sp")], [VERSION, "bv", "r"]);
  assert.ok(version.searchParams.get("sig"));
});

test("a timeout beyond 7 days asks for a key that ends within the service's 7-day limit", async () => {
  const { handle, asked } = tokenSource(seeds(), signedKey);
  await readableUrl(handle, { account: "src", container: "seeds", blob: "db/seed.sql" }, 30 * 24 * 3600, new AbortController().signal, recordingLog().log);
  assert.ok(asked[0].expiresOn.getTime() - asked[0].startsOn.getTime() <= 7 * 24 * 60 * MINUTE);
  assert.ok(asked[0].expiresOn.getTime() <= Date.now() + 7 * 24 * 60 * MINUTE);
});

test("an identity without the delegator role gets the bare URL and a warning that names the role", async () => {
  const blob = seeds();
  const { handle } = tokenSource(blob, async () => { throw serviceError(403, "AuthorizationPermissionMismatch"); });
  const { log, warnings } = recordingLog();
  const url = await readableUrl(handle, { account: "src", container: "seeds", blob: "db/seed.sql" }, 3600, new AbortController().signal, log);
  assert.equal(url, blob.url);
  assert.equal(warnings().length, 1);
  assert.match(warnings()[0], /Storage Blob Delegator/);
  assert.match(warnings()[0], /AuthorizationPermissionMismatch/);
});

test("a shutdown while asking for the key aborts the copy instead of falling back", async () => {
  const controller = new AbortController();
  const { handle } = tokenSource(seeds(), async () => {
    controller.abort(Object.assign(new Error("CopyAborted: interrupted"), { name: "CopyError", code: "CopyAborted" }));
    throw Object.assign(new Error("The operation was aborted."), { name: "AbortError" });
  });
  await assert.rejects(readableUrl(handle, { account: "src", container: "seeds", blob: "db/seed.sql" }, 60, controller.signal, recordingLog().log), (e) => isCopyError(e) && e.code === "CopyAborted");
});

test("a given SAS is used once, as the client already carries it", async () => {
  const blob = new BlobServiceClient("https://src.blob.core.windows.net?sv=2024-05-04&sp=r&sig=given").getContainerClient("seeds").getBlobClient("db/seed.sql");
  const handle: BlobHandle = { client: blob as unknown as Client, accountName: "src", sasToken: "sv=2024-05-04&sp=r&sig=given", service: noDelegation };
  const url = new URL(await readableUrl(handle, { account: "src", container: "seeds", blob: "db/seed.sql" }, 60, new AbortController().signal, recordingLog().log));
  assert.deepEqual([...url.searchParams.getAll("sig")], ["given"]);
});

test("Copy Blob reads a token-authenticated source through the SAS, which stays out of the logs and the outcome", async () => {
  const started: string[] = [];
  const { handle: src } = tokenSource(seeds(), signedKey);
  Object.assign(src.client, {
    getProperties: async () => ({ etag: "\"0xS\"", contentLength: 10, blobType: "BlockBlob" }),
    getTags: async () => ({ tags: {} }),
  });
  let copied = false;
  const dst = {
    url: "https://dst.blob.core.windows.net/env/seed.sql",
    async getProperties() {
      if (!copied) throw serviceError(404, "BlobNotFound");
      return { etag: "\"0xD\"", contentLength: 10, copyId: "copy-1", copyStatus: "success" };
    },
    async beginCopyFromURL(url: string) {
      started.push(url);
      copied = true;
      return { getOperationState: () => ({ copyId: "copy-1" }) };
    },
  };
  const handles = (location: { container: string }): BlobHandle =>
    location.container === "seeds" ? src : { client: dst as unknown as Client, accountName: "dst", service: noDelegation };
  const { log, lines } = recordingLog();
  const request: CopyJob = {
    source: { azureBlob: { account: "src", container: "seeds", blob: "db/seed.sql" } },
    destination,
    options: { strategy: "copy" },
    signal: new AbortController().signal,
    log,
  };
  const outcome = await runCopy(request, toAzureBlob(azureBlobSource(handles), handles));
  const sig = new URL(started[0]).searchParams.get("sig");
  assert.ok(sig);
  assert.equal(new URL(started[0]).searchParams.get("skoid"), key.signedObjectId);
  assert.equal(outcome.copyId, "copy-1");
  assert.ok(!JSON.stringify(outcome).includes(sig) && !JSON.stringify(outcome).includes("sig="));
  assert.ok(lines.every((l) => !l.message.includes(sig) && !l.message.includes("sig=")));
});
