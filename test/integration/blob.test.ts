// Azure Blob to Azure Blob through Pulumi's real provider host, against Azurite (two accounts).
// Azurite finishes copies at once, so these cover everything but the pending state; that is in
// blob-pending.test.ts, through a scripted proxy.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type http from "node:http";
import { startCountingProxy, type CountingProxy, type Fault } from "../support/countingProxy.ts";
import { HostCallError } from "../support/providerHost.ts";
import { startAzureRig, type AzureRig } from "../support/azureRig.ts";
import { codeOf } from "../support/s3rig.ts";

let rig: AzureRig;
let faulty: CountingProxy;
let fault: ((req: http.IncomingMessage) => Fault | undefined) | undefined;
before(async () => {
  rig = await startAzureRig();
  faulty = await startCountingProxy(rig.azurite.endpoint, { errorStyle: "azure", fault: (req) => fault?.(req) });
});
after(async () => {
  await faulty?.close();
  await rig?.stop();
});

const primary = () => rig.azurite.accounts.primary;
const secondary = () => rig.azurite.accounts.secondary;

async function failureOf(promise: Promise<unknown>): Promise<HostCallError> {
  const outcome = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(outcome instanceof HostCallError, `expected a failed call, got ${String(outcome)}`);
  return outcome;
}

