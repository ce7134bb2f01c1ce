// The predictable Azure paths against Azurite, through the real provider host: Copy Blob From URL
// ("sync") and Put Block From URL + Put Block List ("blocks"), and what `auto` picks.
import { after, before, test } from "../support/testing.ts";
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
/** Put Block From URL answers the proxy has relayed for a destination container. */
const staged = (container: string) => proxy.requests.filter((r) => r.method === "PUT" && r.query.comp === "block" && r.path.includes(`/${container}/`) && r.status === 201).length;

/** Waits on an event the test can observe, rather than on a guess of how long it takes. */
async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("the awaited event did not happen");
    await sleep(10);
  }
}

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
      // Overwrite once the first block has been staged: three more are still to come, 300 ms apart.
      await until(() => staged(dst) >= 1);
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

test("a blocks copy onto an existing blob that fails before its commit leaves the blob as it was, and does not claim to have emptied it", async () => {
  const [src, dst] = [await rig.container(primary()), await rig.container(primary())];
  await rig.put(primary(), src, "seed", randomBytes(4 * MiB));
  await rig.put(primary(), dst, "seed", "the previous copy");
  const slowBlocks = proxy.setDelay((r) => r.method === "PUT" && r.query.comp === "block", 300);
  try {
    const at = (c: string) => rig.at(primary(), c, "seed", {}, proxy.endpoint);
    const mark = rig.host.output().length;
    const copying = rig.engine.up(await rig.register({ source: at(src), destination: at(dst), strategy: "blocks", partSizeBytes: 1 * MiB, concurrency: 1 })).then(() => undefined, (e: unknown) => e);
    await until(() => staged(dst) >= 1);
    await rig.put(primary(), src, "seed", "replaced");
    const failure = await copying;
    assert.equal(codeOf(failure), "SourceChanged");
    assert.equal((await rig.get(primary(), dst, "seed")).toString(), "the previous copy");
    assert.doesNotMatch(rig.host.output().slice(mark), /now empty/);
  } finally {
    slowBlocks();
  }
});

test("metadata: {} and tags: {} strip the source's on every path: async copy, sync and blocks give a blob with none", async () => {
  const [src, dst] = [await rig.container(primary()), await rig.container(primary())];
  await rig.put(primary(), src, "seed", randomBytes(2 * MiB), { metadata: { origin: "prod" }, tags: { env: "prod" } });
  for (const strategy of ["copy", "sync", "blocks"] as const) {
    await rig.engine.up(await rig.register({ source: rig.at(primary(), src, "seed"), destination: rig.at(primary(), dst, strategy), strategy, metadata: {}, tags: {}, partSizeBytes: 1 * MiB }, undefined, strategy));
    const got = await attributes(primary(), dst, strategy);
    assert.deepEqual([got.metadata, got.tags], [{}, {}], strategy);
  }
  // Given ones replace the source's on every path too.
  for (const strategy of ["copy", "sync", "blocks"] as const) {
    const name = `${strategy}-given`;
    await rig.engine.up(await rig.register({ source: rig.at(primary(), src, "seed"), destination: rig.at(primary(), dst, name), strategy, metadata: { team: "dev" }, tags: { env: "dev" }, partSizeBytes: 1 * MiB }, undefined, name));
    const got = await attributes(primary(), dst, name);
    assert.deepEqual([got.metadata, got.tags], [{ team: "dev" }, { env: "dev" }], name);
  }
});
