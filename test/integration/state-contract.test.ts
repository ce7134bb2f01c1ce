// The state is a contract. The engine runs the *installed* package against state written by every
// older release (the host no longer replaces a dynamic resource when its serialized provider changes).
// Each release recorded in test/fixtures/releases (compiled from its commit by scripts/record-release.sh)
// creates and updates resources through Pulumi's real provider host, with its own CopiedObject class and
// shim; then this checkout's code diffs, refreshes, updates and deletes them, as after `npm update`.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import type { CopiedObjectArgs } from "pulumi-copied-object";
import { startAzurite, blobService, type Azurite } from "../support/azurite.ts";
import { startCountingProxy, type CountingProxy } from "../support/countingProxy.ts";
import { MiniEngine, type Deployed } from "../support/engine.ts";
import { HostCallError, ProviderHost, registerUnderMocks, type Registration } from "../support/providerHost.ts";
import { codeOf, repoRoot, sha256, startS3Rig, type S3Rig } from "../support/s3rig.ts";

const RELEASES_DIR = path.join(repoRoot, "test/fixtures/releases");
const RELEASES = fs.readdirSync(RELEASES_DIR).sort();
const MiB = 1024 * 1024;

let rig: S3Rig;
let azurite: Azurite;
let slow: CountingProxy;
const programs = new Map<string, string>();
const hosts: ProviderHost[] = [];

before(async () => {
  rig = await startS3Rig();
  azurite = await startAzurite();
  // Holds each UploadPartCopy back, so that a release's copy outlives a 1 s timeout on any server.
  slow = await startCountingProxy(rig.server.endpoint, { delayMs: (req) => (/partNumber=/.test(req.url ?? "") ? 1500 : 0) });
  for (const version of RELEASES) {
    // A user's program directory, with the release installed as `npm install` leaves it.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `copied-object-${version}-`));
    fs.mkdirSync(path.join(dir, "node_modules"));
    fs.symlinkSync(path.join(RELEASES_DIR, version), path.join(dir, "node_modules", "pulumi-copied-object"), "dir");
    programs.set(version, dir);
  }
});
after(async () => {
  for (const host of hosts) await host.stop();
  await slow?.close();
  await rig?.stop();
  await azurite?.stop();
  for (const dir of programs.values()) fs.rmSync(dir, { recursive: true, force: true });
});

/** A provider host whose program directory has `version` installed, configured as the engine does. */
async function hostOf(version: string, env: NodeJS.ProcessEnv): Promise<MiniEngine> {
  const host = await ProviderHost.start({ cwd: programs.get(version)!, env });
  hosts.push(host);
  await host.configure();
  return new MiniEngine(host);
}

/** What `version`'s CopiedObject registers (its own serialized shim included). */
async function registerWith(version: string, args: CopiedObjectArgs, name = "copy", opts?: pulumi.CustomResourceOptions): Promise<Registration> {
  const released = createRequire(path.join(repoRoot, "package.json"))(path.join(RELEASES_DIR, version, "dist/index.js")) as typeof import("pulumi-copied-object");
  const [reg] = await registerUnderMocks(() => new released.CopiedObject(name, args, opts));
  return reg;
}

const s3Env = (): NodeJS.ProcessEnv => ({
  AWS_ACCESS_KEY_ID: rig.server.accessKeyId, AWS_SECRET_ACCESS_KEY: rig.server.secretAccessKey, AWS_REGION: rig.server.region, AWS_EC2_METADATA_DISABLED: "true",
});

