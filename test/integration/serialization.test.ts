// What the engine stores and later replays: the serialized provider is a tiny shim that loads the
// installed package by name from any program directory, and no credential is kept in plaintext.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { captureInPlainNode, HostCallError } from "../support/providerHost.ts";
import { repoRoot, startS3Rig, type S3Rig } from "../support/s3rig.ts";
import { startS3Server, type S3Server } from "../support/s3server.ts";

let server: S3Server;
let programDir: string;
before(async () => {
  server = await startS3Server();
  // A user's program directory: only node_modules/pulumi-copied-object, as `npm install` leaves it.
  programDir = fs.mkdtempSync(path.join(os.tmpdir(), "copied-object-program-"));
  fs.mkdirSync(path.join(programDir, "node_modules"));
  fs.symlinkSync(repoRoot, path.join(programDir, "node_modules", "pulumi-copied-object"), "dir");
});
after(async () => {
  await server?.stop();
  fs.rmSync(programDir, { recursive: true, force: true });
});

test("the serialized provider is a shim: it captures nothing and requires the package by name", async () => {
  const rig = await startS3Rig({ server });
  try {
    const reg = await rig.register({ source: rig.at("a-bucket", "k"), destination: rig.at("b-bucket", "k") });
    const shim = String(reg.inputs.__provider);
    assert.ok(shim.length < 4000, `${shim.length} characters`);
    assert.match(shim, /require\("pulumi-copied-object\/dist\/provider\.js"\)\.create\(inputs\)/);
    assert.doesNotMatch(shim, /S3Client|@aws-sdk|process\.env/);
  } finally {
    await rig.stop();
  }
});

test("a provider host started in another program directory loads the shim and copies", async () => {
  const rig = await startS3Rig({ server, cwd: programDir });
  try {
    const [src, dst] = [await rig.bucket(), await rig.bucket()];
    await rig.put(src, "k", "from elsewhere");
    const { deployed } = await rig.engine.up(await rig.register({ source: rig.at(src, "k"), destination: rig.at(dst, "k") }));
    assert.equal((await rig.get(dst, "k")).toString(), "from elsewhere");
    await rig.engine.destroy(deployed);
    assert.equal(await rig.exists(dst, "k"), false);
  } finally {
    await rig.stop();
  }
});

test("credentials given as inputs are secret at registration and appear nowhere in plaintext", async () => {
  const rig = await startS3Rig({ server });
  // Distinctive values make a plaintext leak easy to find: made-up ones where the server accepts
  // any (moto), the server's own random keys where it checks them (Ceph RGW).
  const credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } =
    server.kind === "moto"
      ? { accessKeyId: "AKIDLEAKCANARY0001", secretAccessKey: "secret/leak+canary/0002", sessionToken: "token-leak-canary-0003" }
      : { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
  const canaries = Object.values(credentials);
  try {
    const [src, dst] = [await rig.bucket(), await rig.bucket()];
    await rig.put(src, "k", "x");
    const reg = await rig.register({
      source: { s3: { ...rig.at(src, "k").s3, credentials } },
      destination: { s3: { ...rig.at(dst, "k").s3, credentials } },
    });
    assert.ok(reg.secretPaths.includes("sourceCredentials") && reg.secretPaths.includes("destinationCredentials"), reg.secretPaths.join(", "));
    assert.deepEqual(reg.additionalSecretOutputs.sort(), ["args", "destinationCredentials", "sourceCredentials"]);

    const { deployed } = await rig.engine.up(reg);
    assert.equal((await rig.engine.up(reg, deployed)).step, "same", "explicit credentials do not make a perpetual diff");
    const failed = await rig.engine.up(await rig.register({ source: { s3: { ...rig.at(src, "missing").s3, credentials } }, destination: rig.at(dst, "k2") })).then(() => undefined, (e: unknown) => e);
    assert.ok(failed instanceof HostCallError);

    // Outside the two secret fields (which the engine encrypts), no surface carries a canary.
    const { sourceCredentials, destinationCredentials, ...publicOutputs } = deployed.outputs;
    assert.deepEqual(sourceCredentials, credentials, "the provider keeps them for delete, under the secret name");
    const surfaces = {
      provider: String(reg.inputs.__provider),
      outputs: JSON.stringify(publicOutputs),
      error: failed.message,
      logs: rig.host.output(),
    };
    for (const [surface, text] of Object.entries(surfaces)) {
      for (const canary of canaries) assert.ok(!text.includes(canary), `${surface} contains a credential`);
    }
    assert.ok(destinationCredentials);
    await rig.engine.destroy(deployed);
  } finally {
    await rig.stop();
  }
});

