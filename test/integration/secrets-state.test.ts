// No secret reaches the state in plaintext, checked the way the engine stores state. A provider that does not
// accept secrets (this one) hands back plain values; the engine then encrypts an output only when it is listed
// in additionalSecretOutputs, or where an input of the same name (and, inside objects, the same path) was
// secret (pulumi/pulumi annotateSecrets). Inputs keep their registered secret paths. This suite computes
// exactly that plaintext view of inputs and outputs, and scans it for canaries given as secrets of every form:
// a signed URL as a plain string, as an Output, as a secret Output and inside an Output of the whole locator;
// secret metadata and tags (whole, and one value); and credentials. Servers: moto, and a local web server.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import * as pulumi from "@pulumi/pulumi";
import { CopiedPrefix, type CopiedObjectArgs } from "pulumi-copied-object";
import { gunzipSync } from "node:zlib";
import { registerUnderMocks, type Registration } from "../support/providerHost.ts";
import { startS3Rig, type S3Rig } from "../support/s3rig.ts";
import { scan, type Canary } from "../support/secretsScan.ts";

let rig: S3Rig;
let web: http.Server;
let webUrl: string;
before(async () => {
  rig = await startS3Rig();
  // A source that accepts any signature: what matters here is where the signature ends up.
  web = http.createServer((req, res) => {
    const body = Buffer.from("signed content\n");
    res.writeHead(200, { "content-length": body.length, "content-type": "text/plain", etag: '"s-1"' });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
});
after(async () => {
  web?.closeAllConnections();
  await new Promise((resolve) => web?.close(resolve));
  await rig?.stop();
});

const canary = (label: string): Canary => ({ label, kind: "canary", value: `canary-${label.replace(/\W+/g, "-")}-${randomBytes(8).toString("hex")}` });

/**
 * What the engine keeps unencrypted of a value: a secret path and everything below it is dropped. `secret`
 * answers for a path ("a.b"); objects are walked, as annotateSecrets does for same-named inputs and outputs.
 */
function plaintext(value: unknown, path: string, secret: (path: string) => boolean): unknown {
  if (path && secret(path)) return "[secret]";
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plaintext(v, path ? `${path}.${k}` : k, secret)]));
}

/** The state as the engine stores it, less what it encrypts: inputs by their secret paths; outputs as above. */
function engineState(reg: Registration, inputs: Record<string, unknown>, outputs: Record<string, unknown>): string {
  const inputSecret = (p: string) => reg.secretPaths.some((s) => p === s || p.startsWith(`${s}.`) || p.startsWith(`${s}[`));
  // An output path is secret where the input of the same path was (the top-level key must be an input).
  const outputSecret = (p: string) => reg.additionalSecretOutputs.includes(p.split(".")[0]) || inputSecret(p);
  return JSON.stringify({ inputs: plaintext(inputs, "", inputSecret), outputs: plaintext(outputs, "", outputSecret) });
}

