// SIMULATION: Azurite finishes every copy at once, so these tests put a scripted proxy in front of
// it (test/support/azureCopyProxy.ts) that reports Copy Blob as pending, failed or aborted, as the
// REST reference describes. Everything else (auth, SAS, bytes, metadata) is Azurite's own. They
// prove our state machine and the requests we send, not Azure's timing.
import { after, before, diagnostic, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { HostCallError } from "../support/providerHost.ts";
import { startAzureCopyProxy, type AzureCopyProxy } from "../support/azureCopyProxy.ts";
import { startAzureRig, type AzureRig } from "../support/azureRig.ts";
import { codeOf } from "../support/s3rig.ts";

let rig: AzureRig;
let proxy: AzureCopyProxy;
before(async () => {
  rig = await startAzureRig();
  proxy = await startAzureCopyProxy(rig.azurite.endpoint);
});
after(async () => {
  await proxy?.close();
  await rig?.stop();
});

const primary = () => rig.azurite.accounts.primary;

/** A source and an empty destination container, both addressed through the proxy. */
async function arrange(body = "payload of the pending copy") {
  const [src, dst] = [await rig.container(primary()), await rig.container(primary())];
  await rig.put(primary(), src, "seed", body, { metadata: { origin: "prod" } });
  const at = (container: string, blob: string, extra = {}) => rig.at(primary(), container, blob, extra, proxy.endpoint);
  return { src, dst, path: `/${primary().name}/${dst}/seed`, source: at(src, "seed"), destination: at(dst, "seed") };
}

const polls = (path: string) => proxy.requests.filter((r) => (r.method === "HEAD" || r.method === "GET") && r.path === path && !r.query.comp).length;

async function failureOf(promise: Promise<unknown>): Promise<HostCallError> {
  const outcome = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(outcome instanceof HostCallError, `expected a failed call, got ${String(outcome)}`);
  return outcome;
}

test("simulated: a copy pending for 4 polls is waited for, its progress logged, then reported success", async () => {
  const { dst, path, source, destination } = await arrange();
  proxy.arm(path, { pendingPolls: 4, final: "success", totalBytes: 4096 });
  const { deployed } = await rig.engine.up(await rig.register({ source, destination }));
  assert.equal(deployed.outputs.copyStatus, "success");
  assert.equal((await rig.get(primary(), dst, "seed")).toString(), "payload of the pending copy");
  assert.ok(polls(path) >= 5, `${polls(path)} status requests`);
  assert.match(rig.host.output(), /copy [\w-]+: \d+(\.\d)? KiB of 4 KiB/);
});

test("simulated: a copy the service fails is CopyFailed with its description, and the empty blob it created is removed", async () => {
  const { dst, path, source, destination } = await arrange();
  proxy.arm(path, { pendingPolls: 1, final: "failed", description: "500 InternalError: simulated" });
  const failure = await failureOf(rig.engine.up(await rig.register({ source, destination })));
  assert.equal(codeOf(failure), "CopyFailed");
  assert.match(failure.message, /simulated/);
  assert.equal(failure.partial?.properties.copyStatus, "failed");
  assert.equal(await rig.exists(primary(), dst, "seed"), false);
});

test("simulated: a copy aborted by someone else is CopyAborted, saying so", async () => {
  const { path, source, destination } = await arrange();
  proxy.arm(path, { pendingPolls: 1, final: "aborted", description: "aborted by an operator" });
  const failure = await failureOf(rig.engine.up(await rig.register({ source, destination })));
  assert.equal(codeOf(failure), "CopyAborted");
  assert.match(failure.message, /outside this resource: aborted by an operator/);
});

test("simulated: a copy that outlives timeoutSeconds is aborted with its own copy id; partial state lets destroy finish", async () => {
  const { dst, path, source, destination } = await arrange();
  proxy.arm(path, { pendingPolls: 10_000, final: "success" });
  const reg = await rig.register({ source, destination, timeoutSeconds: 2 });
  const failure = await failureOf(rig.engine.up(reg));
  assert.equal(codeOf(failure), "CopyTimedOut");
  assert.match(failure.message, /had got to [\d.]+ (bytes|KiB) of [\d.]+ (bytes|KiB), and is aborted/, "it says how far the copy had got");
  const copyStart = proxy.requests.find((r) => r.method === "PUT" && r.path === path && r.headers["x-ms-copy-source"]);
  assert.ok(copyStart);
  assert.deepEqual(proxy.aborts.filter((a) => a.path === path).map((a) => a.status), [204]);
  const abort = proxy.aborts.find((a) => a.path === path)!;
  assert.ok(abort.copyId && abort.copyId === failure.partial?.properties.copyId, "the Abort carried the copy id this resource started");
  assert.equal(await rig.exists(primary(), dst, "seed"), false, "the empty blob the aborted copy left was removed");
  assert.equal(failure.partial?.properties.copyStatus, "aborted");
  await rig.host.delete(reg, failure.partial!.id, failure.partial!.properties);
});

test("simulated: SIGINT to the provider's process group aborts the pending copy on the server within 5 s", async () => {
  const { path, source, destination } = await arrange();
  proxy.arm(path, { pendingPolls: 10_000, final: "success" });
  const reg = await rig.register({ source, destination });
  const inputs = await rig.engine.check(reg);
  let settled = false;
  const creating = rig.host.create(reg, inputs).finally(() => (settled = true)).then(() => "finished", () => "failed");
  const deadline = Date.now() + 10_000;
  while (!settled && polls(path) < 2 && Date.now() < deadline) await sleep(20);
  assert.ok(!settled && polls(path) >= 2, "the copy is pending");
  const signalled = Date.now();
  rig.host.signalGroup("SIGINT");
  while (!proxy.aborts.some((a) => a.path === path) && Date.now() - signalled < 5000) await sleep(10);
  const abortedAfter = Date.now() - signalled;
  const exit = await rig.host.exited();
  diagnostic(`Abort Copy Blob reached the server ${abortedAfter} ms after SIGINT; the provider exited with ${exit.code}`);
  assert.ok(abortedAfter < 5000);
  assert.deepEqual(proxy.aborts.filter((a) => a.path === path).map((a) => a.status), [204]);
  assert.notEqual(exit.code, 0);
  assert.equal(await creating, "failed");
  // The host is gone: a fresh one for the tests after this, on the same Azurite.
  const { ProviderHost } = await import("../support/providerHost.ts");
  const { MiniEngine } = await import("../support/engine.ts");
  const host = await ProviderHost.start({ cwd: (await import("../support/s3rig.ts")).repoRoot, env: { AZURE_STORAGE_ACCOUNT: primary().name, AZURE_STORAGE_KEY: primary().key } });
  await host.configure();
  Object.assign(rig, { host, engine: new MiniEngine(host) });
});

test("simulated: a destination still copying from this resource's source (a crashed run) is adopted, not restarted", async () => {
  const { path, src, source, destination } = await arrange();
  proxy.arm(path, { pendingPolls: 2, final: "success" });
  // The crashed run's copy: same source blob, started straight through the proxy.
  const dstClient = rig.service(primary(), proxy.endpoint).getContainerClient(path.split("/")[2]).getBlobClient("seed");
  const sourceUrl = rig.service(primary(), proxy.endpoint).getContainerClient(src).getBlobClient("seed").url;
  await dstClient.beginCopyFromURL(sourceUrl);
  const starts = () => proxy.requests.filter((r) => r.method === "PUT" && r.path === path && r.headers["x-ms-copy-source"]).length;
  assert.equal(starts(), 1);
  const { deployed } = await rig.engine.up(await rig.register({ source, destination }));
  assert.equal(deployed.outputs.copyStatus, "success");
  assert.equal(starts(), 1, "no second Copy Blob was sent");
  assert.match(rig.host.output(), /already copying from this source/);
});

test("simulated: a destination pending a copy from another source is aborted, then copied from ours", async () => {
  const { dst, path, source, destination } = await arrange("ours");
  const other = await rig.container(primary());
  await rig.put(primary(), other, "stranger", "theirs");
  proxy.arm(path, { pendingPolls: 10_000, final: "success" });
  const dstClient = rig.service(primary(), proxy.endpoint).getContainerClient(dst).getBlobClient("seed");
  const poller = await dstClient.beginCopyFromURL(rig.service(primary(), proxy.endpoint).getContainerClient(other).getBlobClient("stranger").url);
  const strangerCopyId = (poller.getOperationState() as { copyId?: string }).copyId;
  await rig.engine.up(await rig.register({ source, destination }));
  assert.deepEqual(proxy.aborts.filter((a) => a.path === path).map((a) => [a.copyId, a.status]), [[strangerCopyId, 204]]);
  assert.equal((await rig.get(primary(), dst, "seed")).toString(), "ours");
  assert.match(rig.host.output(), /had a pending copy from .*aborting it/);
});

test("simulated: destroy while a copy to the destination is still pending (an update killed mid-copy) aborts it, then deletes", async () => {
  const { dst, path, src, source, destination } = await arrange();
  const { deployed } = await rig.engine.up(await rig.register({ source, destination }));
  // The killed update's copy, still running on the service.
  proxy.arm(path, { pendingPolls: 10_000, final: "success" });
  const poller = await rig.service(primary(), proxy.endpoint).getContainerClient(dst).getBlobClient("seed").beginCopyFromURL(rig.service(primary(), proxy.endpoint).getContainerClient(src).getBlobClient("seed").url);
  const pendingId = (poller.getOperationState() as { copyId?: string }).copyId;
  await rig.engine.destroy(deployed);
  assert.deepEqual(proxy.aborts.filter((a) => a.path === path).map((a) => [a.copyId, a.status]), [[pendingId, 204]]);
  assert.equal(await rig.exists(primary(), dst, "seed"), false);
});

test("simulated: an update cut off by its timeout leaves the existing blob as Azure does (empty, metadata kept), reports it, and the next up repairs it", async () => {
  const { dst, path, source, destination } = await arrange("version one");
  const first = await rig.engine.up(await rig.register({ source, destination }));
  await rig.put(primary(), source.azureBlob.container, "seed", "version two", { metadata: { origin: "prod" } });
  proxy.arm(path, { pendingPolls: 10_000, final: "success" });
  const failure = await failureOf(rig.engine.up(await rig.register({ source, destination, timeoutSeconds: 2 }), first.deployed));
  assert.equal(codeOf(failure), "CopyTimedOut");
  assert.equal(failure.partial?.properties.copyStatus, "aborted");
  const props = await rig.service(primary(), proxy.endpoint).getContainerClient(dst).getBlobClient("seed").getProperties();
  assert.deepEqual([props.copyStatus, props.contentLength, props.metadata], ["aborted", 0, { origin: "prod" }]);
  assert.match(rig.host.output(), /existed before and is now empty/);
  const repaired = await rig.engine.up(await rig.register({ source, destination }), { ...first.deployed, outputs: failure.partial!.properties });
  assert.equal(repaired.step, "update");
  assert.equal((await rig.get(primary(), dst, "seed")).toString(), "version two");
});

test("simulated: a timed-out copy whose Abort fails is kept as pending, not aborted; the next delete aborts it", async () => {
  const { dst, path, source, destination } = await arrange();
  proxy.arm(path, { pendingPolls: 10_000, final: "success" });
  const allow = proxy.refuseAborts(path);
  const reg = await rig.register({ source, destination, timeoutSeconds: 2 });
  const failure = await failureOf(rig.engine.up(reg));
  allow();
  assert.equal(codeOf(failure), "CopyTimedOut");
  assert.equal(failure.partial?.properties.copyStatus, "pending", "the copy may still be running on the service");
  assert.match(rig.host.output(), /could not abort the copy .*it may still be running/);
  const copyId = failure.partial!.properties.copyId as string;
  assert.equal(proxy.peek(path)?.status, "pending");
  await rig.host.delete(reg, failure.partial!.id, failure.partial!.properties);
  const statuses = proxy.aborts.filter((a) => a.path === path).map((a) => a.status);
  assert.ok(statuses.length >= 2 && statuses.slice(0, -1).every((s) => s === 500) && statuses.at(-1) === 204, `refused, then aborted by the delete: ${statuses}`);
  assert.equal(proxy.aborts.at(-1)?.copyId, copyId);
  assert.equal(await rig.exists(primary(), dst, "seed"), false, "the empty blob the aborted copy left is removed");
});

test("simulated: a destination pending a copy from another snapshot of the same blob is not adopted: it is aborted, and the snapshot asked for is copied", async () => {
  const { src, dst, path, destination } = await arrange("first");
  const base = rig.service(primary(), proxy.endpoint).getContainerClient(src).getBlobClient("seed");
  const s1 = (await base.createSnapshot()).snapshot!;
  await rig.put(primary(), src, "seed", "second");
  const s2 = (await base.createSnapshot()).snapshot!;
  // A crashed run's copy from snapshot 1, still pending.
  proxy.arm(path, { pendingPolls: 10_000, final: "success" });
  const dstClient = rig.service(primary(), proxy.endpoint).getContainerClient(dst).getBlobClient("seed");
  const poller = await dstClient.beginCopyFromURL(base.withSnapshot(s1).url);
  const stale = (poller.getOperationState() as { copyId?: string }).copyId;
  const { deployed } = await rig.engine.up(await rig.register({ source: rig.at(primary(), src, "seed", { snapshot: s2 }, proxy.endpoint), destination }));
  assert.deepEqual(proxy.aborts.filter((a) => a.path === path).map((a) => [a.copyId, a.status]), [[stale, 204]], "the stale copy was aborted");
  assert.equal((await rig.get(primary(), dst, "seed")).toString(), "second");
  assert.notEqual(deployed.outputs.copyId, stale);
  assert.doesNotMatch(rig.host.output(), new RegExp(`copy ${stale}\\); waiting for it`));
});
