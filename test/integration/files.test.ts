// Azure Files through Pulumi's real provider host. SIMULATION: no Azure Files emulator exists, so
// the destination (and File sources) is a protocol-level test server (test/support/azureFilesServer.ts)
// that verifies SharedKey and SAS and holds copies pending as the REST reference describes. Blob
// sides are Azurite; a File source read by the Blob service goes through the scripted proxy.
import { after, before, diagnostic, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { ShareServiceClient, StorageSharedKeyCredential } from "@azure/storage-file-share";
import { HostCallError } from "../support/providerHost.ts";
import { startAzureFilesServer, type AzureFilesServer } from "../support/azureFilesServer.ts";
import { startAzureCopyProxy, type AzureCopyProxy } from "../support/azureCopyProxy.ts";
import { startAzureRig, type AzureRig } from "../support/azureRig.ts";
import { codeOf } from "../support/s3rig.ts";

let files: AzureFilesServer;
let rig: AzureRig;
let proxy: AzureCopyProxy;
before(async () => {
  files = await startAzureFilesServer({ copyDelayMs: 1200 });
  rig = await startAzureRig();
  const { primary } = rig.azurite.accounts;
  proxy = await startAzureCopyProxy(rig.azurite.endpoint, { accounts: [{ name: primary.name, key: primary.key }] });
});
after(async () => {
  await proxy?.close();
  await rig?.stop();
  await files?.close();
});

const account = () => files.accounts[0];
const service = () => new ShareServiceClient(account().url, new StorageSharedKeyCredential(account().name, account().key));
const at = (share: string, path: string) => ({ azureFile: { accountUrl: account().url, share, path } });

async function share(): Promise<string> {
  const name = `s${randomBytes(5).toString("hex")}`;
  await service().getShareClient(name).create();
  return name;
}

async function putFile(shareName: string, path: string, body: Buffer, metadata?: Record<string, string>) {
  const client = service().getShareClient(shareName).rootDirectoryClient.getFileClient(path);
  await client.uploadData(body, { metadata });
}

async function failureOf(promise: Promise<unknown>): Promise<HostCallError> {
  const outcome = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(outcome instanceof HostCallError, `expected a failed call, got ${String(outcome)}`);
  return outcome;
}

test("simulated Files: a File to File copy is pending, then succeeds; directories are created; bytes and metadata arrive", async () => {
  const s = await share();
  const body = randomBytes(100_000);
  await putFile(s, "seed.bak", body, { origin: "prod" });
  const { deployed } = await rig.engine.up(await rig.register({ source: at(s, "seed.bak"), destination: at(s, "restore/2026/seed.bak") }));
  assert.equal(deployed.outputs.copyStatus, "success");
  assert.ok(deployed.outputs.copyId);
  assert.equal(deployed.outputs.versionId, undefined, "files have no versions");
  const copied = files.peek(`/${account().name}/${s}/restore/2026/seed.bak`);
  assert.deepEqual(copied?.content, body);
  assert.deepEqual(copied?.metadata, { origin: "prod" });
  const polls = files.requests.filter((r) => r.method === "HEAD" && r.path === `/${account().name}/${s}/restore/2026/seed.bak`).length;
  assert.ok(polls >= 2, `${polls} status requests while pending`);
  await rig.engine.destroy(deployed);
  assert.equal(files.peek(`/${account().name}/${s}/restore/2026/seed.bak`), undefined);
});

test("simulated Files: a copy that outlives timeoutSeconds is aborted with its copy id, and the empty file it created is removed", async () => {
  const s = await share();
  await putFile(s, "big.bak", randomBytes(10_000));
  files.script(`/${account().name}/${s}/out.bak`, { delayMs: 60_000 });
  const failure = await failureOf(rig.engine.up(await rig.register({ source: at(s, "big.bak"), destination: at(s, "out.bak"), timeoutSeconds: 2 })));
  assert.equal(codeOf(failure), "CopyTimedOut");
  assert.match(failure.message, /had got to [\d.]+ (bytes|KiB) of [\d.]+ (bytes|KiB), and is aborted/, "it says how far the copy had got");
  const abort = files.aborts.find((a) => a.path === `/${account().name}/${s}/out.bak`);
  assert.deepEqual([abort?.copyId, abort?.status], [failure.partial?.properties.copyId, 204]);
  assert.equal(files.peek(`/${account().name}/${s}/out.bak`), undefined);
});

test("simulated Files: SIGINT to the provider's process group aborts the pending Copy File within 5 s", async () => {
  const s = await share();
  await putFile(s, "big.bak", randomBytes(10_000));
  const path = `/${account().name}/${s}/out.bak`;
  files.script(path, { delayMs: 60_000 });
  const reg = await rig.register({ source: at(s, "big.bak"), destination: at(s, "out.bak") });
  const inputs = await rig.engine.check(reg);
  const creating = rig.host.create(reg, inputs).then(() => "finished", () => "failed");
  const deadline = Date.now() + 10_000;
  while (!files.requests.some((r) => r.method === "HEAD" && r.path === path && r.status === 200) && Date.now() < deadline) await sleep(20);
  const signalled = Date.now();
  rig.host.signalGroup("SIGINT");
  while (!files.aborts.some((a) => a.path === path) && Date.now() - signalled < 5000) await sleep(10);
  const abortedAfter = Date.now() - signalled;
  const exit = await rig.host.exited();
  diagnostic(`Abort Copy File reached the server ${abortedAfter} ms after SIGINT; the provider exited with ${exit.code}`);
  assert.ok(abortedAfter < 5000);
  assert.deepEqual(files.aborts.filter((a) => a.path === path).map((a) => a.status), [204]);
  assert.equal(await creating, "failed");
  const { ProviderHost } = await import("../support/providerHost.ts");
  const { MiniEngine } = await import("../support/engine.ts");
  const { repoRoot } = await import("../support/s3rig.ts");
  const host = await ProviderHost.start({ cwd: repoRoot, env: { AZURE_STORAGE_ACCOUNT: rig.azurite.accounts.primary.name, AZURE_STORAGE_KEY: rig.azurite.accounts.primary.key } });
  await host.configure();
  Object.assign(rig, { host, engine: new MiniEngine(host) });
});

test("aborting a copy that already finished is a 409 handled as 'already finished', not an error", async () => {
  const s = await share();
  await putFile(s, "seed.bak", Buffer.from("done"));
  const client = service().getShareClient(s).rootDirectoryClient.getFileClient("copy.bak");
  const started = await client.startCopyFromURL(service().getShareClient(s).rootDirectoryClient.getFileClient("seed.bak").url);
  // The event itself: the server reports the copy finished.
  while ((await client.getProperties()).copyStatus !== "success") await sleep(50);
  const { abortRemoteCopy } = await import("../../dist/stores/asyncCopy.js");
  const lines: string[] = [];
  const log = { info: (m: string) => void lines.push(m), warn: (m: string) => void lines.push(`warn: ${m}`), progress() {} };
  assert.equal(await abortRemoteCopy(client as never, started.copyId!, log, "copy.bak"), true, "an ended copy needs no abort");
  assert.deepEqual(files.aborts.filter((a) => a.copyId === started.copyId).map((a) => a.status), [409]);
  assert.match(lines.join("\n"), /had already ended/);
});

test("simulated Files: Blob to File (the Files service reads Azurite through a SAS) and File to Blob (the Blob service reads the file)", async () => {
  const primary = rig.azurite.accounts.primary;
  const container = await rig.container(primary);
  await rig.put(primary, container, "from-blob.bin", "blob bytes");
  const s = await share();
  const toFile = await rig.engine.up(await rig.register({ source: rig.at(primary, container, "from-blob.bin"), destination: at(s, "in/from-blob.bin") }, undefined, "to-file"));
  assert.equal(files.peek(`/${account().name}/${s}/in/from-blob.bin`)?.content.toString(), "blob bytes");
  assert.equal(toFile.deployed.outputs.copyStatus, "success");

  await putFile(s, "from-file.bin", Buffer.from("file bytes"));
  const dst = await rig.container(primary);
  const toBlob = await rig.engine.up(await rig.register({ source: at(s, "from-file.bin"), destination: rig.at(primary, dst, "from-file.bin", {}, proxy.endpoint) }, undefined, "to-blob"));
  assert.equal((await rig.get(primary, dst, "from-file.bin")).toString(), "file bytes");
  assert.equal(toBlob.deployed.outputs.strategy, "copy");
});

test("Files errors: a missing source file is SourceNotFound; a missing share is DestinationNotFound; a wrong key is AccessDenied", async () => {
  const s = await share();
  const missing = await failureOf(rig.engine.up(await rig.register({ source: at(s, "nope.bak"), destination: at(s, "out.bak") })));
  assert.equal(codeOf(missing), "SourceNotFound");
  await putFile(s, "seed.bak", Buffer.from("x"));
  const noShare = await failureOf(rig.engine.up(await rig.register({ source: at(s, "seed.bak"), destination: at("no-such-share", "out.bak") })));
  assert.equal(codeOf(noShare), "DestinationNotFound");
  assert.match(noShare.message, /fix destination\.azureFile\.share/, "the Files field is named, not a blob one");
  assert.equal(noShare.partial, undefined, "nothing was written, so nothing is kept");
  const wrong = Buffer.from("not this account's key").toString("base64");
  const denied = await failureOf(rig.engine.up(await rig.register({ source: { azureFile: { ...at(s, "seed.bak").azureFile, credentials: { accountKey: wrong } } }, destination: at(s, "out2.bak") })));
  assert.equal(codeOf(denied), "AccessDenied");
  assert.match(denied.message, /source\.azureFile\.credentials/);
  assert.doesNotMatch(denied.message, /azureBlob/);
  assert.ok(!denied.message.includes(wrong));
});

test("simulated Files: metadata: {} strips the source's, as on every Blob path; given content headers apply and the rest are kept", async () => {
  const s = await share();
  await service().getShareClient(s).rootDirectoryClient.getFileClient("seed.bak").uploadData(Buffer.from("x"), {
    metadata: { origin: "prod" },
    fileHttpHeaders: { fileContentType: "application/x-tar", fileCacheControl: "max-age=60" },
  });
  await rig.engine.up(await rig.register({ source: at(s, "seed.bak"), destination: at(s, "stripped.bak"), metadata: {}, contentLanguage: "en" }));
  const props = await service().getShareClient(s).rootDirectoryClient.getFileClient("stripped.bak").getProperties();
  assert.deepEqual(props.metadata, {});
  assert.deepEqual([props.contentType, props.cacheControl, props.contentLanguage], ["application/x-tar", "max-age=60", "en"]);
});

test("simulated Files: a file from a share snapshot is copied as it was then, to a file and to a blob, and is never tracked as changed", async () => {
  const s = await share();
  await putFile(s, "config.json", Buffer.from('{"release": 41}'));
  const { snapshot } = await service().getShareClient(s).createSnapshot();
  await putFile(s, "config.json", Buffer.from('{"release": 42}'));
  const source = { azureFile: { accountUrl: account().url, share: s, path: "config.json", shareSnapshot: snapshot! } };
  const reg = await rig.register({ source, destination: at(s, "restored/config.json") }, undefined, "from-snapshot");
  const first = await rig.engine.up(reg);
  assert.equal(files.peek(`/${account().name}/${s}/restored/config.json`)?.content.toString(), '{"release": 41}');
  await putFile(s, "config.json", Buffer.from('{"release": 43}'));
  assert.equal((await rig.engine.up(reg, first.deployed)).step, "same", "a snapshot never changes");

  const primary = rig.azurite.accounts.primary;
  const dst = await rig.container(primary);
  await rig.engine.up(await rig.register({ source, destination: rig.at(primary, dst, "config.json", {}, proxy.endpoint) }, undefined, "snapshot-to-blob"));
  assert.equal((await rig.get(primary, dst, "config.json")).toString(), '{"release": 41}');
});
