// The example programs run as `pulumi up` and `pulumi preview` run them, under Pulumi's mocks (no CLI, no plugin):
// the mocks play @pulumi/aws and @pulumi/azure-native (a bucket gets a name and a region, an account and a container
// a name, listStorageAccountKeys a key). Each test asserts what the program's CopiedObject registers (the names and
// region it takes from those resources) and what it waits for (its dependencies). In preview the mocks leave every
// computed output out, so the copy's inputs carry the engine's unknown sentinel; they go to the Check of Pulumi's real
// provider host, which must pass them without a request to any server: every endpoint a side can name points at a
// listener that counts connections.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { ACCOUNT_KEY, REGION, type FakeCloud } from "../support/fakeCloud.ts";
import { ProviderHost, type Registration } from "../support/providerHost.ts";
import type { ProgramRun } from "../support/runProgram.ts";
import { repoRoot } from "../support/s3rig.ts";

/** The engine's placeholder for a value unknown during preview (src/checks.ts). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

type Props = Record<string, unknown>;

/**
 * Runs examples/<example> as its own project with `config`, under the fake cloud (test/support/fakeCloud.ts), in a
 * plain Node process as `pulumi up` (or `preview`) runs a program: test/support/runProgram.ts.
 */
async function run(example: string, config: Record<string, string>, preview = false) {
  const request: ProgramRun = { program: path.join(repoRoot, "examples", example), project: example, config, preview };
  const script = path.join(repoRoot, "test", "support", "runProgram.ts");
  const out = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ["--disable-warning=MODULE_TYPELESS_PACKAGE_JSON", script],
      { cwd: repoRoot, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => (error ? reject(new Error(`${example} under mocks failed: ${stderr || error.message}`)) : resolve(stdout)),
    );
    child.stdin!.end(JSON.stringify(request));
  });
  const { registrations: regs, states, calls } = JSON.parse(out) as { registrations: Registration[] } & Pick<FakeCloud, "states" | "calls">;
  /** A resource's output as the fake cloud answered it. */
  const output = (reg: Registration, field = "name"): string => {
    const value = states[`${reg.type}::${reg.name}`]?.[field];
    assert.ok(typeof value === "string" && value !== "", `the mocks gave ${reg.type} ${reg.name} a ${field}`);
    return value;
  };
  return { regs, calls, output };
}

const one = (regs: Registration[], type: string, name?: string): Registration => {
  const found = regs.filter((r) => r.type === type && (name === undefined || r.name === name));
  assert.equal(found.length, 1, `one ${type} ${name ?? ""} among ${regs.map((r) => `${r.type} ${r.name}`).join(", ")}`);
  return found[0];
};
const copyNamed = (regs: Registration[], name: string) => one(regs, "pulumi-nodejs:dynamic/pulumi-copied-object:CopiedObject", name);
const copies = (regs: Registration[]) => regs.filter((r) => r.type.endsWith(":CopiedObject"));

/** The dependencies a CopiedObject must have on a resource: overall, and through the input that names it. */
function assertWaitsFor(copy: Registration, resource: Registration, input: "source" | "destination" | "destinationCredentials"): void {
  assert.ok(copy.dependencies.includes(resource.urn), `${copy.name} depends on ${resource.urn}: ${copy.dependencies.join(", ")}`);
  assert.ok(copy.propertyDependencies[input]?.includes(resource.urn), `${copy.name}.${input} depends on ${resource.urn}`);
}

