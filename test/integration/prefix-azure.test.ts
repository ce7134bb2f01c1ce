// CopiedPrefix on Azure, through Pulumi's real provider host: a container prefix Blob → Blob on Azurite, and
// Files → Blob and Blob → Files. SIMULATION for the Files side: no Azure Files emulator exists, so the share is the
// protocol-level test server (test/support/azureFilesServer.ts), and the Blob service reading a file goes through the
// scripted proxy (test/support/azureCopyProxy.ts), as in files.test.ts.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { ShareServiceClient, StorageSharedKeyCredential } from "@azure/storage-file-share";
import { CopiedPrefix, type CopiedPrefixArgs } from "pulumi-copied-object";
import { registerUnderMocks } from "../support/providerHost.ts";
import { startAzureFilesServer, type AzureFilesServer } from "../support/azureFilesServer.ts";
import { startAzureCopyProxy, type AzureCopyProxy } from "../support/azureCopyProxy.ts";
import { startAzureRig, type AzureRig } from "../support/azureRig.ts";

let rig: AzureRig;
let files: AzureFilesServer;
let proxy: AzureCopyProxy;
before(async () => {
  files = await startAzureFilesServer({ copyDelayMs: 50 });
  rig = await startAzureRig();
  const { primary } = rig.azurite.accounts;
  proxy = await startAzureCopyProxy(rig.azurite.endpoint, { accounts: [{ name: primary.name, key: primary.key }] });
});
after(async () => {
  await proxy?.close();
  await rig?.stop();
  await files?.close();
});

const MANIFEST = ".copied-prefix-manifest.json.gz";
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const register = async (args: CopiedPrefixArgs) => (await registerUnderMocks(() => new CopiedPrefix("prefix", args)))[0];
const primary = () => rig.azurite.accounts.primary;
const blobAt = (container: string, prefix: string, endpoint?: string) => ({
  azureBlob: { accountUrl: endpoint ? `${endpoint}/${primary().name}` : primary().url, container, prefix },
});
const fileAccount = () => files.accounts[0];
const shares = () => new ShareServiceClient(fileAccount().url, new StorageSharedKeyCredential(fileAccount().name, fileAccount().key));
const fileAt = (share: string, prefix: string) => ({ azureFile: { accountUrl: fileAccount().url, share, prefix } });

/** Nested names with spaces, unicode, an emoji, +, %, #, and one empty object. */
function objects(count: number): Map<string, Buffer> {
  const odd = ["with space", "ünïcødé-日本", "plus+sign", "per%cent", "hash#tag", "emoji-🚀"];
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count - 1; i++) out.set(`dir${i % 4}/sub${i % 3}/${odd[i % odd.length]}-${i}.bin`, randomBytes(50 + i));
  out.set("empty", Buffer.alloc(0));
  return out;
}

async function blobNames(container: string): Promise<string[]> {
  const names: string[] = [];
  for await (const b of rig.service(primary()).getContainerClient(container).listBlobsFlat()) names.push(b.name);
  return names.sort();
}

async function putFile(share: string, path: string, body: Buffer): Promise<void> {
  let dir = shares().getShareClient(share).rootDirectoryClient;
  for (const part of path.split("/").slice(0, -1)) {
    dir = dir.getDirectoryClient(part);
    await dir.createIfNotExists();
  }
  await dir.getFileClient(path.split("/").pop()!).uploadData(body);
}

const counts = (out: Record<string, unknown>) => [out.objectCount, out.copiedCount, out.skippedCount, out.removedCount, out.copyStatus];

test("Blob → Blob: a container prefix (nested, awkward names, one empty) is copied whole; then a change, an addition and a pruned removal; destroy keeps another writer's blob", async () => {
  const [src, dst] = [await rig.container(primary()), await rig.container(primary())];
  const seeded = objects(60);
  for (const [name, body] of seeded) await rig.put(primary(), src, `fixtures/${name}`, body);
  await rig.put(primary(), src, "other/not-selected.txt", "outside the prefix");
  const args = { source: blobAt(src, "fixtures/"), destination: blobAt(dst, "seed/"), prune: true };
  let { deployed } = await rig.engine.up(await register(args));
  assert.deepEqual(counts(deployed.outputs), [60, 60, 0, 0, "success"]);
  assert.deepEqual(await blobNames(dst), [...[...seeded.keys()].map((k) => `seed/${k}`), `seed/${MANIFEST}`].sort());
  for (const [name, body] of seeded) assert.equal(sha(await rig.get(primary(), dst, `seed/${name}`)), sha(body), name);
  const manifest = gunzipSync(await rig.get(primary(), dst, `seed/${MANIFEST}`)).toString().trim().split("\n");
  assert.equal(manifest.length, 61, "a header and one line per object");

  assert.equal((await rig.engine.up(await register(args), deployed)).step, "same", "unchanged: nothing planned");

  await rig.put(primary(), src, "fixtures/dir2/sub2/plus+sign-2.bin", "changed");
  await rig.put(primary(), src, "fixtures/new/added.txt", "added");
  await rig.service(primary()).getContainerClient(src).deleteBlob("fixtures/dir3/sub0/per%cent-3.bin");
  await rig.put(primary(), dst, "seed/someone-else.txt", "not ours");
  let step;
  ({ deployed, step } = await rig.engine.up(await register(args), deployed));
  assert.equal(step, "update");
  assert.deepEqual(counts(deployed.outputs), [60, 2, 58, 1, "success"]);
  assert.equal((await rig.get(primary(), dst, "seed/dir2/sub2/plus+sign-2.bin")).toString(), "changed");
  assert.equal((await rig.get(primary(), dst, "seed/new/added.txt")).toString(), "added");
  assert.equal(await rig.exists(primary(), dst, "seed/dir3/sub0/per%cent-3.bin"), false, "pruned");

  await rig.engine.destroy(deployed);
  assert.deepEqual(await blobNames(dst), ["seed/someone-else.txt"], "destroy removes what it wrote and the manifest, nothing else");
});