test("a same-account copy: bytes, ETag, copy id, and the source's metadata, tags and headers", async () => {
  const [src, dst] = [await rig.container(primary()), await rig.container(primary())];
  const body = randomBytes(300 * 1024);
  await rig.put(primary(), src, "db.bak", body, { metadata: { origin: "prod" }, tags: { env: "prod" }, contentType: "application/octet-stream" });
  const { deployed } = await rig.engine.up(await rig.register({ source: rig.at(primary(), src, "db.bak"), destination: rig.at(primary(), dst, "db.bak") }));
  assert.equal(deployed.id, `${primary().url}/${dst}/db.bak`);
  assert.deepEqual(await rig.get(primary(), dst, "db.bak"), body);
  const props = await rig.service(primary()).getContainerClient(dst).getBlobClient("db.bak").getProperties();
  assert.equal(deployed.outputs.etag, props.etag?.replace(/"/g, ""));
  assert.equal(deployed.outputs.copyId, props.copyId);
  assert.equal(deployed.outputs.copyStatus, "success");
  assert.equal(deployed.outputs.strategy, "copy");
  assert.equal(deployed.outputs.contentLength, body.length);
  assert.deepEqual(props.metadata, { origin: "prod" });
  assert.equal(props.contentType, "application/octet-stream");
  assert.deepEqual((await rig.service(primary()).getContainerClient(dst).getBlobClient("db.bak").getTags()).tags, { env: "prod" });
});

test("given metadata, tags, a content type and an access tier replace the source's", async () => {
  const [src, dst] = [await rig.container(primary()), await rig.container(primary())];
  await rig.put(primary(), src, "a", "x", { metadata: { origin: "prod" }, tags: { env: "prod" }, contentType: "text/plain" });
  await rig.engine.up(await rig.register({ source: rig.at(primary(), src, "a"), destination: rig.at(primary(), dst, "a"), metadata: { team: "data" }, tags: { env: "dev" }, contentType: "text/csv", accessTier: "Cool" }));
  const client = rig.service(primary()).getContainerClient(dst).getBlobClient("a");
  const props = await client.getProperties();
  assert.deepEqual(props.metadata, { team: "data" });
  assert.equal(props.contentType, "text/csv");
  assert.equal(props.accessTier, "Cool");
  assert.deepEqual((await client.getTags()).tags, { env: "dev" });
});

test("a cross-account copy reads the source through a SAS generated from its key", async () => {
  const [src, dst] = [await rig.container(secondary()), await rig.container(primary())];
  await rig.put(secondary(), src, "seed", "from the other account");
  const { deployed } = await rig.engine.up(await rig.register({
    source: { azureBlob: { ...rig.at(secondary(), src, "seed").azureBlob, credentials: { accountKey: secondary().key } } },
    destination: rig.at(primary(), dst, "seed"),
  }));
  assert.equal((await rig.get(primary(), dst, "seed")).toString(), "from the other account");
  assert.ok(!rig.host.output().includes("sig="), "the generated SAS is never logged");
  assert.ok(!JSON.stringify(deployed.outputs.args).includes(secondary().key));
});

test("a snapshot promoted over its own base blob restores the snapshot's content", async () => {
  const container = await rig.container(primary());
  await rig.put(primary(), container, "index.html", "good release");
  const snapshot = (await rig.service(primary()).getContainerClient(container).getBlobClient("index.html").createSnapshot()).snapshot!;
  await rig.put(primary(), container, "index.html", "bad release");
  const { deployed } = await rig.engine.up(await rig.register({ source: rig.at(primary(), container, "index.html", { snapshot }), destination: rig.at(primary(), container, "index.html") }, { retainOnDelete: true }));
  assert.equal((await rig.get(primary(), container, "index.html")).toString(), "good release");
  assert.equal(await rig.engine.destroy(deployed), false, "retainOnDelete: the engine does not call Delete");
  assert.equal((await rig.get(primary(), container, "index.html")).toString(), "good release");
  // Had Delete been called, it would have had to delete the base blob and so its snapshots: it refuses.
  const failure = await failureOf(rig.host.delete(deployed.reg, deployed.id, deployed.outputs));
  assert.equal(codeOf(failure), "CopyFailed");
  assert.match(failure.message, /has snapshots.*retainOnDelete/);
});

test("a changed source is re-copied in place, and destroy removes the copy idempotently", async () => {
  const [src, dst] = [await rig.container(primary()), await rig.container(primary())];
  await rig.put(primary(), src, "seed", "first");
  const reg = await rig.register({ source: rig.at(primary(), src, "seed"), destination: rig.at(primary(), dst, "seed") });
  const first = await rig.engine.up(reg);
  assert.equal((await rig.engine.up(reg, first.deployed)).step, "same");
  await rig.put(primary(), src, "seed", "second");
  const second = await rig.engine.up(reg, first.deployed);
  assert.equal(second.step, "update");
  assert.equal((await rig.get(primary(), dst, "seed")).toString(), "second");
  await rig.engine.destroy(second.deployed);
  assert.equal(await rig.exists(primary(), dst, "seed"), false);
  await rig.engine.destroy(second.deployed);
});

test("a missing source is SourceNotFound and a missing destination container DestinationNotFound, with nothing written", async () => {
  const [src, dst] = [await rig.container(primary()), await rig.container(primary())];
  const missing = await failureOf(rig.engine.up(await rig.register({ source: rig.at(primary(), src, "nope"), destination: rig.at(primary(), dst, "out") })));
  assert.equal(codeOf(missing), "SourceNotFound");
  assert.equal(missing.partial, undefined);
  await rig.put(primary(), src, "k", "x");
  const noContainer = await failureOf(rig.engine.up(await rig.register({ source: rig.at(primary(), src, "k"), destination: rig.at(primary(), "no-such-container", "out") })));
  assert.equal(codeOf(noContainer), "DestinationNotFound");
  assert.equal(noContainer.partial, undefined, "nothing was written, so nothing is kept");
  assert.match(noContainer.message, /Create the container first/);
  assert.equal(await rig.exists(primary(), dst, "out"), false);
});

test("a wrong account key is AccessDenied, and the key never appears in the error", async () => {
  const [src, dst] = [await rig.container(secondary()), await rig.container(primary())];
  await rig.put(secondary(), src, "k", "x");
  const wrongKey = Buffer.from("not the real key of this account").toString("base64");
  const failure = await failureOf(rig.engine.up(await rig.register({ source: { azureBlob: { ...rig.at(secondary(), src, "k").azureBlob, credentials: { accountKey: wrongKey } } }, destination: rig.at(primary(), dst, "k") })));
  assert.equal(codeOf(failure), "AccessDenied");
  assert.ok(!failure.message.includes(wrongKey));
});

test("a sourceEtag that no longer matches is SourceChanged", async () => {
  const [src, dst] = [await rig.container(primary()), await rig.container(primary())];
  await rig.put(primary(), src, "k", "x");
  const failure = await failureOf(rig.engine.up(await rig.register({ source: rig.at(primary(), src, "k"), destination: rig.at(primary(), dst, "k"), sourceEtag: "0x8DEADBEEF" })));
  assert.equal(codeOf(failure), "SourceChanged");
  assert.equal(await rig.exists(primary(), dst, "k"), false);
});

test("a source given as a read-only SAS token is copied with that token (untagged, with a warning), and the token appears nowhere in plaintext", async () => {
  const { generateBlobSASQueryParameters, BlobSASPermissions, StorageSharedKeyCredential } = await import("@azure/storage-blob");
  const [src, dst] = [await rig.container(secondary()), await rig.container(primary())];
  await rig.put(secondary(), src, "seed", "read through a given SAS");
  const sasToken = generateBlobSASQueryParameters(
    { containerName: src, blobName: "seed", permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(Date.now() + 3600_000) },
    new StorageSharedKeyCredential(secondary().name, secondary().key),
  ).toString();
  const reg = await rig.register({ source: { azureBlob: { ...rig.at(secondary(), src, "seed").azureBlob, credentials: { sasToken } } }, destination: rig.at(primary(), dst, "seed") });
  const { deployed } = await rig.engine.up(reg);
  assert.equal((await rig.get(primary(), dst, "seed")).toString(), "read through a given SAS");
  assert.match(rig.host.output(), /a SAS needs the t permission/);
  const signature = new URLSearchParams(sasToken).get("sig")!;
  const { sourceCredentials, ...publicOutputs } = deployed.outputs;
  assert.ok(sourceCredentials);
  for (const text of [String(reg.inputs.__provider), JSON.stringify(publicOutputs), rig.host.output()]) assert.ok(!text.includes(signature));
});

test("a leased destination blob (412 LeaseIdMissing) is CopyFailed saying the destination is leased, never SourceChanged; the blob is untouched", async () => {
  const [src, dst] = [await rig.container(primary()), await rig.container(primary())];
  await rig.put(primary(), src, "k", "new");
  await rig.put(primary(), dst, "k", "leased by someone else");
  await rig.service(primary()).getContainerClient(dst).getBlobClient("k").getBlobLeaseClient().acquireLease(-1);
  for (const strategy of ["copy", "sync"] as const) {
    const failure = await failureOf(rig.engine.up(await rig.register({ source: rig.at(primary(), src, "k"), destination: rig.at(primary(), dst, "k"), strategy }, undefined, strategy)));
    assert.equal(codeOf(failure), "CopyFailed", `${strategy}: ${failure.message}`);
    assert.match(failure.message, /LeaseIdMissing .*destination blob or file has an active lease, held by someone else/, strategy);
  }
  assert.equal((await rig.get(primary(), dst, "k")).toString(), "leased by someone else");
});

test("simulated: Copy Blob answered 404 or 403 CannotVerifyCopySource blames the source (SourceNotFound, AccessDenied), never the destination, and keeps the partial state", async () => {
  const [src, dst] = [await rig.container(primary()), await rig.container(primary())];
  await rig.put(primary(), src, "k", "x");
  const at = (container: string, blob: string) => rig.at(primary(), container, blob, {}, faulty.endpoint);
  for (const [status, code] of [[404, "SourceNotFound"], [403, "AccessDenied"]] as const) {
    fault = (req) => (req.method === "PUT" && req.headers["x-ms-copy-source"] ? { status, code: "CannotVerifyCopySource" } : undefined);
    try {
      const failure = await failureOf(rig.engine.up(await rig.register({ source: at(src, "k"), destination: at(dst, `out-${status}`) }, undefined, `out-${status}`)));
      assert.equal(codeOf(failure), code, failure.message);
      assert.match(failure.message, /The destination's service (found no source there|could not read the source)/);
      assert.equal(failure.partial?.properties.copyStatus, "failed", "kept: the copy was sent, so the resource is kept for the next up");
    } finally {
      fault = undefined;
    }
  }
});