test("a check failure about credentials names the field but never echoes the value", async () => {
  const rig = await startS3Rig({ server });
  try {
    const reg = await rig.register({ source: { s3: { ...rig.at("a-bucket", "k").s3, credentials: { accessKeyId: "AKIDLEAKCANARY0004", secretAccessKey: "" } } }, destination: rig.at("b-bucket", "k") });
    const { failures } = await rig.host.check(reg, {}, reg.inputs);
    assert.deepEqual(failures.map((f) => f.property), ["source.s3.credentials.secretAccessKey"]);
    assert.ok(!JSON.stringify(failures).includes("AKIDLEAKCANARY0004"));
  } finally {
    await rig.stop();
  }
});

test("rotated credentials alone update the state without copying again", async () => {
  const rig = await startS3Rig({ server });
  try {
    const [src, dst] = [await rig.bucket(), await rig.bucket()];
    await rig.put(src, "k", "x");
    // The first pair must work on servers that check keys; the rotated one is never sent, since nothing is copied.
    const withKey = (n: string) => (n === "1" ? { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } : { accessKeyId: `AKIDROTATION${n}`, secretAccessKey: `rotation-secret-${n}` });
    const args = (n: string) => ({ source: rig.at(src, "k"), destination: { s3: { ...rig.at(dst, "k").s3, credentials: withKey(n) } } });
    const first = await rig.engine.up(await rig.register(args("1")));
    const rotated = await rig.engine.up(await rig.register(args("2")), first.deployed);
    assert.equal(rotated.step, "update");
    assert.deepEqual(rotated.deployed.outputs.destinationCredentials, withKey("2"));
    assert.equal(rotated.deployed.outputs.lastModified, first.deployed.outputs.lastModified, "no new copy was made");
    assert.match(rig.host.output(), /update writes nothing \(credentials changed\)/);
  } finally {
    await rig.stop();
  }
});

test("jest's module realm serializes the provider byte for byte as a plain Node process does (pulumi/pulumi#3799), secrets and all", async () => {
  const rig = await startS3Rig({ server });
  try {
    const at = (bucket: string, key: string) => rig.at(bucket, key);
    const plain = captureInPlainNode([
      { name: "plain", args: { source: at("a-bucket", "k"), destination: at("b-bucket", "k"), timeoutSeconds: 60 } },
      { name: "secrets", args: { source: { s3: { ...at("a-bucket", "k").s3, credentials: { $secret: { accessKeyId: "AKIDREALM0001", secretAccessKey: "realm-secret" } } } }, destination: at("b-bucket", "k2"), metadata: { $secret: { team: "data" } } } },
      { name: "url", args: { source: { url: { $output: "https://example.com/seed?sig=realm" } }, destination: at("b-bucket", "k3"), strategy: "stream" } },
    ]);
    const inJest = [
      await rig.register({ source: at("a-bucket", "k"), destination: at("b-bucket", "k"), timeoutSeconds: 60 }, undefined, "plain"),
      await rig.register({ source: { s3: { ...at("a-bucket", "k").s3, credentials: pulumi.secret({ accessKeyId: "AKIDREALM0001", secretAccessKey: "realm-secret" }) } }, destination: at("b-bucket", "k2"), metadata: pulumi.secret({ team: "data" }) }, undefined, "secrets"),
      await rig.register({ source: { url: pulumi.output("https://example.com/seed?sig=realm") }, destination: at("b-bucket", "k3"), strategy: "stream" }, undefined, "url"),
    ];
    assert.equal(plain.length, 3);
    for (const reg of inJest) {
      const other = plain.find((p) => p.name === reg.name)!;
      assert.equal(JSON.stringify(reg.inputs), JSON.stringify(other.inputs), `${reg.name}: the same inputs, __provider included, byte for byte`);
      assert.deepEqual([reg.urn, [...reg.secretPaths].sort(), [...reg.additionalSecretOutputs].sort()], [other.urn, [...other.secretPaths].sort(), [...other.additionalSecretOutputs].sort()], reg.name);
    }
  } finally {
    await rig.stop();
  }
});