test("simulated Files → Blob: a share directory is walked recursively, in key order, and copied into a container prefix", async () => {
  const share = `s${randomBytes(5).toString("hex")}`;
  await shares().getShareClient(share).create();
  const seeded = objects(30);
  for (const [name, body] of seeded) await putFile(share, `export/${name}`, body);
  await putFile(share, "elsewhere.txt", Buffer.from("outside the directory"));
  const dst = await rig.container(primary());
  const args = { source: fileAt(share, "export/"), destination: blobAt(dst, "restore/", proxy.endpoint) };
  let { deployed } = await rig.engine.up(await register(args));
  assert.deepEqual(counts(deployed.outputs), [30, 30, 0, 0, "success"]);
  for (const [name, body] of seeded) assert.equal(sha(await rig.get(primary(), dst, `restore/${name}`)), sha(body), name);
  assert.equal((await rig.engine.up(await register(args), deployed)).step, "same", "the listing's ETags match what was copied");

  await putFile(share, "export/dir0/sub0/with space-0.bin", Buffer.from("changed"));
  let step;
  ({ deployed, step } = await rig.engine.up(await register(args), deployed));
  assert.equal(step, "update");
  assert.deepEqual(counts(deployed.outputs), [30, 1, 29, 0, "success"]);
  assert.equal((await rig.get(primary(), dst, "restore/dir0/sub0/with space-0.bin")).toString(), "changed");
  await rig.engine.destroy(deployed);
  assert.deepEqual(await blobNames(dst), []);
});

test("simulated Files: a missing source directory is SourceNotFound, naming the prefix; nothing is left in the destination", async () => {
  const share = `s${randomBytes(5).toString("hex")}`;
  await shares().getShareClient(share).create();
  const dst = await rig.container(primary());
  const failed = await rig.engine.up(await register({ source: fileAt(share, "nope/"), destination: blobAt(dst, "x/", proxy.endpoint) })).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.match(String(failed?.message), /SourceNotFound.*nope\//);
  assert.deepEqual(await blobNames(dst), [], "no manifest and no run mark");
});

test("Blob → simulated Files: objects land in nested directories, the manifest is renamed into place, destroy removes the files", async () => {
  const src = await rig.container(primary());
  const seeded = objects(12);
  for (const [name, body] of seeded) await rig.put(primary(), src, `p/${name}`, body);
  const share = `s${randomBytes(5).toString("hex")}`;
  await shares().getShareClient(share).create();
  const args = { source: blobAt(src, "p/"), destination: fileAt(share, "restore/2026/") };
  const { deployed } = await rig.engine.up(await register(args));
  assert.deepEqual(counts(deployed.outputs), [12, 12, 0, 0, "success"]);
  const root = shares().getShareClient(share).rootDirectoryClient;
  for (const [name, body] of seeded) assert.equal(sha(await root.getFileClient(`restore/2026/${name}`).downloadToBuffer()), sha(body), name);
  const manifest = gunzipSync(await root.getFileClient(`restore/2026/${MANIFEST}`).downloadToBuffer()).toString().trim().split("\n");
  assert.equal(manifest.length, 13);
  assert.equal(await root.getFileClient(`restore/2026/${MANIFEST}.tmp`).exists(), false, "the temporary manifest was renamed");
  assert.ok(files.requests.some((r) => r.query.comp === "rename"), "written by Rename File");
  await rig.engine.destroy(deployed);
  for (const name of [...seeded.keys(), MANIFEST]) assert.equal(await root.getFileClient(`restore/2026/${name}`).exists(), false, name);
});
