// The predictable Azure paths against Azurite, through the real provider host: Copy Blob From URL
// ("sync") and Put Block From URL + Put Block List ("blocks"), and what `auto` picks.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { HostCallError } from "../support/providerHost.ts";
import { startAzureCopyProxy, type AzureCopyProxy } from "../support/azureCopyProxy.ts";
import { startAzureRig, type AzureRig } from "../support/azureRig.ts";
import { codeOf } from "../support/s3rig.ts";

const MiB = 1024 * 1024;
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
const secondary = () => rig.azurite.accounts.secondary;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function attributes(account: typeof primary extends () => infer A ? A : never, container: string, blob: string) {
  const client = rig.service(account).getContainerClient(container).getBlobClient(blob);
  const p = await client.getProperties();
  return { metadata: p.metadata, contentType: p.contentType, cacheControl: p.cacheControl, tags: (await client.getTags()).tags, length: p.contentLength };
}

test("blocks (5 forced 1 MiB blocks) and sync give the same bytes, metadata, headers and tags as an async copy", async () => {
  const [src, dst] = [await rig.container(primary()), await rig.container(primary())];
  const body = randomBytes(5 * MiB - 17);
  await rig.put(primary(), src, "seed", body, { metadata: { origin: "prod" }, tags: { env: "prod" }, contentType: "application/x-tar" });
  const outputs: Record<string, unknown> = {};
  for (const strategy of ["copy", "sync", "blocks"] as const) {
    const { deployed } = await rig.engine.up(await rig.register({ source: rig.at(primary(), src, "seed"), destination: rig.at(primary(), dst, strategy), strategy, partSizeBytes: 1 * MiB, concurrency: 3 }, undefined, strategy));
    outputs[strategy] = deployed.outputs.strategy;
    assert.equal(sha(await rig.get(primary(), dst, strategy)), sha(body), strategy);
  }
  assert.deepEqual(outputs, { copy: "copy", sync: "sync", blocks: "blocks" });
  const reference = await attributes(primary(), dst, "copy");
  assert.deepEqual(reference.tags, { env: "prod" });
  for (const strategy of ["sync", "blocks"]) assert.deepEqual(await attributes(primary(), dst, strategy), reference, strategy);
});

test("across accounts, auto copies with one Copy Blob From URL", async () => {
  const [src, dst] = [await rig.container(secondary()), await rig.container(primary())];
  await rig.put(secondary(), src, "seed", "across");
  const { deployed } = await rig.engine.up(await rig.register({ source: { azureBlob: { ...rig.at(secondary(), src, "seed").azureBlob, credentials: { accountKey: secondary().key } } }, destination: rig.at(primary(), dst, "seed") }));
  assert.equal(deployed.outputs.strategy, "sync");
  assert.equal((await rig.get(primary(), dst, "seed")).toString(), "across");
});

test("blocks across accounts, with the source's SAS generated per copy", async () => {
  const [src, dst] = [await rig.container(secondary()), await rig.container(primary())];
  const body = randomBytes(3 * MiB);
  await rig.put(secondary(), src, "seed", body);
  const { deployed } = await rig.engine.up(await rig.register({ source: { azureBlob: { ...rig.at(secondary(), src, "seed").azureBlob, credentials: { accountKey: secondary().key } } }, destination: rig.at(primary(), dst, "seed"), strategy: "blocks", partSizeBytes: 1 * MiB }));
  assert.equal(deployed.outputs.strategy, "blocks");
  assert.equal(sha(await rig.get(primary(), dst, "seed")), sha(body));
});

for (const [story, replacement] of [["shorter", "overwritten mid-copy"], ["same-size", randomBytes(4 * MiB)]] as const) {
  test(`a source overwritten by a ${story} one while its blocks are staged is SourceChanged, and nothing is committed (staging slowed by a proxy)`, async () => {
    const [src, dst] = [await rig.container(primary()), await rig.container(primary())];
    await rig.put(primary(), src, "seed", randomBytes(4 * MiB));
    const slowBlocks = proxy.setDelay((r) => r.method === "PUT" && r.query.comp === "block", 300);
    try {
      const at = (c: string) => rig.at(primary(), c, "seed", {}, proxy.endpoint);
      const reg = await rig.register({ source: at(src), destination: at(dst), strategy: "blocks", partSizeBytes: 1 * MiB, concurrency: 1 });
      const copying = rig.engine.up(reg).then(() => undefined, (e: unknown) => e);
      await sleep(400);
      await rig.put(primary(), src, "seed", replacement);
      const failure = await copying;
      assert.ok(failure instanceof HostCallError, String(failure));
      assert.equal(codeOf(failure), "SourceChanged", failure.message);
      assert.equal(await rig.exists(primary(), dst, "seed"), false, "no block list was committed");
    } finally {
      slowBlocks();
    }
  });
}
