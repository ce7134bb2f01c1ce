// With a Pulumi CLI on PATH, runs examples/seed-environment for real through the Automation API
// (a local file backend, moto as the S3 server). No CLI can be installed on CI's machine, so there
// this test is skipped with its reason; every other test drives the real provider host directly.
import { test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot, startS3Rig } from "../support/s3rig.ts";

function pulumiCli(): string | undefined {
  try {
    return execFileSync("pulumi", ["version"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

const version = pulumiCli();
test("pulumi up, up, destroy of examples/seed-environment through the Automation API", { skip: version ? false : "no `pulumi` CLI on PATH (it is a download, not an npm package); the provider-host tests cover the same calls" }, async () => {
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation/index.js");
  const rig = await startS3Rig();
  const backend = fs.mkdtempSync(path.join(os.tmpdir(), "copied-object-backend-"));
  try {
    const [prod, dev] = [await rig.bucket(), await rig.bucket()];
    await rig.put(prod, "db/seed.sql.gz", "snapshot");
    const stack = await LocalWorkspace.createOrSelectStack(
      { stackName: "ci", workDir: repoRoot },
      { envVars: { PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "ci", AWS_ACCESS_KEY_ID: rig.server.accessKeyId, AWS_SECRET_ACCESS_KEY: rig.server.secretAccessKey, AWS_REGION: rig.server.region } },
    );
    await stack.setAllConfig({ sourceBucket: { value: prod }, destinationBucket: { value: dev }, s3Endpoint: { value: rig.server.endpoint } });
    const up = await stack.up();
    assert.equal((await rig.get(dev, "seed.sql.gz")).toString(), "snapshot");
    assert.equal(up.outputs.etag.value, (await rig.head(dev, "seed.sql.gz")).ETag?.replace(/"/g, ""));
    assert.equal((await stack.preview()).changeSummary.same, 2);
    await stack.destroy();
    assert.equal(await rig.exists(dev, "seed.sql.gz"), false);
    await stack.workspace.removeStack("ci");
  } finally {
    fs.rmSync(backend, { recursive: true, force: true });
    await rig.stop();
  }
});