for (const version of RELEASES) {
  test(`${version} state on a versioned bucket: unchanged inputs plan nothing, refresh finds no drift, a source change re-copies, and destroy removes exactly the versions both releases wrote`, async () => {
    const old = await hostOf(version, s3Env());
    const [src, dst] = [await rig.bucket(), await rig.bucket({ versioned: true })];
    const theirs = await rig.put(dst, "seed", "someone else's version, written first");
    await rig.put(src, "seed", "one");
    const args = { source: rig.at(src, "seed"), destination: rig.at(dst, "seed") };

    const created = await old.up(await registerWith(version, args));
    await rig.put(src, "seed", "two, by the old release");
    const updated = await old.up(await registerWith(version, args), created.deployed);
    assert.equal(updated.step, "update");
    const written = [created.deployed.outputs.versionId, updated.deployed.outputs.versionId] as string[];
    assert.ok(written.every(Boolean) && written[0] !== written[1], `${version} wrote two versions`);
    if (version === "0.1.0") {
      // Evidence that the release's own code ran: its layout and its id.
      assert.equal(updated.deployed.outputs.stateVersion, undefined, "0.1.0 states carry no version");
      assert.equal(created.deployed.id, `s3://${dst}/seed`);
    }

    // The package is upgraded: the program registers this checkout's CopiedObject; the state is the old one.
    const reg = await rig.register(args);
    const same = await rig.engine.up(reg, updated.deployed);
    assert.equal(same.step, "same", "unchanged inputs plan nothing");
    const refreshed = await rig.engine.refresh(updated.deployed);
    assert.ok(refreshed);
    assert.equal(refreshed.outputs.destinationDrift, undefined, "no drift");
    assert.deepEqual([refreshed.id, refreshed.outputs.etag, refreshed.outputs.versionId], [updated.deployed.id, updated.deployed.outputs.etag, written[1]]);

    await rig.put(src, "seed", "three, by this release");
    const recopied = await rig.engine.up(reg, refreshed);
    assert.equal(recopied.step, "update");
    assert.equal((await rig.get(dst, "seed")).toString(), "three, by this release");
    assert.equal(recopied.deployed.outputs.stateVersion, 2);
    assert.deepEqual(new Set(recopied.deployed.outputs.priorVersionIds as string[]), new Set(written), "the versions both releases wrote are kept in state");

    await rig.engine.destroy(recopied.deployed);
    assert.deepEqual(await rig.versions(dst, "seed"), [theirs.versionId], "only the version someone else wrote is left");
  });

  test(`${version} state on an unversioned bucket: a tuning change writes nothing, and delete through the ${version} shim runs this release and removes the object`, async () => {
    const old = await hostOf(version, s3Env());
    const [src, dst] = [await rig.bucket(), await rig.bucket()];
    await rig.put(src, "seed", "payload");
    const args = { source: rig.at(src, "seed"), destination: rig.at(dst, "seed") };
    const created = await old.up(await registerWith(version, args));
    const before = await rig.head(dst, "seed");

    const tuned = await rig.engine.up(await rig.register({ ...args, timeoutSeconds: 7200 }), created.deployed);
    assert.equal(tuned.step, "update");
    assert.equal((await rig.head(dst, "seed")).LastModified?.toISOString(), before.LastModified?.toISOString(), "nothing was written");
    assert.deepEqual([tuned.deployed.outputs.etag, tuned.deployed.outputs.lastModified], [created.deployed.outputs.etag, created.deployed.outputs.lastModified]);

    // The engine deletes with the provider stored at the last create or update: here, the release's own shim.
    assert.equal(created.deployed.outputs.__provider, (await registerWith(version, args)).inputs.__provider);
    await rig.host.delete(created.deployed.reg, created.deployed.id, created.deployed.outputs);
    assert.equal(await rig.exists(dst, "seed"), false);
    assert.equal(await rig.exists(src, "seed"), true);
  });

  test(`${version} state under a stack config: the first up stores this release's provider (with configure) by an update that writes nothing, so destroy then signs with the stack's key`, async () => {
    const old = await hostOf(version, s3Env());
    const [src, dst] = [await rig.bucket(), await rig.bucket()];
    await rig.put(src, "seed", "payload");
    // Through the recording proxy (it delays only part copies), to see which key signs the delete.
    const args = { source: rig.at(src, "seed", { endpoint: slow.endpoint }), destination: rig.at(dst, "seed", { endpoint: slow.endpoint }) };
    const created = await old.up(await registerWith(version, args));
    assert.ok(!String(created.deployed.outputs.__provider).includes("configure"), `${version}'s shim has no configure`);
    const before = await rig.head(dst, "seed");

    const host = await ProviderHost.start({ cwd: repoRoot, env: s3Env() });
    hosts.push(host);
    await host.configure({ "aws:accessKey": "AKIDSTACKCONFIG00001", "aws:secretKey": { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "stack-secret" } });
    const engine = new MiniEngine(host);
    const upgraded = await engine.up(await rig.register(args), created.deployed);
    assert.equal(upgraded.step, "update");
    assert.match(host.output(), /the state's serialized provider predates stack configuration/);
    assert.equal((await rig.head(dst, "seed")).LastModified?.toISOString(), before.LastModified?.toISOString(), "nothing was written");
    assert.ok(String(upgraded.deployed.outputs.__provider).includes("configure"), "the state now holds this release's shim");
    assert.equal((await engine.up(await rig.register(args), upgraded.deployed)).step, "same", "once only");

    const mark = slow.seen.length;
    await engine.destroy(upgraded.deployed);
    assert.equal(await rig.exists(dst, "seed"), false);
    const keys = new Set(slow.seen.slice(mark).map((r) => /Credential=([^/]+)\//.exec(String(r.headers.authorization))?.[1]));
    assert.deepEqual(keys, new Set(["AKIDSTACKCONFIG00001"]), "destroy read the stack's config");
  });

  test(`${version} partial state (a multipart copy cut off by its timeout, parts slowed by a proxy): this release copies again on the next up, and destroy cleans up`, async () => {
    const old = await hostOf(version, s3Env());
    const [src, dst] = [await rig.bucket(), await rig.bucket({ versioned: true })];
    const body = randomBytes(15 * MiB);
    await rig.put(src, "big.bin", body);
    const via = { endpoint: slow.endpoint };
    const args = { source: rig.at(src, "big.bin", via), destination: rig.at(dst, "big.bin", via), strategy: "multipart" as const, partSizeBytes: 5 * MiB, concurrency: 1 };
    const failure = await old.up(await registerWith(version, { ...args, timeoutSeconds: 1 })).then(() => undefined, (e: unknown) => e);
    assert.ok(failure instanceof HostCallError && failure.partial, String(failure));
    assert.equal(failure.partial.properties.copyStatus, "aborted");
    const partial: Deployed = { reg: await rig.register(args), id: failure.partial.id, inputs: {}, outputs: failure.partial.properties };

    const again = await rig.engine.up(await rig.register({ ...args, timeoutSeconds: 120 }), partial);
    assert.equal(again.step, "update", "the last copy did not finish");
    assert.equal(sha256(await rig.get(dst, "big.bin")), sha256(body));
    await rig.engine.destroy(again.deployed);
    assert.deepEqual(await rig.versions(dst, "big.bin"), []);
    assert.equal(await rig.uploads(dst), 0);
  });

  test(`${version} state of an Azure blob copy (Azurite): unchanged inputs plan nothing, a source change re-copies, destroy removes the blob`, async () => {
    const { primary } = azurite.accounts;
    const old = await hostOf(version, { AZURE_STORAGE_ACCOUNT: primary.name, AZURE_STORAGE_KEY: primary.key });
    const service = blobService(primary);
    const [src, dst] = [`c${randomBytes(6).toString("hex")}`, `c${randomBytes(6).toString("hex")}`];
    await service.createContainer(src);
    await service.createContainer(dst);
    const put = (text: string) => service.getContainerClient(src).getBlockBlobClient("seed").upload(text, text.length);
    await put("one");
    const args = { source: { azureBlob: { accountUrl: primary.url, container: src, blob: "seed" } }, destination: { azureBlob: { accountUrl: primary.url, container: dst, blob: "seed" } } };
    const created = await old.up(await registerWith(version, args));

    const newHost = await ProviderHost.start({ cwd: repoRoot, env: { AZURE_STORAGE_ACCOUNT: primary.name, AZURE_STORAGE_KEY: primary.key } });
    hosts.push(newHost);
    await newHost.configure();
    const engine = new MiniEngine(newHost);
    const reg = await rig.register(args);
    assert.equal((await engine.up(reg, created.deployed)).step, "same");
    assert.equal((await engine.refresh(created.deployed))?.outputs.destinationDrift, undefined);
    await put("two");
    const recopied = await engine.up(reg, created.deployed);
    assert.equal(recopied.step, "update");
    assert.equal((await service.getContainerClient(dst).getBlobClient("seed").downloadToBuffer()).toString(), "two");
    await engine.destroy(recopied.deployed);
    assert.equal(await service.getContainerClient(dst).getBlobClient("seed").exists(), false);
  });
}

test("a state without args (edited by hand, or imported) is a clear InvalidInput on diff, refresh, update and delete: never a TypeError, never a silent no-op", async () => {
  const reg = await rig.register({ source: rig.at("a-bucket", "k"), destination: rig.at("b-bucket", "k") });
  const inputs = await rig.engine.check(reg);
  const state = { __provider: reg.inputs.__provider, etag: "abc", copyStatus: "success" };
  const calls: Array<[string, () => Promise<unknown>]> = [
    ["diff", () => rig.host.diff(reg, "id", state, inputs)],
    ["read", () => rig.host.read(reg, "id", state)],
    ["update", () => rig.host.update(reg, "id", state, inputs)],
    ["delete", () => rig.host.delete(reg, "id", state)],
  ];
  for (const [method, call] of calls) {
    const error = await call().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof HostCallError, `${method} must fail`);
    assert.equal(codeOf(error), "InvalidInput", `${method}: ${error.message}`);
    assert.match(error.message, /state has no args with a source and a destination.*pulumi state delete/, method);
    assert.doesNotMatch(error.message, /TypeError|Cannot read properties/, method);
  }
});

test("a state written by a newer release is refused, naming the upgrade", async () => {
  const reg = await rig.register({ source: rig.at("a-bucket", "k"), destination: rig.at("b-bucket", "k") });
  const inputs = await rig.engine.check(reg);
  const state = { __provider: reg.inputs.__provider, args: { source: inputs.source, destination: inputs.destination }, copyStatus: "success", stateVersion: 99 };
  const error = await rig.host.diff(reg, "id", state, inputs).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof HostCallError);
  assert.equal(codeOf(error), "Unsupported");
  assert.match(error.message, /state version 99.*Upgrade the package/);
});
