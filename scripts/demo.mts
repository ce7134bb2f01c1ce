// `npm run demo`: the main job, end to end, on embedded local servers. Seeds a dev bucket from a
// prod snapshot with examples/seed-environment (a real Pulumi program), through Pulumi's real
// provider host, in the order `pulumi up`, `up` again, source change + `up`, `refresh`, `destroy`.
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { registerUnderMocks } from "../test/support/providerHost.ts";
import { repoRoot, sha256, startS3Rig, type S3Rig } from "../test/support/s3rig.ts";
import { startAzureRig, type AzureRig } from "../test/support/azureRig.ts";
import { startAzureCopyProxy } from "../test/support/azureCopyProxy.ts";
import type { Deployed } from "../test/support/engine.ts";

const programDir = path.join(repoRoot, "examples", "seed-environment");
const step = (text: string) => console.log(`\n\u25b6 ${text}`);
const ok = (text: string) => console.log(`  \u2713 ${text}`);

function snapshot(generation: number): Buffer {
  const rows = Array.from({ length: 200_000 }, (_, i) => `INSERT INTO users VALUES (${i}, 'user${i}', ${generation});`);
  return gzipSync(rows.join("\n"));
}

async function registerProgram(config: Record<string, string>, project = "seed-environment") {
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [`${project}:${k}`, v])));
  const regs = await registerUnderMocks(() => import(path.join(repoRoot, "examples", project, "index.ts")), { project });
  const reg = regs.find((r) => r.type.endsWith(":CopiedObject"));
  assert.ok(reg, "the program registers a CopiedObject");
  return reg;
}

function show(deployed: Deployed): void {
  const o = deployed.outputs;
  console.log(`  ${"id".padEnd(14)}${deployed.id}`);
  for (const key of ["etag", "versionId", "sourceEtag", "contentLength", "strategy", "copyId", "copyStatus", "durationMs"]) {
    if (key === "copyId" && o[key] === undefined) continue;
    console.log(`  ${key.padEnd(14)}${o[key] === undefined ? "(undefined)" : String(o[key])}`);
  }
}

let rig: S3Rig | undefined;
let azure: AzureRig | undefined;
let printed = 0;
const providerLog = (host = rig!.host) => {
  const lines = host.output().split("\n").slice(printed);
  printed += lines.length - 1;
  for (const line of lines) if (line.trim()) console.log(`  provider: ${line.replace(/^info: \[runtime\] /, "")}`);
};