test("signed URLs in every form, secret metadata and tags, and credentials never reach the state in plaintext", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  await rig.put(src, "seed", "payload", { Metadata: { origin: "prod" } });
  const canaries: Canary[] = [];
  const add = (label: string) => {
    const c = canary(label);
    canaries.push(c);
    return c.value;
  };
  const signed = (label: string) => `${webUrl}/report.txt?sv=2025&sr=b&sp=r&sig=${add(label)}`;
  const cases: Array<[string, CopiedObjectArgs]> = [
    ["url-string", { source: { url: signed("url as a string") }, destination: rig.at(dst, "a"), strategy: "stream" }],
    ["url-output", { source: { url: pulumi.output(signed("url as an Output")) }, destination: rig.at(dst, "b"), strategy: "stream" }],
    ["url-secret", { source: { url: pulumi.secret(signed("url as a secret Output")) }, destination: rig.at(dst, "c"), strategy: "stream" }],
    ["locator-output", { source: pulumi.output(signed("url inside an Output locator")).apply((u) => ({ url: u })), destination: rig.at(dst, "d"), strategy: "stream" }],
    ["locator-secret", { source: pulumi.secret({ url: signed("url inside a secret locator") }), destination: rig.at(dst, "e"), strategy: "stream" }],
    ["metadata-secret", { source: rig.at(src, "seed"), destination: rig.at(dst, "f"), metadata: pulumi.secret({ token: add("secret metadata") }) }],
    ["metadata-value", { source: rig.at(src, "seed"), destination: rig.at(dst, "g"), metadata: { token: pulumi.secret(add("one secret metadata value")) } }],
    ["tags-secret", { source: rig.at(src, "seed"), destination: rig.at(dst, "h"), tags: pulumi.secret({ owner: add("secret tags") }) }],
    ["credentials", { source: { s3: { ...rig.at(src, "seed").s3, credentials: { accessKeyId: add("access key id"), secretAccessKey: rig.server.secretAccessKey } } }, destination: rig.at(dst, "i"), verify: true }],
  ];
  const states: string[] = [];
  for (const [name, args] of cases) {
    const reg = await rig.register(args, undefined, name);
    const { deployed } = await rig.engine.up(reg);
    // Each copy really ran with its secret.
    assert.equal(deployed.outputs.copyStatus, "success", name);
    if (name === "metadata-secret") assert.match(String((await rig.head(dst, "f")).Metadata?.token), /^canary-secret-metadata-/);
    states.push(engineState(reg, deployed.inputs, deployed.outputs));
    const refreshed = await rig.engine.refresh(deployed);
    states.push(engineState(reg, deployed.inputs, refreshed!.outputs));
    await rig.engine.destroy(deployed);
  }
  assert.equal(await rig.exists(dst, "f"), false, "destroyed");
  const hits = states.flatMap((state, i) => scan(`state of ${cases[Math.floor(i / 2)][0]}`, state, canaries));
  assert.deepEqual(hits, [], "no canary in what the engine keeps unencrypted");
  assert.deepEqual(scan("the provider's output", rig.host.output(), canaries), [], "nor in anything the provider printed");
});

test("the scan is not vacuous: before encryption, the outputs do carry the secrets, under args", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  await rig.put(src, "seed", "payload");
  const value = canary("metadata in args").value;
  const reg = await rig.register({ source: rig.at(src, "seed"), destination: rig.at(dst, "k"), metadata: pulumi.secret({ token: value }) });
  const { deployed } = await rig.engine.up(reg);
  assert.ok(JSON.stringify(deployed.outputs.args).includes(value), "the provider stores the inputs under args");
  assert.ok(reg.additionalSecretOutputs.includes("args"), "so args is encrypted whole");
  assert.ok(!engineState(reg, deployed.inputs, deployed.outputs).includes(value));
  await rig.engine.destroy(deployed);
});

test("CopiedPrefix: credentials, secret metadata and tags reach neither the state in plaintext, the provider's output, nor the manifest", async () => {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  for (const k of ["a", "b/c"]) await rig.put(src, `p/${k}`, "payload");
  const canaries = ["prefix access key id", "prefix metadata", "prefix tags"].map(canary);
  const [keyId, meta, tag] = canaries.map((c) => c.value);
  const s3 = (bucket: string, prefix: string) => ({ bucket, prefix, endpoint: rig.server.endpoint, forcePathStyle: true });
  const [reg] = await registerUnderMocks(
    () =>
      new CopiedPrefix("prefix-secrets", {
        source: { s3: { ...s3(src, "p/"), credentials: { accessKeyId: keyId, secretAccessKey: rig.server.secretAccessKey } } },
        destination: { s3: s3(dst, "q/") },
        metadata: pulumi.secret({ token: meta }),
        tags: { owner: pulumi.secret(tag) },
      }),
  );
  const { deployed } = await rig.engine.up(reg);
  assert.deepEqual([deployed.outputs.objectCount, deployed.outputs.copyStatus], [2, "success"]);
  assert.equal((await rig.head(dst, "q/a")).Metadata?.token, meta, "the copy ran with the secret metadata");
  const manifest = gunzipSync(await rig.get(dst, "q/.copied-prefix-manifest.json.gz")).toString();
  const refreshed = await rig.engine.refresh(deployed);
  const hits = [
    ...scan("state", engineState(reg, deployed.inputs, deployed.outputs), canaries),
    ...scan("refreshed state", engineState(reg, deployed.inputs, refreshed!.outputs), canaries),
    ...scan("manifest", manifest, canaries),
    ...scan("the provider's output", rig.host.output(), canaries),
  ];
  assert.deepEqual(hits, []);
  assert.ok(JSON.stringify(deployed.outputs).includes(meta), "not vacuous: the outputs carry the metadata before encryption");
  await rig.engine.destroy(deployed);
});
