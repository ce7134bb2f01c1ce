// SIMULATION of transient faults no local server produces on demand (issue 5, R3): a proxy in front
// of Azurite and of the Azure Files test server answers a seeded 20% of the package's requests
// itself with 503 ServerBusy, 500 InternalError or a dropped connection, in Azure's error format.
// Everything forwarded is the servers' own doing. The package has no retry loop of its own: the
// Storage SDKs' retry policy (4 tries, then 0 s, 4 s, 12 s apart) must carry every copy through.
import { after, before, diagnostic, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type http from "node:http";
import { ShareServiceClient, StorageSharedKeyCredential } from "@azure/storage-file-share";
import { startCountingProxy, type CountingProxy, type Fault } from "../support/countingProxy.ts";
import { startAzureCopyProxy } from "../support/azureCopyProxy.ts";
import { startAzureFilesServer, type AzureFilesServer } from "../support/azureFilesServer.ts";
import { startAzureRig, type AzureRig } from "../support/azureRig.ts";
import { sha256 } from "../support/s3rig.ts";
import { FAULT_SEED, transientFaults } from "../support/seeded.ts";

const MiB = 1024 * 1024;
const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 2);
let rig: AzureRig;
let files: AzureFilesServer;
let blobProxy: CountingProxy;
let fileProxy: CountingProxy;
let fault: ((req: http.IncomingMessage) => Fault | undefined) | undefined;

before(async () => {
  rig = await startAzureRig();
  files = await startAzureFilesServer({ copyDelayMs: 300 });
  const options = { errorStyle: "azure" as const, fault: (req: http.IncomingMessage) => fault?.(req) };
  blobProxy = await startCountingProxy(rig.azurite.endpoint, options);
  fileProxy = await startCountingProxy(files.endpoint, options);
});
after(async () => {
  await blobProxy?.close();
  await fileProxy?.close();
  await rig?.stop();
  await files?.close();
});

test(`simulated: with 20% of the package's requests failing (503 ServerBusy, 500, reset; seeded), Copy Blob, Copy Blob From URL, Put Block From URL and Copy File copies and deletes complete, ${ROUNDS} rounds`, async () => {
  const transient = transientFaults([{ status: 503, code: "ServerBusy" }, { status: 500, code: "InternalError" }, { reset: true }], FAULT_SEED + 1);
  // Only the package's own requests (the SDK's user agent), at most two in a row for one request:
  // transient, as the SDK's retry budget assumes. The service reading a copy source is not ours to fault.
  fault = (req) => (String(req.headers["user-agent"] ?? "").includes("azsdk-js") ? transient(req) : undefined);
  try {
    const account = rig.azurite.accounts.primary;
    const [src, dst] = [await rig.container(account), await rig.container(account)];
    const body = randomBytes(3 * MiB + 5);
    await rig.put(account, src, "seed.bin", body, { metadata: { origin: "prod" } });
    const at = (container: string, blob: string) => rig.at(account, container, blob, {}, blobProxy.endpoint);

    const fileAccount = files.accounts[0];
    const share = `s${randomBytes(5).toString("hex")}`;
    const shares = new ShareServiceClient(fileAccount.url, new StorageSharedKeyCredential(fileAccount.name, fileAccount.key));
    await shares.getShareClient(share).create();
    await shares.getShareClient(share).rootDirectoryClient.getFileClient("seed.bak").uploadData(body);
    const file = (path: string) => ({ azureFile: { accountUrl: `${fileProxy.endpoint}/${fileAccount.name}`, share, path } });

    const before = { requests: blobProxy.requests.length + fileProxy.requests.length, faults: blobProxy.faults.length + fileProxy.faults.length };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const strategy of ["copy", "sync", "blocks"] as const) {
        const name = `${strategy}-${round}`;
        const { deployed } = await rig.engine.up(await rig.register({ source: at(src, "seed.bin"), destination: at(dst, name), strategy, partSizeBytes: 1 * MiB, concurrency: 2 }, undefined, name));
        assert.equal(deployed.outputs.strategy, strategy);
        assert.equal(sha256(await rig.get(account, dst, name)), sha256(body), name);
        await rig.engine.destroy(deployed);
        assert.equal(await rig.exists(account, dst, name), false, `${name} deleted`);
      }
      const path = `restore/${round}.bak`;
      const { deployed } = await rig.engine.up(await rig.register({ source: file("seed.bak"), destination: file(path) }, undefined, `file-${round}`));
      assert.deepEqual(files.peek(`/${fileAccount.name}/${share}/${path}`)?.content, body, path);
      await rig.engine.destroy(deployed);
      assert.equal(files.peek(`/${fileAccount.name}/${share}/${path}`), undefined, `${path} deleted`);
    }
    const injected = blobProxy.faults.length + fileProxy.faults.length - before.faults;
    const requests = blobProxy.requests.length + fileProxy.requests.length - before.requests;
    diagnostic(`${injected} faults injected in ${requests} requests`);
    assert.ok(injected >= 5, `${injected} faults`);
    assert.ok(blobProxy.faults.some((f) => "reset" in f.fault) || fileProxy.faults.some((f) => "reset" in f.fault), "a dropped connection was among them");
  } finally {
    fault = undefined;
  }
});

