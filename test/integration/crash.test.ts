// Crash anywhere (issue 5, R1): the provider host is killed with SIGKILL at seeded random moments
// during a copy, then create runs again, as Pulumi does after an interrupted update. Required every
// time: the right bytes, 0 multipart uploads and 0 pending copies left. CRASH_POINTS kill points
// per store (3 here; `npm run test:faults` runs 20). S3 is moto, with UploadPartCopy held back by a
// proxy so a kill can land between parts. SIMULATION for Azure: Azurite copies at once, so the
// scripted proxy keeps Copy Blob pending; Azure Files is the protocol-level test server.
import { after, before, diagnostic, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { ShareServiceClient, StorageSharedKeyCredential } from "@azure/storage-file-share";
import { startCountingProxy, type CountingProxy } from "../support/countingProxy.ts";
import { CRASH_POINTS, createThenKill, killMoments, uncutCreate } from "../support/crash.ts";
import { startAzureCopyProxy, type AzureCopyProxy } from "../support/azureCopyProxy.ts";
import { startAzureFilesServer, type AzureFilesServer } from "../support/azureFilesServer.ts";
import { startAzureRig, type AzureRig } from "../support/azureRig.ts";
import { sha256, startS3Rig, type S3Rig } from "../support/s3rig.ts";

const MiB = 1024 * 1024;
let s3: S3Rig;
let parts: CountingProxy;
let azure: AzureRig;
let copies: AzureCopyProxy;
let files: AzureFilesServer;

before(async () => {
  s3 = await startS3Rig();
  // Each part held 120 ms: moto copies 24 MiB in a blink, and a kill must be able to land between parts.
  parts = await startCountingProxy(s3.server.endpoint, { delayMs: (req) => (/partNumber=/.test(req.url ?? "") && req.headers["x-amz-copy-source"] ? 120 : 0) });
  azure = await startAzureRig();
  copies = await startAzureCopyProxy(azure.azurite.endpoint);
  files = await startAzureFilesServer({ copyDelayMs: 1500 });
});
after(async () => {
  await parts?.close();
  await s3?.stop();
  await copies?.close();
  await azure?.stop();
  await files?.close();
});

const azureEnv = () => ({ AZURE_STORAGE_ACCOUNT: azure.azurite.accounts.primary.name, AZURE_STORAGE_KEY: azure.azurite.accounts.primary.key });

test(`SIGKILL at ${CRASH_POINTS} random moments of an S3 multipart copy (moto; parts slowed by a proxy), then create again: right bytes, 0 multipart uploads`, async () => {
  const [src, dst] = [await s3.bucket(), await s3.bucket()];
  const body = randomBytes(24 * MiB);
  await s3.put(src, "seed.bin", body);
  const args = (key: string) => ({ source: s3.at(src, "seed.bin", { endpoint: parts.endpoint }), destination: s3.at(dst, key, { endpoint: parts.endpoint }), strategy: "multipart" as const, partSizeBytes: 5 * MiB, concurrency: 2 });
  const env = { AWS_ACCESS_KEY_ID: s3.server.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.server.secretAccessKey, AWS_REGION: s3.server.region, AWS_EC2_METADATA_DISABLED: "true" };
  const uncut = await uncutCreate(env, await s3.register(args("uncut.bin"), undefined, "uncut"));
  await s3.engine.destroy(uncut.deployed);
  let orphaned = 0;
  for (const [i, killAt] of killMoments(uncut.ms).entries()) {
    const key = `out-${i}.bin`;
    const reg = await s3.register(args(key), undefined, `crash-${i}`);
    const { finishedFirst } = await createThenKill(env, reg, killAt);
    const left = await s3.uploads(dst, key);
    orphaned += left;
    diagnostic(`kill ${i} at ${killAt} of ${uncut.ms} ms: ${finishedFirst ? "the copy had finished" : `${left} multipart upload(s) left behind`}`);
    const { deployed } = await s3.engine.up(reg);
    assert.equal(sha256(await s3.get(dst, key)), sha256(body), `kill ${i}: the bytes`);
    assert.equal(await s3.uploads(dst), 0, `kill ${i}: multipart uploads left`);
    await s3.engine.destroy(deployed);
    assert.equal(await s3.exists(dst, key), false);
  }
  diagnostic(`${orphaned} orphaned upload(s) found after the kills, all aborted by the next create`);
  if (CRASH_POINTS >= 3) assert.ok(orphaned >= 1, "some kill landed mid-copy, so recovery was exercised");
});

test(`simulated: SIGKILL at ${CRASH_POINTS} random moments of a pending Copy Blob (scripted proxy on Azurite), then create again: right bytes, 0 pending copies`, async () => {
  const account = azure.azurite.accounts.primary;
  const [src, dst] = [await azure.container(account), await azure.container(account)];
  const body = randomBytes(256 * 1024);
  await azure.put(account, src, "seed.bin", body);
  const at = (container: string, blob: string) => azure.at(account, container, blob, {}, copies.endpoint);
  const destination = (blob: string) => azure.service(account, copies.endpoint).getContainerClient(dst).getBlobClient(blob);
  const script = { pendingPolls: 4, final: "success" as const, totalBytes: body.length };
  copies.arm(`/${account.name}/${dst}/uncut.bin`, script);
  const uncut = await uncutCreate(azureEnv(), await azure.register({ source: at(src, "seed.bin"), destination: at(dst, "uncut.bin") }, undefined, "uncut"));
  await azure.engine.destroy(uncut.deployed);
  let pendingLeft = 0;
  let adopted = 0;
  for (const [i, killAt] of killMoments(uncut.ms).entries()) {
    const blob = `out-${i}.bin`;
    const path = `/${account.name}/${dst}/${blob}`;
    copies.arm(path, script);
    const reg = await azure.register({ source: at(src, "seed.bin"), destination: at(dst, blob) }, undefined, `crash-${i}`);
    const { finishedFirst } = await createThenKill(azureEnv(), reg, killAt);
    const starts = () => copies.requests.filter((r) => r.method === "PUT" && r.path === path && r.headers["x-ms-copy-source"]).length;
    const startsBefore = starts();
    const left = copies.peek(path)?.status === "pending";
    if (left) pendingLeft++;
    diagnostic(`kill ${i} at ${killAt} of ${uncut.ms} ms: ${finishedFirst ? "the copy had finished" : left ? "a pending copy left behind" : `no pending copy (${startsBefore} Copy Blob sent)`}`);
    const { deployed } = await azure.engine.up(reg);
    if (left && starts() === startsBefore) adopted++;
    assert.equal(copies.peek(path)?.status ?? "success", "success", `kill ${i}: no pending copy left`);
    assert.equal((await destination(blob).getProperties()).copyStatus, "success", `kill ${i}: the destination says so too`);
    assert.equal(sha256(await azure.get(account, dst, blob)), sha256(body), `kill ${i}: the bytes`);
    await azure.engine.destroy(deployed);
    assert.equal(await azure.exists(account, dst, blob), false);
  }
  const aborted = copies.aborts.filter((a) => a.path.startsWith(`/${account.name}/${dst}/out-`)).length;
  diagnostic(`${pendingLeft} pending copies left by the kills: ${adopted} adopted by the next create (no second Copy Blob), ${aborted} aborted, the rest had ended before it looked`);
  if (CRASH_POINTS >= 3) assert.ok(pendingLeft >= 1, "some kill landed while the copy was pending");
});

test(`simulated Files: SIGKILL at ${CRASH_POINTS} random moments of a pending Copy File (Files test server), then create again: right bytes, 0 pending copies`, async () => {
  const account = files.accounts[0];
  const service = new ShareServiceClient(account.url, new StorageSharedKeyCredential(account.name, account.key));
  const share = `s${randomBytes(5).toString("hex")}`;
  await service.getShareClient(share).create();
  const body = randomBytes(200_000);
  await service.getShareClient(share).rootDirectoryClient.getFileClient("seed.bak").uploadData(body);
  const at = (path: string) => ({ azureFile: { accountUrl: account.url, share, path } });
  const uncut = await uncutCreate(azureEnv(), await azure.register({ source: at("seed.bak"), destination: at("uncut.bak") }, undefined, "uncut"));
  await azure.engine.destroy(uncut.deployed);
  let pendingLeft = 0;
  let adopted = 0;
  for (const [i, killAt] of killMoments(uncut.ms).entries()) {
    const path = `restore/out-${i}.bak`;
    const server = `/${account.name}/${share}/${path}`;
    const reg = await azure.register({ source: at("seed.bak"), destination: at(path) }, undefined, `crash-${i}`);
    const { finishedFirst } = await createThenKill(azureEnv(), reg, killAt);
    const left = files.peek(server)?.copyStatus === "pending";
    if (left) pendingLeft++;
    const starts = () => files.requests.filter((r) => r.method === "PUT" && r.path === server && r.headers["x-ms-copy-source"]).length;
    const startsBefore = starts();
    diagnostic(`kill ${i} at ${killAt} of ${uncut.ms} ms: ${finishedFirst ? "the copy had finished" : left ? "a pending copy left behind" : "no pending copy"}`);
    const { deployed } = await azure.engine.up(reg);
    if (left && starts() === startsBefore) adopted++;
    assert.equal(files.peek(server)?.copyStatus, "success", `kill ${i}: no pending copy left`);
    assert.deepEqual(files.peek(server)?.content, body, `kill ${i}: the bytes`);
    await azure.engine.destroy(deployed);
    assert.equal(files.peek(server), undefined);
  }
  diagnostic(`${pendingLeft} pending copies left by the kills: ${adopted} adopted by the next create (no second Copy File), the rest had ended before it looked`);
  if (CRASH_POINTS >= 3) assert.ok(pendingLeft >= 1, "some kill landed while the copy was pending");
});
