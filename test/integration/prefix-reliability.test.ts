// CopiedPrefix when things go wrong, on S3 (moto) through Pulumi's real provider host: a host SIGKILLed mid-seed and
// the next up resuming, a run cut off by timeoutSeconds and resumed, objects that fail for good (named with their
// codes), and 20% transient faults. SIMULATION of the faults and delays: a proxy in front of moto
// (test/support/countingProxy.ts), as in s3-faults.test.ts; the kill is a real SIGKILL of the host's process group.
import { after, before, diagnostic, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import type http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { gunzipSync } from "node:zlib";
import { ListObjectVersionsCommand } from "@aws-sdk/client-s3";
import { CopiedPrefix, type CopiedPrefixArgs } from "pulumi-copied-object";
import { MiniEngine, type Deployed } from "../support/engine.ts";
import { HostCallError, ProviderHost, registerUnderMocks } from "../support/providerHost.ts";
import { startCountingProxy, type CountingProxy, type Fault } from "../support/countingProxy.ts";
import { repoRoot, startS3Rig, type S3Rig } from "../support/s3rig.ts";
import { FAULT_SEED, transientFaults } from "../support/seeded.ts";

let rig: S3Rig;
let proxy: CountingProxy;
let fault: ((req: http.IncomingMessage) => Fault | undefined) | undefined;
let delay: ((req: http.IncomingMessage) => number) | undefined;
before(async () => {
  rig = await startS3Rig();
  proxy = await startCountingProxy(rig.server.endpoint, {
    fault: (req) => fault?.(req),
    delayMs: (req) => ((copies += isCopy(req) ? 1 : 0), delay?.(req) ?? 0),
  });
});
after(async () => {
  await proxy?.close();
  await rig?.stop();
});

const MANIFEST = ".copied-prefix-manifest.json.gz";
const RUNNING = ".copied-prefix-running";
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const register = async (args: CopiedPrefixArgs) => (await registerUnderMocks(() => new CopiedPrefix("prefix", args)))[0];
const at = (bucket: string, prefix: string) => ({ s3: { bucket, prefix, endpoint: proxy.endpoint, forcePathStyle: true } });
const isCopy = (req: http.IncomingMessage) => req.method === "PUT" && !!req.headers["x-amz-copy-source"];
/** Copy requests seen by the proxy so far (counted where the delay is asked for, which is every request). */
let copies = 0;

async function seed(bucket: string, count: number): Promise<Map<string, Buffer>> {
  const objects = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) objects.set(`d${i % 5}/obj-${String(i).padStart(4, "0")}.bin`, randomBytes(32 + (i % 64)));
  const all = [...objects];
  for (let i = 0; i < all.length; i += 25) await Promise.all(all.slice(i, i + 25).map(([k, b]) => rig.put(bucket, `src/${k}`, b)));
  return objects;
}

/** Every version of every key in a bucket. */
async function versions(bucket: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  do {
    const page = await rig.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker, VersionIdMarker }));
    for (const v of page.Versions ?? []) out.set(v.Key!, [...(out.get(v.Key!) ?? []), v.VersionId!]);
    KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    VersionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (KeyMarker);
  return out;
}

/** The destination holds exactly the source's objects, each once (one version), and the manifest names each of them. */
async function assertExact(dst: string, objects: Map<string, Buffer>): Promise<void> {
  const held = await versions(dst);
  for (const [key, body] of objects) {
    assert.equal(held.get(`seed/${key}`)?.length, 1, `seed/${key} was written once`);
    assert.equal(sha(await rig.get(dst, `seed/${key}`)), sha(body), key);
  }
  assert.equal(held.has(`seed/${RUNNING}`), false, "the run mark is gone");
  assert.equal(await rig.uploads(dst), 0, "no multipart upload left");
  const lines = gunzipSync(await rig.get(dst, `seed/${MANIFEST}`)).toString().trim().split("\n").slice(1).map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.k).sort(), [...objects.keys()].sort(), "the manifest names every object");
  for (const l of lines) assert.deepEqual(l.dv, held.get(`seed/${l.k}`), `the manifest holds the one version of ${l.k}`);
}