/** Every path of `value` whose string holds `needle`, in Registration.secretPaths' form. */
function pathsHolding(value: unknown, needle: string, at = ""): string[] {
  if (typeof value === "string") return value.includes(needle) ? [at] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => pathsHolding(v, needle, `${at}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => pathsHolding(v, needle, at ? `${at}.${k}` : k));
  return [];
}
const under = (p: string, secret: string) => p === secret || p.startsWith(`${secret}.`) || p.startsWith(`${secret}[`);

// One provider host checks what every example registers. Every endpoint a side can name is the counting listener:
// the stack's aws:endpoints (S3 sides without one of their own), s3Endpoint, and a connection string for the one
// Azure account named in config. Account names only known after deployment are unknown in preview, and name nothing.
let host: ProviderHost;
let listener: net.Server;
let connections = 0;
let endpoint = "";

before(async () => {
  listener = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(listener.address() as net.AddressInfo).port}`;
  // The count is the evidence: make sure it counts.
  await fetch(endpoint).catch(() => undefined);
  assert.equal(connections, 1, "the listener counts a connection");
  host = await ProviderHost.start({
    cwd: path.join(repoRoot, "examples", "seed-environment"),
    env: {
      AWS_ACCESS_KEY_ID: "AKIDEXAMPLEPROGRAMS1",
      AWS_SECRET_ACCESS_KEY: "example-programs-secret-value",
      AWS_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_CONFIG_FILE: "/dev/null",
      AZURE_STORAGE_CONNECTION_STRING:
        `DefaultEndpointsProtocol=http;AccountName=nightlybackups;AccountKey=${ACCOUNT_KEY};BlobEndpoint=${endpoint}/nightlybackups;`,
      AZURE_STORAGE_ACCOUNT: undefined,
      AZURE_STORAGE_KEY: undefined,
    },
  });
  await host.configure({ "aws:endpoints": JSON.stringify([{ s3: endpoint }]) });
});
after(async () => {
  await host?.stop();
  await new Promise((resolve) => listener?.close(resolve));
});

/** The host's Check of what a copy registered: it must pass, send nothing anywhere, and keep unknowns unknown. */
async function checkPasses(copy: Registration): Promise<Props> {
  const before = connections;
  const { inputs, failures } = await host.check(copy, {}, copy.inputs);
  assert.deepEqual(failures, [], `${copy.name} passes check`);
  assert.equal(connections - before, 0, `${copy.name}'s check reached no server`);
  return inputs;
}

test("seed-environment: the copy lands in the bucket the program creates, in that bucket's region, after its versioning", async () => {
  const { regs, output } = await run("seed-environment", { sourceBucket: "prod-seeds", s3Endpoint: endpoint });
  const bucket = one(regs, "aws:s3/bucket:Bucket");
  const versioning = one(regs, "aws:s3/bucketVersioning:BucketVersioning");
  const seed = copyNamed(regs, "seed");
  assert.match(output(bucket, "bucket"), /^dev-seeds-[0-9a-f]{6}$/);
  assert.deepEqual(versioning.inputs, { bucket: output(bucket, "bucket"), versioningConfiguration: { status: "Enabled" } });
  assert.deepEqual(seed.inputs.source, { s3: { bucket: "prod-seeds", key: "db/seed.sql.gz", endpoint } });
  assert.deepEqual(seed.inputs.destination, { s3: { bucket: output(bucket, "bucket"), key: "seed.sql.gz", region: REGION, endpoint } });
  assert.deepEqual(seed.inputs.metadata, { team: "data", seededBy: "pulumi-copied-object" });
  assert.equal(seed.inputs.timeoutSeconds, 1800);
  assertWaitsFor(seed, bucket, "destination");
  assert.ok(seed.dependencies.includes(versioning.urn), "dependsOn: the copy waits for versioning, so the first seed has a version id");
  assert.equal(seed.retainOnDelete, false, "destroy removes the seed: the stack owns the bucket");
  await checkPasses(seed);
});

test("seed-environment: s3Endpoint as Pulumi.yaml's default (\"\") means AWS, with no endpoint on either side", async () => {
  const { regs } = await run("seed-environment", { sourceBucket: "prod-seeds", sourceKey: "nightly/2026-11-20.sql.gz", s3Endpoint: "" });
  const seed = copyNamed(regs, "seed");
  assert.deepEqual(seed.inputs.source, { s3: { bucket: "prod-seeds", key: "nightly/2026-11-20.sql.gz" } });
  assert.equal((seed.inputs.destination as { s3: Props }).s3.endpoint, undefined);
  await checkPasses(seed);
});

test("promote-version: both sides are the site's bucket, read (not managed) with Bucket.get, in its region; retainOnDelete is opt-in", async () => {
  const { regs } = await run("promote-version", { bucket: "www-example-site", goodVersionId: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY" });
  const site = one(regs, "aws:s3/bucket:Bucket");
  assert.equal(site.readId, "www-example-site", "the bucket is read by its name, never registered as the stack's");
  const rollback = copyNamed(regs, "rollback");
  const at = { bucket: "www-example-site", key: "index.html", region: REGION };
  assert.deepEqual(rollback.inputs.source, { s3: { ...at, versionId: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY" } });
  assert.deepEqual(rollback.inputs.destination, { s3: at });
  assertWaitsFor(rollback, site, "source");
  assertWaitsFor(rollback, site, "destination");
  assert.equal(rollback.retainOnDelete, false, "destroy removes the promoted version, so the release's page comes back");
  await checkPasses(rollback);

  const kept = await run("promote-version", { bucket: "www-example-site", goodVersionId: "v1", key: "app.js", keepOnDestroy: "true" });
  const keptRollback = copyNamed(kept.regs, "rollback");
  assert.equal(keptRollback.retainOnDelete, true);
  assert.equal((keptRollback.inputs.destination as { s3: Props }).s3.key, "app.js");
});

test("promote-snapshot: the stack declares the site's account and container; rollbackTo promotes that snapshot, kept on destroy", async () => {
  const idle = await run("promote-snapshot", {});
  assert.deepEqual(copies(idle.regs), [], "no rollback until rollbackTo is set");
  one(idle.regs, "azure-native:storage:BlobContainer");

  const { regs, calls, output } = await run("promote-snapshot", { rollbackTo: "2026-11-20T08:00:00.0000000Z" });
  const group = one(regs, "azure-native:resources:ResourceGroup");
  const account = one(regs, "azure-native:storage:StorageAccount");
  const container = one(regs, "azure-native:storage:BlobContainer");
  assert.equal(account.inputs.resourceGroupName, output(group));
  assert.equal(account.inputs.allowBlobPublicAccess, false);
  assert.deepEqual([container.inputs.accountName, container.inputs.containerName], [output(account), "site"]);
  const rollback = copyNamed(regs, "rollback");
  const page = { account: output(account), container: "site", blob: "index.html" };
  assert.deepEqual(rollback.inputs.source, { azureBlob: { ...page, snapshot: "2026-11-20T08:00:00.0000000Z" } });
  assert.deepEqual(rollback.inputs.destination, { azureBlob: page });
  assert.equal(rollback.inputs.sourceCredentials, undefined, "identity: no key is listed or stored");
  assert.equal(rollback.inputs.destinationCredentials, undefined);
  assert.deepEqual(calls, [], "no listStorageAccountKeys");
  assertWaitsFor(rollback, account, "destination");
  assertWaitsFor(rollback, container, "destination");
  assert.equal(rollback.retainOnDelete, true, "CI owns the live blob: destroy must not delete the page");
  await checkPasses(rollback);
});

test("cross-cloud: S3 into the stack's container with the listed key, secret at every step; Azure to the stack's bucket, streamed", async () => {
  const config = { release: "1.4.2", artifactBucket: "release-artifacts", artifactRegion: "us-west-2", backupAccount: "nightlybackups" };
  const { regs, calls, output } = await run("cross-cloud", config);
  const group = one(regs, "azure-native:resources:ResourceGroup");
  const account = one(regs, "azure-native:storage:StorageAccount");
  const container = one(regs, "azure-native:storage:BlobContainer");
  const bucket = one(regs, "aws:s3/bucket:Bucket");

  const toAzure = copyNamed(regs, "artifact-to-azure");
  assert.deepEqual(toAzure.inputs.source, { s3: { bucket: "release-artifacts", key: "releases/app-1.4.2.tar.gz", region: "us-west-2" } });
  assert.deepEqual(toAzure.inputs.destination, { azureBlob: { account: output(account), container: output(container), blob: "app-1.4.2.tar.gz" } });
  assert.deepEqual(toAzure.inputs.destinationCredentials, { accountKey: ACCOUNT_KEY });
  assert.deepEqual(
    calls.map((c) => [c.token, c.inputs]),
    [["azure-native:storage:listStorageAccountKeys", { accountName: output(account), resourceGroupName: output(group) }]],
  );
  assertWaitsFor(toAzure, account, "destination");
  assertWaitsFor(toAzure, container, "destination");
  assertWaitsFor(toAzure, account, "destinationCredentials");
  // The key reaches the provider only inside inputs registered secret, so the engine encrypts it in the state.
  const holding = pathsHolding(toAzure.inputs, ACCOUNT_KEY);
  assert.deepEqual(holding, ["destinationCredentials.accountKey"]);
  for (const p of holding) assert.ok(toAzure.secretPaths.some((s) => under(p, s)), `${p} is under a secret path (${toAzure.secretPaths.join(", ")})`);
  assert.ok(toAzure.additionalSecretOutputs.includes("destinationCredentials"), "and stays secret in the outputs");
  await checkPasses(toAzure);

  const toS3 = copyNamed(regs, "backup-to-s3");
  assert.deepEqual(toS3.inputs.source, { azureBlob: { account: "nightlybackups", container: "backups", blob: "db/nightly.bak" } });
  assert.deepEqual(toS3.inputs.destination, { s3: { bucket: output(bucket, "bucket"), key: "nightly.bak", region: REGION } });
  assert.equal(toS3.inputs.strategy, "stream");
  assert.deepEqual([toS3.inputs.partSizeBytes, toS3.inputs.concurrency], [16 * 1024 * 1024, 4]);
  assertWaitsFor(toS3, bucket, "destination");
  assert.deepEqual(pathsHolding(toS3.inputs, ACCOUNT_KEY), [], "the backup side uses the stack's identity: no key");
  await checkPasses(toS3);
});

// Preview: the mocks leave every computed output out, as for resources not created yet (a read's too, the worst case).
const PREVIEWS: Array<{ example: string; config: Record<string, string>; unknown: Array<[copy: string, path: string]> }> = [
  {
    example: "seed-environment",
    config: { sourceBucket: "prod-seeds", s3Endpoint: "{endpoint}" },
    unknown: [["seed", "destination.s3.bucket"], ["seed", "destination.s3.region"]],
  },
  {
    example: "promote-version",
    config: { bucket: "www-example-site", goodVersionId: "v1" },
    unknown: [["rollback", "source.s3.bucket"], ["rollback", "destination.s3.region"]],
  },
  {
    example: "promote-snapshot",
    config: { rollbackTo: "2026-11-20T08:00:00.0000000Z" },
    unknown: [["rollback", "source.azureBlob.account"], ["rollback", "destination.azureBlob.container"]],
  },
  {
    example: "cross-cloud",
    config: { release: "1.4.2", artifactBucket: "release-artifacts", backupAccount: "nightlybackups" },
    unknown: [
      ["artifact-to-azure", "destination.azureBlob.account"],
      ["artifact-to-azure", "destination.azureBlob.container"],
      // No key yet: an unknown travels as the bare sentinel, secret or not (the SDK's serializeProperty).
      ["artifact-to-azure", "destinationCredentials"],
      ["backup-to-s3", "destination.s3.bucket"],
    ],
  },
];

const get = (value: unknown, dotted: string): unknown => dotted.split(".").reduce<unknown>((v, k) => (v as Props | undefined)?.[k], value);

for (const { example, config, unknown } of PREVIEWS) {
  test(`${example} in preview: names not known yet reach Check as unknowns, which passes without a request`, async () => {
    const filled = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, v.replace("{endpoint}", endpoint)]));
    const { regs, calls } = await run(example, filled, true);
    const registered = copies(regs);
    assert.ok(registered.length > 0, "the program registers its copies in preview too");
    assert.deepEqual(calls, [], "no invoke runs on a name not known yet (cross-cloud: listStorageAccountKeys)");
    assert.deepEqual(registered.flatMap((r) => pathsHolding(r.inputs, ACCOUNT_KEY)), []);
    for (const [name, at] of unknown) assert.equal(get(copyNamed(regs, name).inputs, at), UNKNOWN, `${name}.${at} is unknown in preview`);
    for (const copy of registered) {
      const checked = await checkPasses(copy);
      for (const [name, at] of unknown) if (name === copy.name) assert.equal(get(checked, at), UNKNOWN, `check keeps ${at} unknown`);
    }
  });
}
