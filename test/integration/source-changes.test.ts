// A source overwritten while it is being copied (issue 5, R4). S3 is moto, with UploadPartCopy held
// back by a proxy so the overwrite lands between parts. moto (like Ceph RGW) ignores
// CopySourceIfMatch, so the package's own check before CompleteMultipartUpload is what stops a
// destination mixing two versions here. SIMULATION for Azure: the service fails a copy whose source
// changes; the scripted proxy and the Files test server play that failure, while the overwrite is real.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { ShareServiceClient, StorageSharedKeyCredential } from "@azure/storage-file-share";
import { startCountingProxy, type CountingProxy } from "../support/countingProxy.ts";
import { startAzureCopyProxy, type AzureCopyProxy } from "../support/azureCopyProxy.ts";
import { startAzureFilesServer, type AzureFilesServer } from "../support/azureFilesServer.ts";
import { startAzureRig, type AzureRig } from "../support/azureRig.ts";
import { HostCallError } from "../support/providerHost.ts";
import { codeOf, startS3Rig, type S3Rig } from "../support/s3rig.ts";

const MiB = 1024 * 1024;
let s3: S3Rig;
let parts: CountingProxy;
let onPart: ((n: number) => void) | undefined;
let azure: AzureRig;
let copies: AzureCopyProxy;
let files: AzureFilesServer;

before(async () => {
  s3 = await startS3Rig();
  let seen = 0;
  parts = await startCountingProxy(s3.server.endpoint, {
    // Each part is held 300 ms; a hook may overwrite the source meanwhile, before the part is forwarded.
    delayMs: (req) => {
      if (!(/partNumber=/.test(req.url ?? "") && req.headers["x-amz-copy-source"])) return 0;
      onPart?.(++seen);
      return 300;
    },
  });
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

async function failureOf(promise: Promise<unknown>): Promise<HostCallError> {
  const outcome = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(outcome instanceof HostCallError, `expected a failed call, got ${String(outcome)}`);
  return outcome;
}

test("S3 multipart, source overwritten (same size) between parts: SourceChanged, the upload aborted, no destination written (moto ignores CopySourceIfMatch)", async () => {
  const [src, dst] = [await s3.bucket(), await s3.bucket()];
  await s3.put(src, "seed.bin", randomBytes(20 * MiB));
  let overwritten = false;
  onPart = (n) => {
    if (n === 2) void s3.put(src, "seed.bin", randomBytes(20 * MiB)).then(() => (overwritten = true));
  };
  try {
    const reg = await s3.register({ source: s3.at(src, "seed.bin", { endpoint: parts.endpoint }), destination: s3.at(dst, "out.bin", { endpoint: parts.endpoint }), strategy: "multipart", partSizeBytes: 5 * MiB, concurrency: 1 });
    const failure = await failureOf(s3.engine.up(reg));
    assert.ok(overwritten, "the source was overwritten mid-copy");
    assert.equal(codeOf(failure), "SourceChanged");
    assert.match(failure.message, /changed while its parts were being copied .*the multipart upload was aborted and nothing was written/);
    assert.equal(await s3.uploads(dst), 0, "the multipart upload was aborted");
    assert.equal(await s3.exists(dst, "out.bin"), false, "no destination was written");
  } finally {
    onPart = undefined;
  }
});

test("simulated: an Azure Copy Blob whose source is overwritten while pending fails as the service fails it, reported as SourceChanged with the service's description; the empty blob is removed", async () => {
  const account = azure.azurite.accounts.primary;
  const [src, dst] = [await azure.container(account), await azure.container(account)];
  await azure.put(account, src, "seed.bin", "version one");
  const path = `/${account.name}/${dst}/out.bin`;
  const description = '412 ConditionNotMet "The source blob was modified during the copy."'; // scripted, not Azure's exact words
  copies.arm(path, { pendingPolls: 2, final: "failed", description });
  const overwrite = setInterval(() => {
    if (copies.peek(path)?.status === "pending") {
      clearInterval(overwrite);
      void azure.put(account, src, "seed.bin", "version two");
    }
  }, 5);
  try {
    const failure = await failureOf(azure.engine.up(await azure.register({ source: azure.at(account, src, "seed.bin", {}, copies.endpoint), destination: azure.at(account, dst, "out.bin", {}, copies.endpoint) })));
    assert.equal(codeOf(failure), "SourceChanged");
    assert.match(failure.message, /changed while it was being copied .*the service failed the copy .*source blob was modified/);
    assert.equal(await azure.exists(account, dst, "out.bin"), false, "the empty blob the failed copy left was removed");
  } finally {
    clearInterval(overwrite);
  }
});

test("simulated Files: a Copy File whose source is overwritten while pending fails as the service fails it, reported as SourceChanged; the empty file is removed", async () => {
  const account = files.accounts[0];
  const service = new ShareServiceClient(account.url, new StorageSharedKeyCredential(account.name, account.key));
  const share = `s${randomBytes(5).toString("hex")}`;
  await service.getShareClient(share).create();
  const source = service.getShareClient(share).rootDirectoryClient.getFileClient("seed.bak");
  await source.uploadData(Buffer.from("version one"));
  files.script(`/${account.name}/${share}/out.bak`, { final: "failed", delayMs: 1200, description: '412 ConditionNotMet "The source file was modified during the copy."' });
  const at = (path: string) => ({ azureFile: { accountUrl: account.url, share, path } });
  const overwrite = setInterval(() => {
    if (files.peek(`/${account.name}/${share}/out.bak`)?.copyStatus === "pending") {
      clearInterval(overwrite);
      void source.uploadData(Buffer.from("version two!"));
    }
  }, 5);
  try {
    const failure = await failureOf(azure.engine.up(await azure.register({ source: at("seed.bak"), destination: at("out.bak") })));
    assert.equal(codeOf(failure), "SourceChanged");
    assert.match(failure.message, /changed while it was being copied .*source file was modified/);
    assert.equal(files.peek(`/${account.name}/${share}/out.bak`), undefined, "the empty file the failed copy left was removed");
  } finally {
    clearInterval(overwrite);
  }
});
