// `npm run demo`: the main job, end to end, on embedded local servers. examples/seed-environment (a real Pulumi
// program) creates a dev bucket and seeds it from a prod snapshot, through Pulumi's real provider host, in the order
// `pulumi up`, `up` again, source change + `up`, `refresh`, `destroy`. No Pulumi CLI runs here: the program runs under
// Pulumi's mocks, which play @pulumi/aws and @pulumi/azure-native by creating the bucket on moto and the container on
// Azurite, as the real providers would in the cloud; the CopiedObject it registers then goes through the provider host.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { CreateBucketCommand, DeleteBucketCommand, PutBucketVersioningCommand } from "@aws-sdk/client-s3";
import * as pulumi from "@pulumi/pulumi";
import { loadProgram } from "../test/support/programLoader.ts";
import { ProviderHost, registerUnderMocks, type Registration } from "../test/support/providerHost.ts";
import { repoRoot, sha256, startS3Rig, type S3Rig } from "../test/support/s3rig.ts";
import { startAzureRig, type AzureRig } from "../test/support/azureRig.ts";
import { blobService, type AzuriteAccount } from "../test/support/azurite.ts";
import { startAzureCopyProxy } from "../test/support/azureCopyProxy.ts";
import { MiniEngine, type Deployed } from "../test/support/engine.ts";

const programDir = (project: string) => path.join(repoRoot, "examples", project);
const step = (text: string) => console.log(`\n\u25b6 ${text}`);
const ok = (text: string) => console.log(`  \u2713 ${text}`);
type Props = Record<string, unknown>;

function snapshot(generation: number): Buffer {
  const rows = Array.from({ length: 200_000 }, (_, i) => `INSERT INTO users VALUES (${i}, 'user${i}', ${generation});`);
  return gzipSync(rows.join("\n"));
}

/** Runs examples/<project> with `config` as `pulumi up` would, the mocks playing the cloud providers. */
async function runProgram(project: string, config: Record<string, string>, mocks: pulumi.runtime.Mocks): Promise<Registration[]> {
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [`${project}:${k}`, v])));
  return registerUnderMocks(() => loadProgram(programDir(project)), { project, mocks });
}

const only = (regs: Registration[], type: string): Registration => {
  const found = regs.filter((r) => r.type.endsWith(type));
  assert.equal(found.length, 1, `one ${type} among ${regs.map((r) => r.type).join(", ")}`);
  return found[0];
};

/**
 * @pulumi/aws on moto: the bucket is created there, under a generated name as Pulumi names it, and versioning is
 * turned on there; the state carries the bucket's name and region, which the program's copy reads.
 */
function awsOnMoto(rig: S3Rig): pulumi.runtime.Mocks {
  return {
    async newResource(a) {
      if (a.type === "aws:s3/bucket:Bucket") {
        const bucket = `${a.name}-${randomBytes(4).toString("hex")}`;
        await rig.s3.send(new CreateBucketCommand({ Bucket: bucket }));
        return { id: bucket, state: { ...a.inputs, bucket, region: rig.server.region, arn: `arn:aws:s3:::${bucket}` } };
      }
      if (a.type === "aws:s3/bucketVersioning:BucketVersioning") {
        const { bucket, versioningConfiguration } = a.inputs as { bucket: string; versioningConfiguration: { status: "Enabled" | "Suspended" } };
        await rig.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: versioningConfiguration.status } }));
        return { id: bucket, state: a.inputs };
      }
      return { id: `${a.name}-id`, state: a.inputs }; // the CopiedObject: the provider host runs it next
    },
    call: (a) => Promise.reject(new Error(`the demo's mocks have no ${a.token}`)),
  };
}

/**
 * @pulumi/azure-native on Azurite: Azurite's account stands in for the storage account, and the container is created
 * there. The stack's state is kept across runs, as the engine keeps it: a resource keeps its name.
 */