async function failureOf(promise: Promise<unknown>): Promise<HostCallError> {
  const outcome = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(outcome instanceof HostCallError, `expected a failed call, got ${String(outcome)}`);
  return outcome;
}

test("crash: the host SIGKILLed mid-seed, then up resumes: finished objects are kept, not copied again; no duplicate version, no upload left; the manifest is exact", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket({ versioned: true })];
  const objects = await seed(src, 240);
  const args = { source: at(src, "src/"), destination: at(dst, "seed/"), concurrency: 4 };
  delay = (req) => (isCopy(req) ? 15 : 0);
  const reg = await register(args);
  const { accessKeyId, secretAccessKey, region } = rig.server;
  const env = { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: region, AWS_EC2_METADATA_DISABLED: "true" };
  const host = await ProviderHost.start({ cwd: repoRoot, env });
  try {
    await host.configure();
    const from = copies;
    const creating = host.create(reg, await new MiniEngine(host).check(reg)).then(() => "finished", () => "killed");
    while (copies - from < 80) await sleep(20);
    host.signalGroup("SIGKILL");
    await host.exited();
    assert.equal(await creating, "killed");
  } finally {
    await host.stop();
  }
  await sleep(500); // copies the proxy was still forwarding land
  const landed = [...(await versions(dst)).keys()].filter((k) => !k.includes(".copied-prefix"));
  assert.ok(landed.length >= 80 && landed.length < 240, `${landed.length} objects landed before the kill`);
  assert.equal(await rig.exists(dst, `seed/${RUNNING}`), true, "the killed run left its mark");

  // Pulumi runs create again for a create that never answered.
  const from = copies;
  const { deployed } = await rig.engine.up(reg);
  assert.deepEqual([deployed.outputs.objectCount, deployed.outputs.copyStatus], [240, "success"]);
  assert.equal(copies - from, 240 - landed.length, "only the objects that had not landed are copied");
  await assertExact(dst, objects);
  delay = undefined;
  await rig.engine.destroy(deployed);
});

test("SIGINT (Ctrl-C) to the host's process group mid-seed: copies stop and the host exits within 5 s; the next up copies only what had not landed", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket({ versioned: true })];
  const objects = await seed(src, 120);
  delay = (req) => (isCopy(req) ? 15 : 0);
  const reg = await register({ source: at(src, "src/"), destination: at(dst, "seed/"), concurrency: 4 });
  const { accessKeyId, secretAccessKey, region } = rig.server;
  const env = { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: region, AWS_EC2_METADATA_DISABLED: "true" };
  const host = await ProviderHost.start({ cwd: repoRoot, env });
  let failure: unknown;
  try {
    await host.configure();
    const from = copies;
    const creating = host.create(reg, await new MiniEngine(host).check(reg)).then(() => undefined, (e: unknown) => e);
    while (copies - from < 30) await sleep(20);
    const signalled = Date.now();
    host.signalGroup("SIGINT");
    await host.exited();
    const exitedAfter = Date.now() - signalled;
    diagnostic(`the host exited ${exitedAfter} ms after SIGINT`);
    assert.ok(exitedAfter < 5000, `exited after ${exitedAfter} ms`);
    failure = await creating;
  } finally {
    await host.stop();
  }
  const stopped = copies;
  await sleep(1000);
  assert.equal(copies, stopped, "no copy starts after the host is gone");
  assert.ok(failure instanceof HostCallError, "the create failed");
  const landed = [...(await versions(dst)).keys()].filter((k) => !k.includes(".copied-prefix")).length;
  assert.ok(landed > 0 && landed < 120, `${landed} landed`);
  // With a partial state the engine updates it; without one (the answer lost with the process) it creates again.
  const partial = (failure as HostCallError).partial;
  diagnostic(partial ? `a partial state came back: ${partial.properties.objectCount} objects recorded` : "no partial state came back");
  if (partial) assert.equal(partial.properties.copyStatus, "aborted");
  const previous: Deployed | undefined = partial && { reg, id: partial.id, inputs: reg.inputs, outputs: partial.properties };
  delay = undefined;
  const from = copies;
  const { deployed } = await rig.engine.up(reg, previous);
  assert.deepEqual([deployed.outputs.objectCount, deployed.outputs.copyStatus], [120, "success"]);
  assert.equal(copies - from, 120 - landed, "only the objects that had not landed are copied");
  await assertExact(dst, objects);
  await rig.engine.destroy(deployed);
});