try {
  step("Starting a local S3 server (moto) and Pulumi's dynamic-provider host");
  rig = await startS3Rig({ cwd: programDir });
  printed = rig.host.output().split("\n").length - 1;
  const prod = await rig.bucket({ versioned: true });
  const dev = await rig.bucket({ versioned: true });
  const first = snapshot(1);
  await rig.put(prod, "db/seed.sql.gz", first, { ContentType: "application/gzip", Metadata: { snapshot: "2026-11-20" } });
  ok(`${rig.server.kind} at ${rig.server.endpoint}; s3://${prod}/db/seed.sql.gz holds a ${(first.length / 1024 / 1024).toFixed(1)} MiB snapshot`);

  const reg = await registerProgram({ sourceBucket: prod, destinationBucket: dev, s3Endpoint: rig.server.endpoint });
  ok(`examples/seed-environment registered ${reg.type} "${reg.name}"; its serialized provider is ${String(reg.inputs.__provider).length} bytes`);

  step("pulumi up: create");
  let { deployed, step: taken } = await rig.engine.up(reg);
  assert.equal(taken, "create");
  providerLog();
  show(deployed);
  assert.equal(sha256(await rig.get(dev, "seed.sql.gz")), sha256(first));
  assert.deepEqual((await rig.head(dev, "seed.sql.gz")).Metadata, { team: "data", seededby: "pulumi-copied-object" });
  ok("the dev copy has the snapshot's bytes (sha256 compared) and the program's metadata");

  step("pulumi up again, nothing changed");
  ({ step: taken } = await rig.engine.up(reg, deployed));
  assert.equal(taken, "same");
  ok("no changes: the source's ETag still matches the one copied");

  step("A new prod snapshot is published; pulumi up");
  const second = snapshot(2);
  await rig.put(prod, "db/seed.sql.gz", second, { ContentType: "application/gzip" });
  ({ deployed, step: taken } = await rig.engine.up(reg, deployed));
  providerLog();
  assert.equal(taken, "update");
  show(deployed);
  assert.equal(sha256(await rig.get(dev, "seed.sql.gz")), sha256(second));
  ok("re-copied in place: the dev copy now has the new snapshot's bytes");

  step("pulumi refresh");
  const refreshed = await rig.engine.refresh(deployed);
  assert.ok(refreshed && !refreshed.outputs.destinationDrift);
  ok(`the destination still holds version ${String(refreshed.outputs.versionId)}, written by this stack`);

  step("pulumi destroy");
  await rig.engine.destroy(refreshed);
  providerLog();
  assert.deepEqual(await rig.versions(dev, "seed.sql.gz"), []);
  assert.equal(await rig.exists(prod, "db/seed.sql.gz"), true);
  ok("both versions this stack wrote are gone; the prod snapshot is untouched");

  await rig.stop();
  rig = undefined;

  step("Starting Azurite (two storage accounts) and a fresh provider host");
  azure = await startAzureRig();
  printed = azure.host.output().split("\n").length - 1;
  const web = azure.azurite.accounts.primary;
  const site = await azure.container(web);
  await azure.put(web, site, "index.html", "<h1>release 41: good</h1>", { contentType: "text/html" });
  const goodSnapshot = (await azure.service(web).getContainerClient(site).getBlobClient("index.html").createSnapshot()).snapshot!;
  await azure.put(web, site, "index.html", "<h1>release 42: broken</h1>", { contentType: "text/html" });
  ok(`azure://${web.name}/${site}/index.html serves release 42; snapshot ${goodSnapshot} holds release 41`);

  step("pulumi up of examples/promote-snapshot: roll the site back to the snapshot");
  const promote = await registerProgram({ accountUrl: web.url, container: site, snapshot: goodSnapshot }, "promote-snapshot");
  const promoted = await azure.engine.up(promote);
  providerLog(azure.host);
  show(promoted.deployed);
  assert.equal((await azure.get(web, site, "index.html")).toString(), "<h1>release 41: good</h1>");
  ok("the base blob serves the snapshot's content again (async Copy Blob, waited for)");
  assert.equal(await azure.engine.destroy(promoted.deployed), false);
  assert.equal((await azure.get(web, site, "index.html")).toString(), "<h1>release 41: good</h1>");
  ok("pulumi destroy: retainOnDelete keeps the promoted blob, which the stack does not own");

  step("Simulated: a copy Azure reports as pending (a scripted proxy in front of Azurite)");
  const proxy = await startAzureCopyProxy(azure.azurite.endpoint);
  try {
    const [src, dst] = [await azure.container(web), await azure.container(web)];
    await azure.put(web, src, "db.bak", Buffer.alloc(2 * 1024 * 1024, 7));
    proxy.arm(`/${web.name}/${dst}/db.bak`, { pendingPolls: 5, final: "success", totalBytes: 2 * 1024 * 1024 });
    const started = Date.now();
    const slow = await azure.engine.up(await azure.register({ source: azure.at(web, src, "db.bak", {}, proxy.endpoint), destination: azure.at(web, dst, "db.bak", {}, proxy.endpoint) }, undefined, "pending"));
    providerLog(azure.host);
    const polls = proxy.requests.filter((r) => r.method === "HEAD" && r.path === `/${web.name}/${dst}/db.bak`).length;
    ok(`pending through 5 status checks, then success: ${polls} status requests in ${((Date.now() - started) / 1000).toFixed(1)} s, copy ${String(slow.deployed.outputs.copyId)}`);
    await azure.engine.destroy(slow.deployed);
  } finally {
    await proxy.close();
  }

  console.log("\nDemo finished: S3 create, no-op, update on source change, refresh and destroy; Azure snapshot promotion and a pending copy waited for.");
} catch (e) {
  console.error(`\nDemo FAILED: ${(e as Error).stack ?? e}`);
  const host = rig?.host ?? azure?.host;
  if (host) console.error(`provider output:\n${host.output()}`);
  process.exitCode = 1;
} finally {
  await rig?.stop();
  await azure?.stop();
}
