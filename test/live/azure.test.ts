// LIVE: CopiedObject from Azure Blob to Azure Blob in one real account (LIVE_AZURE_CONTAINER), through Pulumi's
// real provider host over gRPC. Writes only under `<run prefix>azure/`, and removes all of it at the end (afterAll,
// then the project's globalTeardown), failed or not. Skipped, saying why, without the variables or credentials.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { HostCallError } from "../support/providerHost.ts";
import { codeOf } from "../support/s3rig.ts";
import { isSkipped, liveRun } from "../support/liveTargets.ts";
import { sha256, startLiveRig, type LiveAzure, type LiveRig } from "../support/liveRig.ts";

const MiB = 1024 * 1024;
const run = liveRun();
const skip = isSkipped(run.azure) ? run.azure.skip : false;

let rig: LiveRig;
let azure: LiveAzure;
before(async () => {
  if (skip) return;
  rig = await startLiveRig(run, "azure", ["azure"]);
  azure = rig.azure!;
});
after(async () => {
  await rig?.stop();
});

const properties = (blob: string) => azure.container.getBlobClient(azure.name(blob)).getProperties();

test("Azure Blob → Blob in one account: bytes, ETag, copy id, the source's metadata and headers; a second up does nothing; a changed source is re-copied; destroy removes it", { skip }, async () => {
  const body = randomBytes(300 * 1024);
  await azure.put("copy/source.bak", body, { metadata: { origin: "live" }, contentType: "application/octet-stream" });
  const reg = await rig.register({ source: azure.at("copy/source.bak"), destination: azure.at("copy/dest.bak") });
  const first = await rig.engine.up(reg);
  assert.equal(first.step, "create");
  assert.equal(sha256(await azure.get("copy/dest.bak")), sha256(body), "the bytes read back");
  const props = await properties("copy/dest.bak");
  assert.equal(first.deployed.outputs.etag, props.etag?.replace(/"/g, ""), "etag is the destination's");
  assert.equal(first.deployed.outputs.copyId, props.copyId);
  assert.deepEqual([first.deployed.outputs.strategy, first.deployed.outputs.copyStatus, first.deployed.outputs.contentLength], ["copy", "success", body.length]);
  assert.deepEqual(props.metadata, { origin: "live" });
  assert.equal(props.contentType, "application/octet-stream");
  assert.equal((await rig.engine.up(reg, first.deployed)).step, "same");

  const changed = randomBytes(200 * 1024);
  await azure.put("copy/source.bak", changed, { metadata: { origin: "live" }, contentType: "application/octet-stream" });
  const second = await rig.engine.up(reg, first.deployed);
  assert.equal(second.step, "update");
  assert.equal(sha256(await azure.get("copy/dest.bak")), sha256(changed));
  assert.equal(second.deployed.outputs.etag, (await properties("copy/dest.bak")).etag?.replace(/"/g, ""));

  await rig.engine.destroy(second.deployed);
  assert.equal(await azure.exists("copy/dest.bak"), false);
  assert.equal(await azure.exists("copy/source.bak"), true, "the source is never touched");
});

test("Azure Blob: copy, sync (Copy Blob From URL) and blocks (4 forced 1 MiB blocks) give identical bytes, headers and metadata; destroy removes each", { skip }, async () => {
  const body = randomBytes(3 * MiB + 17);
  await azure.put("strategies/source", body, { metadata: { origin: "live" }, contentType: "application/x-tar" });
  const deployed = [];
  for (const strategy of ["copy", "sync", "blocks"] as const) {
    const up = await rig.engine.up(await rig.register({ source: azure.at("strategies/source"), destination: azure.at(`strategies/${strategy}`), strategy, partSizeBytes: 1 * MiB, concurrency: 2 }, undefined, strategy));
    assert.equal(up.deployed.outputs.strategy, strategy);
    assert.equal(sha256(await azure.get(`strategies/${strategy}`)), sha256(body), `${strategy}: the bytes read back`);
    const props = await properties(`strategies/${strategy}`);
    assert.equal(up.deployed.outputs.etag, props.etag?.replace(/"/g, ""), strategy);
    assert.deepEqual([props.contentLength, props.contentType, props.metadata], [body.length, "application/x-tar", { origin: "live" }], strategy);
    deployed.push(up.deployed);
  }
  for (const d of deployed) await rig.engine.destroy(d);
  for (const strategy of ["copy", "sync", "blocks"]) assert.equal(await azure.exists(`strategies/${strategy}`), false, strategy);
});

test("Azure Blob: a missing source is SourceNotFound, with nothing written", { skip }, async () => {
  const failure = await rig.engine.up(await rig.register({ source: azure.at("errors/no-such-source"), destination: azure.at("errors/dest") })).then(() => undefined, (e: unknown) => e);
  assert.ok(failure instanceof HostCallError, String(failure));
  assert.equal(codeOf(failure), "SourceNotFound", failure.message);
  assert.equal(failure.partial, undefined);
  assert.equal(await azure.exists("errors/dest"), false);
});