test("timeout: a run cut off by timeoutSeconds fails as aborted with a partial state; the next up copies only the rest", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket({ versioned: true })];
  const objects = await seed(src, 60);
  delay = (req) => (isCopy(req) ? 100 : 0);
  try {
    const reg = await register({ source: at(src, "src/"), destination: at(dst, "seed/"), concurrency: 2, timeoutSeconds: 1 });
    const failure = await failureOf(rig.engine.up(reg));
    assert.match(failure.message, /Timeout|timed out|timeoutSeconds/i);
    const partial = failure.partial!;
    assert.equal(partial.properties.copyStatus, "aborted");
    const done = partial.properties.objectCount as number;
    assert.ok(done > 0 && done < 60, `${done} objects recorded as copied before the deadline`);
    delay = undefined;
    const previous: Deployed = { reg, id: partial.id, inputs: reg.inputs, outputs: partial.properties };
    const { deployed, step } = await rig.engine.up(await register({ source: at(src, "src/"), destination: at(dst, "seed/") }), previous);
    assert.equal(step, "update");
    assert.deepEqual([deployed.outputs.objectCount, deployed.outputs.copyStatus], [60, "success"]);
    assert.equal(deployed.outputs.copiedCount, 60 - done, "the finished ones are not copied again");
    await assertExact(dst, objects);
    await rig.engine.destroy(deployed);
  } finally {
    delay = undefined;
  }
});

test("simulated: objects that fail for good fail the run, named with their codes; the others are kept, and the next up copies only those", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  const objects = await seed(src, 30);
  const bad = ["d1/obj-0006.bin", "d2/obj-0012.bin", "d3/obj-0023.bin"];
  fault = (req) => (isCopy(req) && bad.some((k) => req.url?.split("?")[0].endsWith(`/seed/${k}`)) ? { status: 403, code: "AccessDenied" } : undefined);
  try {
    const reg = await register({ source: at(src, "src/"), destination: at(dst, "seed/") });
    const failure = await failureOf(rig.engine.up(reg));
    assert.match(failure.message, /3 object\(s\) failed \(27 copied, 0 unchanged\)/);
    for (const key of bad) assert.match(failure.message, new RegExp(`${key.replace(/[./]/g, "\\$&")} \\(AccessDenied`));
    assert.deepEqual([failure.partial?.properties.objectCount, failure.partial?.properties.copyStatus], [27, "failed"]);
    fault = undefined;
    const previous: Deployed = { reg, id: failure.partial!.id, inputs: reg.inputs, outputs: failure.partial!.properties };
    const { deployed } = await rig.engine.up(reg, previous);
    assert.deepEqual([deployed.outputs.copiedCount, deployed.outputs.skippedCount, deployed.outputs.objectCount], [3, 27, 30]);
    for (const [key, body] of objects) assert.equal(sha(await rig.get(dst, `seed/${key}`)), sha(body), key);
    await rig.engine.destroy(deployed);
  } finally {
    fault = undefined;
  }
});

test("simulated: with 20% of requests failing (503 SlowDown, 500, reset; seeded), a seed of 150 objects completes exactly", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket({ versioned: true })];
  const objects = await seed(src, 150);
  const transient = transientFaults([{ status: 503, code: "SlowDown" }, { status: 500, code: "InternalError" }, { reset: true }], FAULT_SEED);
  const before = proxy.faults.length;
  // At most two faults in a row for one request: transient, as the SDKs' retry budget (3 attempts) assumes.
  fault = transient;
  try {
    const { deployed } = await rig.engine.up(await register({ source: at(src, "src/"), destination: at(dst, "seed/") }));
    fault = undefined;
    diagnostic(`${proxy.faults.length - before} faults injected`);
    assert.ok(proxy.faults.length - before >= 20, "faults were injected");
    assert.deepEqual([deployed.outputs.objectCount, deployed.outputs.copiedCount, deployed.outputs.copyStatus], [150, 150, "success"]);
    await assertExact(dst, objects);
    await rig.engine.destroy(deployed);
  } finally {
    fault = undefined;
  }
});
