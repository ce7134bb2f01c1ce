// Which object is this? Through Pulumi's real provider host, against moto and Azurite: a respelling of
// the same destination never replaces and never writes, and where two names reach one server (which
// no spelling rule can know), a replace still cannot lose the object, because delete removes only what
// the old resource wrote, and only while the destination still holds it.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { startAzureRig, type AzureRig } from "../support/azureRig.ts";
import { startS3Rig, type S3Rig } from "../support/s3rig.ts";

let s3: S3Rig;
let azure: AzureRig;
before(async () => {
  s3 = await startS3Rig();
  azure = await startAzureRig();
});
after(async () => {
  await s3?.stop();
  await azure?.stop();
});

const respell = (endpoint: string) => ({
  "a trailing slash": `${endpoint}/`,
  "the scheme and host in capitals": endpoint.replace("http://127.0.0.1", "HTTP://127.0.0.1"),
});

test("S3: a respelt destination (trailing slash, capitals, region, path style) and a respelt source are updates that write nothing; no version is added, no byte lost", async () => {
  const [src, dst] = [await s3.bucket(), await s3.bucket({ versioned: true })];
  await s3.put(src, "seed", "payload");
  const endpoint = s3.server.endpoint;
  const base = { source: s3.at(src, "seed"), destination: s3.at(dst, "seed") };
  let { deployed } = await s3.engine.up(await s3.register(base));
  const written = await s3.versions(dst, "seed");
  const variants: Array<[string, typeof base]> = [
    ...Object.entries(respell(endpoint)).map(([name, e]): [string, typeof base] => [`destination endpoint with ${name}`, { ...base, destination: s3.at(dst, "seed", { endpoint: e }) }]),
    ["destination region", { ...base, destination: s3.at(dst, "seed", { region: "eu-west-1" }) }],
    ["source endpoint with a trailing slash", { ...base, source: s3.at(src, "seed", { endpoint: `${endpoint}/` }) }],
  ];
  for (const [name, args] of variants) {
    const next = await s3.engine.up(await s3.register(args), deployed);
    assert.equal(next.step, "update", name);
    assert.deepEqual(await s3.versions(dst, "seed"), written, `${name}: nothing written`);
    assert.deepEqual([next.deployed.outputs.versionId, next.deployed.outputs.etag], [deployed.outputs.versionId, deployed.outputs.etag], name);
    assert.equal(next.deployed.id, deployed.id, name);
    deployed = next.deployed;
  }
  assert.match(s3.host.output(), /update writes nothing \(the destination is spelt differently \(the same object/);
  assert.equal((await s3.get(dst, "seed")).toString(), "payload");
  await s3.engine.destroy(deployed);
  assert.deepEqual(await s3.versions(dst, "seed"), [], "the spelling in the state at destroy still finds the object");
});

test("Azure: a trailing slash on accountUrl, and `account` with a connection string changed to the same account's accountUrl, write nothing and keep the blob", async () => {
  const p = azure.azurite.accounts.primary;
  const [src, dst] = [await azure.container(p), await azure.container(p)];
  await azure.put(p, src, "seed", "payload");
  const source = azure.at(p, src, "seed");
  const byName = { azureBlob: { account: p.name, container: dst, blob: "seed", credentials: { connectionString: p.connectionString } } };
  const first = await azure.engine.up(await azure.register({ source, destination: byName }));
  const etag = first.deployed.outputs.etag;
  let deployed = first.deployed;
  for (const [name, destination] of [
    ["the account's URL", azure.at(p, dst, "seed")],
    ["the URL with a trailing slash", { azureBlob: { ...azure.at(p, dst, "seed").azureBlob, accountUrl: `${p.url}/` } }],
  ] as const) {
    const next = await azure.engine.up(await azure.register({ source, destination }), deployed);
    assert.equal(next.step, "update", name);
    const props = await azure.service(p).getContainerClient(dst).getBlobClient("seed").getProperties();
    assert.equal(props.etag?.replace(/"/g, ""), etag, `${name}: the blob was not written again`);
    deployed = next.deployed;
  }
  await azure.engine.destroy(deployed);
  assert.equal(await azure.exists(p, dst, "seed"), false);
});

test("two names of one S3 server (127.0.0.1 and localhost), unversioned: the replace writes the copy, and the old resource's delete keeps it, since the object no longer holds its write", async () => {
  const [src, dst] = [await s3.bucket(), await s3.bucket()];
  await s3.put(src, "seed", "payload");
  const localhost = s3.server.endpoint.replace("127.0.0.1", "localhost");
  const first = await s3.engine.up(await s3.register({ source: s3.at(src, "seed"), destination: s3.at(dst, "seed") }));
  // S3 keeps Last-Modified to the second: the old write and the new must fall in different seconds to be told apart.
  await sleep(1100);
  // Both sides move to the other name: a server-side copy needs both on one service as spelt.
  const next = await s3.engine.up(await s3.register({ source: s3.at(src, "seed", { endpoint: localhost }), destination: s3.at(dst, "seed", { endpoint: localhost }) }), first.deployed);
  assert.equal(next.step, "replace", "no spelling rule can know that two host names are one server");
  assert.equal((await s3.get(dst, "seed")).toString(), "payload", "the object survived the replace");
  assert.match(s3.host.output(), /no longer holds what this resource wrote .*so it is kept/);
  await s3.engine.destroy(next.deployed);
  assert.equal(await s3.exists(dst, "seed"), false, "the resource that wrote it last removes it");
});

test("two names of one S3 server, versioned: the old resource's delete removes only its own version, and the replacement's stays current", async () => {
  const [src, dst] = [await s3.bucket(), await s3.bucket({ versioned: true })];
  await s3.put(src, "seed", "payload");
  const localhost = s3.server.endpoint.replace("127.0.0.1", "localhost");
  const first = await s3.engine.up(await s3.register({ source: s3.at(src, "seed"), destination: s3.at(dst, "seed") }));
  const next = await s3.engine.up(await s3.register({ source: s3.at(src, "seed", { endpoint: localhost }), destination: s3.at(dst, "seed", { endpoint: localhost }) }), first.deployed);
  assert.equal(next.step, "replace");
  assert.deepEqual(await s3.versions(dst, "seed"), [next.deployed.outputs.versionId]);
  assert.equal((await s3.get(dst, "seed")).toString(), "payload");
  await s3.engine.destroy(next.deployed);
  assert.deepEqual(await s3.versions(dst, "seed"), []);
});

test("two names of one Azure account (127.0.0.1 and localhost): the replace writes the copy, and the old delete keeps it (every Azure write has a new ETag)", async () => {
  const p = azure.azurite.accounts.primary;
  const [src, dst] = [await azure.container(p), await azure.container(p)];
  await azure.put(p, src, "seed", "payload");
  const localhost = azure.azurite.endpoint.replace("127.0.0.1", "localhost");
  const first = await azure.engine.up(await azure.register({ source: azure.at(p, src, "seed"), destination: azure.at(p, dst, "seed") }));
  const next = await azure.engine.up(await azure.register({ source: azure.at(p, src, "seed", {}, localhost), destination: azure.at(p, dst, "seed", {}, localhost) }), first.deployed);
  assert.equal(next.step, "replace");
  assert.equal((await azure.get(p, dst, "seed")).toString(), "payload", "the blob survived the replace");
  assert.match(azure.host.output(), /no longer holds what this resource wrote .*so it is kept/);
  await azure.engine.destroy(next.deployed);
  assert.equal(await azure.exists(p, dst, "seed"), false);
});

test("a different destination is still a replace that moves the copy: the new object is written, the old one removed", async () => {
  const [src, dst] = [await s3.bucket(), await s3.bucket()];
  await s3.put(src, "seed", "payload");
  const first = await s3.engine.up(await s3.register({ source: s3.at(src, "seed"), destination: s3.at(dst, "old") }));
  const next = await s3.engine.up(await s3.register({ source: s3.at(src, "seed"), destination: s3.at(dst, "new") }), first.deployed);
  assert.equal(next.step, "replace");
  assert.deepEqual([await s3.exists(dst, "old"), (await s3.get(dst, "new")).toString()], [false, "payload"]);
});