test("simulated: a Copy Blob whose answer is lost reaches the service; the SDK's retry meets that copy (409 PendingCopyOperation) and the package adopts it instead of failing", async () => {
  const account = rig.azurite.accounts.primary;
  const copies = await startAzureCopyProxy(rig.azurite.endpoint);
  let lost = 0;
  const lossy = await startCountingProxy(copies.endpoint, { errorStyle: "azure", fault: (req) => (isCopyStart(req) && !lost++ ? { lostAnswer: true } : undefined) });
  try {
    const [src, dst] = [await rig.container(account), await rig.container(account)];
    await rig.put(account, src, "seed.bin", "copied once");
    const path = `/${account.name}/${dst}/out.bin`;
    copies.arm(path, { pendingPolls: 2, final: "success" });
    const at = (container: string, blob: string) => rig.at(account, container, blob, {}, lossy.endpoint);
    const { deployed } = await rig.engine.up(await rig.register({ source: at(src, "seed.bin"), destination: at(dst, "out.bin") }));
    const starts = copies.requests.filter((r) => r.method === "PUT" && r.path === path && r.headers["x-ms-copy-source"]);
    assert.deepEqual(starts.map((r) => r.status), [202, 409], "the first start reached the service; its retry met the pending copy");
    assert.equal(deployed.outputs.copyStatus, "success");
    assert.equal(deployed.outputs.copyId, copies.peek(path)?.copyId, "the adopted copy is the one the lost request started");
    assert.deepEqual(copies.aborts, [], "nothing was aborted");
    assert.equal((await rig.get(account, dst, "out.bin")).toString(), "copied once");
    await rig.engine.destroy(deployed);
  } finally {
    await lossy.close();
    await copies.close();
  }
});

test("simulated Files: a Copy File whose answer is lost is adopted the same way", async () => {
  const account = files.accounts[0];
  let lost = 0;
  const lossy = await startCountingProxy(files.endpoint, { errorStyle: "azure", fault: (req) => (isCopyStart(req) && !lost++ ? { lostAnswer: true } : undefined) });
  try {
    const share = `s${randomBytes(5).toString("hex")}`;
    const shares = new ShareServiceClient(account.url, new StorageSharedKeyCredential(account.name, account.key));
    await shares.getShareClient(share).create();
    await shares.getShareClient(share).rootDirectoryClient.getFileClient("seed.bak").uploadData(Buffer.from("copied once"));
    const server = `/${account.name}/${share}/out.bak`;
    files.script(server, { delayMs: 1500 });
    const at = (path: string) => ({ azureFile: { accountUrl: `${lossy.endpoint}/${account.name}`, share, path } });
    const { deployed } = await rig.engine.up(await rig.register({ source: at("seed.bak"), destination: at("out.bak") }));
    const starts = files.requests.filter((r) => r.method === "PUT" && r.path === server && r.headers["x-ms-copy-source"]);
    assert.deepEqual(starts.map((r) => r.status), [202, 409]);
    assert.equal(files.peek(server)?.copyStatus, "success");
    assert.equal(files.peek(server)?.content.toString(), "copied once");
    assert.deepEqual(files.aborts.filter((a) => a.path === server), [], "nothing was aborted");
    await rig.engine.destroy(deployed);
  } finally {
    await lossy.close();
  }
});

function isCopyStart(req: http.IncomingMessage): boolean {
  return req.method === "PUT" && !!req.headers["x-ms-copy-source"] && !/comp=/.test(req.url ?? "");
}
