// `npm run demo`: the main job, end to end, on embedded local servers. Seeds a dev bucket from a
// prod snapshot with examples/seed-environment (a real Pulumi program), through Pulumi's real
// provider host, in the order `pulumi up`, `up` again, source change + `up`, `refresh`, `destroy`.
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { registerUnderMocks } from "../test/support/providerHost.ts";
import { repoRoot, sha256, startS3Rig, type S3Rig } from "../test/support/s3rig.ts";
import type { Deployed } from "../test/support/engine.ts";

const programDir = path.join(repoRoot, "examples", "seed-environment");
const step = (text: string) => console.log(`\n\u25b6 ${text}`);
const ok = (text: string) => console.log(`  \u2713 ${text}`);

function snapshot(generation: number): Buffer {
  const rows = Array.from({ length: 200_000 }, (_, i) => `INSERT INTO users VALUES (${i}, 'user${i}', ${generation});`);
  return gzipSync(rows.join("\n"));
}

async function registerProgram(config: Record<string, string>) {
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [`seed-environment:${k}`, v])));
  const regs = await registerUnderMocks(() => import(path.join(programDir, "index.ts")), { project: "seed-environment" });
  const reg = regs.find((r) => r.type.endsWith(":CopiedObject"));
  assert.ok(reg, "the program registers a CopiedObject");
  return reg;
}

function show(deployed: Deployed): void {
  const o = deployed.outputs;
  console.log(`  id          ${deployed.id}`);
  for (const key of ["etag", "versionId", "sourceEtag", "contentLength", "strategy", "copyStatus", "durationMs"]) {
    console.log(`  ${key.padEnd(14)}${o[key] === undefined ? "(undefined)" : String(o[key])}`);
  }
}

let rig: S3Rig | undefined;
let printed = 0;
const providerLog = () => {
  const lines = rig!.host.output().split("\n").slice(printed);
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

  console.log("\nDemo finished: create, no-op, update on source change, refresh and destroy all behaved.");
} catch (e) {
  console.error(`\nDemo FAILED: ${(e as Error).stack ?? e}`);
  if (rig) console.error(`provider output:\n${rig.host.output()}`);
  process.exitCode = 1;
} finally {
  await rig?.stop();
}
