// The package's run-time code on the lowest Node.js that package.json's `engines` claims (installed from the npm
// registry by scripts/lowest-node.cjs): Pulumi's provider host runs on it and copies S3 (single and multipart),
// Azure Blob and a stream, against moto and Azurite; and the unit tier, which runs the compiled stores and
// pipeline against fakes, passes on it too. The rest of the suites run on the project's Node 24.
import { after, before, diagnostic, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { startAzurite, blobService, type Azurite } from "../support/azurite.ts";
import { MiniEngine } from "../support/engine.ts";
import { ProviderHost } from "../support/providerHost.ts";
import { repoRoot, sha256, startS3Rig, type S3Rig } from "../support/s3rig.ts";

const MiB = 1024 * 1024;
let lowest: string;
let rig: S3Rig;
let azurite: Azurite;
let host: ProviderHost;
let engine: MiniEngine;

before(async () => {
  lowest = execFileSync(process.execPath, [path.join(repoRoot, "scripts", "lowest-node.cjs")], { encoding: "utf8" });
  rig = await startS3Rig();
  azurite = await startAzurite();
  const { primary } = azurite.accounts;
  host = await ProviderHost.start({
    cwd: repoRoot,
    node: lowest,
    env: {
      AWS_ACCESS_KEY_ID: rig.server.accessKeyId, AWS_SECRET_ACCESS_KEY: rig.server.secretAccessKey, AWS_REGION: rig.server.region,
      AWS_EC2_METADATA_DISABLED: "true", AZURE_STORAGE_ACCOUNT: primary.name, AZURE_STORAGE_KEY: primary.key,
    },
  });
  await host.configure();
  engine = new MiniEngine(host);
});
after(async () => {
  await host?.stop();
  await rig?.stop();
  await azurite?.stop();
});

test("the provider host runs on the lowest Node engines claims, and copies S3, multipart S3, Azure Blob and a stream", async () => {
  const engines = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")).engines.node as string;
  const version = execFileSync(lowest, ["-v"], { encoding: "utf8" }).trim();
  assert.equal(version.slice(1).split(".")[0], /\d+/.exec(engines)![0], `${version} is the lowest major of ${engines}`);
  diagnostic(`provider host on Node ${version} (engines ${engines})`);
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  const body = randomBytes(12 * MiB);
  await rig.put(src, "seed", body);
  const single = await engine.up(await rig.register({ source: rig.at(src, "seed"), destination: rig.at(dst, "single") }, undefined, "single"));
  const multi = await engine.up(await rig.register({ source: rig.at(src, "seed"), destination: rig.at(dst, "multi"), strategy: "multipart", partSizeBytes: 5 * MiB }, undefined, "multi"));
  for (const key of ["single", "multi"]) assert.equal(sha256(await rig.get(dst, key)), sha256(body), key);

  const { primary } = azurite.accounts;
  const [c1, c2] = [`c${randomBytes(5).toString("hex")}`, `c${randomBytes(5).toString("hex")}`];
  await blobService(primary).createContainer(c1);
  await blobService(primary).createContainer(c2);
  await blobService(primary).getContainerClient(c1).getBlockBlobClient("seed").uploadData(body);
  const blob = (container: string) => ({ azureBlob: { accountUrl: primary.url, container, blob: "seed" } });
  const copied = await engine.up(await rig.register({ source: blob(c1), destination: blob(c2) }, undefined, "blob"));
  assert.equal(sha256(await blobService(primary).getContainerClient(c2).getBlobClient("seed").downloadToBuffer()), sha256(body));
  const streamed = await engine.up(await rig.register({ source: blob(c1), destination: rig.at(dst, "streamed"), strategy: "stream" }, undefined, "stream"));
  assert.equal(sha256(await rig.get(dst, "streamed")), sha256(body));

  for (const deployed of [single.deployed, multi.deployed, copied.deployed, streamed.deployed]) await engine.destroy(deployed);
  assert.deepEqual(await Promise.all(["single", "multi", "streamed"].map((k) => rig.exists(dst, k))), [false, false, false]);
});

test("the unit tier passes on the lowest Node engines claims", () => {
  const run = spawnSync(lowest, [path.join(repoRoot, "node_modules/jest/bin/jest.js"), "--ci", "--selectProjects", "unit"], { cwd: repoRoot, encoding: "utf8" });
  const summary = /Tests:\s+(.*)/.exec(run.stderr)?.[1] ?? "no summary";
  diagnostic(`unit tier on ${execFileSync(lowest, ["-v"], { encoding: "utf8" }).trim()}: ${summary}`);
  assert.equal(run.status, 0, run.stderr.slice(-3000));
  assert.match(summary, /^\d+ passed, \d+ total$/);
});