function azureOnAzurite(account: AzuriteAccount): pulumi.runtime.Mocks {
  const state = new Map<string, Props>();
  return {
    async newResource(a) {
      const key = `${a.type}::${a.name}`;
      if (!state.has(key)) {
        if (a.type === "azure-native:resources:ResourceGroup") state.set(key, { ...a.inputs, name: `${a.name}-rg` });
        else if (a.type === "azure-native:storage:StorageAccount") state.set(key, { ...a.inputs, name: account.name });
        else if (a.type === "azure-native:storage:BlobContainer") {
          const name = String(a.inputs.containerName ?? `${a.name}-${randomBytes(4).toString("hex")}`);
          await blobService(account).createContainer(name);
          state.set(key, { ...a.inputs, name });
        } else return { id: `${a.name}-id`, state: a.inputs };
      }
      return { id: String(state.get(key)!.name), state: state.get(key)! };
    },
    call: (a) => Promise.reject(new Error(`the demo's mocks have no ${a.token}`)),
  };
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
let siteHost: ProviderHost | undefined;
const printed = new Map<ProviderHost, number>();
/** What the host logged since the last call, for that host. */
const providerLog = (host: ProviderHost) => {
  const lines = host.output().split("\n");
  const from = printed.get(host) ?? 0;
  printed.set(host, lines.length - 1);
  for (const line of lines.slice(from)) if (line.trim()) console.log(`  provider: ${line.replace(/^info: \[runtime\] /, "")}`);
};
const skipLog = (host: ProviderHost) => void printed.set(host, host.output().split("\n").length - 1);

try {
  step("Starting a local S3 server (moto) and Pulumi's dynamic-provider host");
  rig = await startS3Rig({ cwd: programDir("seed-environment") });
  skipLog(rig.host);
  const prod = await rig.bucket({ versioned: true });
  const first = snapshot(1);
  await rig.put(prod, "db/seed.sql.gz", first, { ContentType: "application/gzip", Metadata: { snapshot: "2026-11-20" } });
  ok(`${rig.server.kind} at ${rig.server.endpoint}; s3://${prod}/db/seed.sql.gz holds a ${(first.length / 1024 / 1024).toFixed(1)} MiB snapshot`);

  step("examples/seed-environment runs: its bucket is created on moto, and its copy registered");
  const regs = await runProgram("seed-environment", { sourceBucket: prod, s3Endpoint: rig.server.endpoint }, awsOnMoto(rig));
  const bucketReg = only(regs, "aws:s3/bucket:Bucket");
  const versioningReg = only(regs, "aws:s3/bucketVersioning:BucketVersioning");
  const reg = only(regs, ":CopiedObject");
  const destination = (reg.inputs.destination as { s3: { bucket: string; region?: string } }).s3;
  const dev = destination.bucket;
  assert.equal(destination.region, rig.server.region, "the copy takes the bucket's region from the bucket");
  assert.ok(reg.dependencies.includes(bucketReg.urn) && reg.dependencies.includes(versioningReg.urn), "the copy waits for the bucket and its versioning");
  assert.deepEqual(await rig.versions(dev, "seed.sql.gz"), [], "the new bucket is empty");
  ok(`aws.s3.Bucket "${bucketReg.name}" is s3://${dev} (${destination.region}), versioned; ${reg.type.split(":").pop()} "${reg.name}" depends on both`);
  ok(`its serialized provider is ${String(reg.inputs.__provider).length} bytes`);

  step("pulumi up: create");
  let { deployed, step: taken } = await rig.engine.up(reg);
  assert.equal(taken, "create");
  providerLog(rig.host);
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
  providerLog(rig.host);
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
  providerLog(rig.host);
  assert.deepEqual(await rig.versions(dev, "seed.sql.gz"), []);
  assert.equal(await rig.exists(prod, "db/seed.sql.gz"), true);
  ok("both versions this stack wrote are gone; the prod snapshot is untouched");
  await rig.s3.send(new DeleteBucketCommand({ Bucket: dev }));
  ok(`then @pulumi/aws deletes s3://${dev}, without forceDestroy: the copy left nothing in it`);

  await rig.stop();
  rig = undefined;

  step("Starting Azurite (two storage accounts) and fresh provider hosts");
  azure = await startAzureRig();
  skipLog(azure.host);
  const web = azure.azurite.accounts.primary;
  // Account names resolve to *.blob.core.windows.net; a connection string naming the account points it at Azurite.
  siteHost = await ProviderHost.start({ cwd: programDir("promote-snapshot"), env: { AZURE_STORAGE_CONNECTION_STRING: web.connectionString } });
  await siteHost.configure();
  skipLog(siteHost);
  const site = new MiniEngine(siteHost);
  ok(`Azurite at ${azure.azurite.endpoint}; the program's storage account is played by ${web.name}`);

  step("pulumi up of examples/promote-snapshot: the site's resource group, storage account and container");
  const azureMocks = azureOnAzurite(web);
  const idle = await runProgram("promote-snapshot", {}, azureMocks);
  assert.equal(idle.filter((r) => r.type.endsWith(":CopiedObject")).length, 0, "no rollback until rollbackTo is set");
  const container = String(only(idle, "storage:BlobContainer").inputs.containerName);
  assert.ok(await blobService(web).getContainerClient(container).exists(), "the container exists on Azurite");
  ok(`container "${container}" created in ${web.name}; nothing to promote yet`);

  step("CI publishes release 41, snapshots it, then publishes release 42");
  await azure.put(web, container, "index.html", "<h1>release 41: good</h1>", { contentType: "text/html" });
  const goodSnapshot = (await azure.service(web).getContainerClient(container).getBlobClient("index.html").createSnapshot()).snapshot!;
  await azure.put(web, container, "index.html", "<h1>release 42: broken</h1>", { contentType: "text/html" });
  ok(`azure://${web.name}/${container}/index.html serves release 42; snapshot ${goodSnapshot} holds release 41`);

  step("pulumi config set rollbackTo <snapshot>; pulumi up: roll the site back");
  const rollbackRegs = await runProgram("promote-snapshot", { rollbackTo: goodSnapshot }, azureMocks);
  const promote = only(rollbackRegs, ":CopiedObject");
  const containerReg = only(rollbackRegs, "storage:BlobContainer");
  assert.ok(promote.dependencies.includes(containerReg.urn), "the rollback waits for the container");
  assert.deepEqual(promote.inputs.destination, { azureBlob: { account: web.name, container, blob: "index.html" } });
  const promoted = await site.up(promote);
  providerLog(siteHost);
  show(promoted.deployed);
  assert.equal((await azure.get(web, container, "index.html")).toString(), "<h1>release 41: good</h1>");
  ok("the base blob serves the snapshot's content again (async Copy Blob, waited for)");
  assert.equal(await site.destroy(promoted.deployed), false);
  assert.equal((await azure.get(web, container, "index.html")).toString(), "<h1>release 41: good</h1>");
  ok("pulumi destroy: retainOnDelete keeps the promoted blob, which CI owns, not the stack");

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

  console.log(
    "\nDemo finished: a bucket created and seeded, no-op, update on source change, refresh and destroy; " +
      "a container created and a snapshot promoted in it; a pending Azure copy waited for.",
  );
} catch (e) {
  console.error(`\nDemo FAILED: ${(e as Error).stack ?? e}`);
  for (const host of [rig?.host, siteHost, azure?.host]) if (host) console.error(`provider output:\n${host.output()}`);
  process.exitCode = 1;
} finally {
  await rig?.stop();
  await siteHost?.stop();
  await azure?.stop();
}
