// The stack's aws:* configuration, sent in the ConfigureRequest as the engine sends it, decides which key and region
// sign each request: a proxy in front of moto reads the SigV4 Authorization header
// (Credential=AKID/date/REGION/s3/aws4_request). moto accepts any key, so the proxy's record is the evidence; the
// bytes are read back too. Precedence: locator fields, then explicit credentials, then stack config, then environment.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startCountingProxy, type CountingProxy } from "../support/countingProxy.ts";
import { CheckFailed, MiniEngine } from "../support/engine.ts";
import { HostCallError, ProviderHost } from "../support/providerHost.ts";
import { codeOf, repoRoot, startS3Rig, type S3Rig } from "../support/s3rig.ts";

let rig: S3Rig;
let proxy: CountingProxy;
let dir: string;
const hosts: ProviderHost[] = [];
/** STS answers seen at the proxy: the temporary key moto issued, and the assumed role's ARN. */
const issued: Array<{ accessKeyId: string; arn: string }> = [];

before(async () => {
  rig = await startS3Rig();
  proxy = await startCountingProxy(rig.server.endpoint, {
    tamper: (_req, answer) => {
      const text = answer.body.toString("utf8");
      const key = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(text)?.[1];
      const arn = /<Arn>(arn:aws:sts::[^<]+)<\/Arn>/.exec(text)?.[1];
      if (key && arn) issued.push({ accessKeyId: key, arn });
      return undefined;
    },
  });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-config-"));
  fs.writeFileSync(
    path.join(dir, "credentials"),
    "[prod]\naws_access_key_id = AKIDPRODPROFILE00001\naws_secret_access_key = prod-profile-secret-value\n" +
      "[dev]\naws_access_key_id = AKIDDEVPROFILE000001\naws_secret_access_key = dev-profile-secret-value\n",
  );
  fs.writeFileSync(path.join(dir, "config"), "[profile prod]\nregion = eu-north-1\n[profile dev]\nregion = ap-south-1\n");
  fs.writeFileSync(path.join(dir, "empty"), "");
});
after(async () => {
  for (const host of hosts) await host.stop();
  await proxy?.close();
  await rig?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
/** A secret config value as the engine sends it. */
const secret = (value: string) => ({ ...SECRET, value });
const STACK_SECRET = "stack-config-secret-key-value-0001";
const STACK_TOKEN = "stack-config-session-token-value-0001";

/** A provider host whose environment holds a key and region of its own, configured with `config`. */
async function hostWith(config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<{ host: ProviderHost; engine: MiniEngine }> {
  const host = await ProviderHost.start({
    cwd: repoRoot,
    env: {
      AWS_ACCESS_KEY_ID: "AKIDENVIRONMENT00001",
      AWS_SECRET_ACCESS_KEY: "environment-secret-value",
      AWS_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
      // No user file of this machine may answer.
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "empty"),
      AWS_CONFIG_FILE: path.join(dir, "empty"),
      ...env,
    },
  });
  hosts.push(host);
  await host.configure(config);
  return { host, engine: new MiniEngine(host) };
}

/** Key, region and service of every signed request to the proxy since `mark`, with the object path. */
function signers(mark: number): Array<{ key: string; region: string; service: string; method: string; path: string }> {
  return proxy.seen.slice(mark).flatMap((r) => {
    const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(String(r.headers.authorization ?? ""));
    return m ? [{ key: m[1], region: m[2], service: m[3], method: r.method, path: new URL(r.url, "http://p").pathname }] : [];
  });
}

const at = (bucket: string, key: string, extra = {}) => rig.at(bucket, key, { endpoint: proxy.endpoint, ...extra });

async function seeded(body: string): Promise<{ src: string; dst: string }> {
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  await rig.put(src, "seed", body);
  return { src, dst };
}

test("aws:region, aws:accessKey, aws:secretKey and aws:token from the stack sign every request, over the environment's; the secret ones appear in no output or log", async () => {
  const { src, dst } = await seeded("from the stack's key");
  const plain = await hostWith({});
  let mark = proxy.seen.length;
  await plain.engine.up(await rig.register({ source: at(src, "seed"), destination: at(dst, "by-env") }, undefined, "by-env"));
  const byEnv = signers(mark);
  assert.ok(byEnv.length >= 2 && byEnv.every((s) => s.key === "AKIDENVIRONMENT00001" && s.region === "us-east-1"), JSON.stringify(byEnv));

  const config = {
    "aws:region": "eu-west-3",
    "aws:accessKey": "AKIDSTACKCONFIG00001",
    "aws:secretKey": secret(STACK_SECRET),
    "aws:token": secret(STACK_TOKEN),
  };
  const { host, engine } = await hostWith(config);
  mark = proxy.seen.length;
  const { deployed } = await engine.up(
    await rig.register({ source: at(src, "seed"), destination: at(dst, "by-stack") }, undefined, "by-stack"),
  );
  const byStack = signers(mark);
  assert.ok(byStack.length >= 3, `${byStack.length} signed requests`);
  for (const s of byStack)
    assert.deepEqual([s.key, s.region, s.service], ["AKIDSTACKCONFIG00001", "eu-west-3", "s3"], `${s.method} ${s.path}`);
  assert.ok(
    proxy.seen.slice(mark).every((r) => r.headers["x-amz-security-token"] === STACK_TOKEN),
    "the session token goes with every request",
  );
  assert.equal((await rig.get(dst, "by-stack")).toString(), "from the stack's key");
  await engine.destroy(deployed);
  assert.equal(await rig.exists(dst, "by-stack"), false);
  const surfaces = JSON.stringify([deployed.outputs, deployed.inputs, deployed.id]) + host.output();
  for (const value of [STACK_SECRET, STACK_TOKEN]) assert.ok(!surfaces.includes(value), "a secret config value leaked");
});

test("aws:profile with aws:sharedCredentialsFiles signs with the profile's key; without aws:region, a profile's region comes from the config file", async () => {
  const { src, dst } = await seeded("from a profile");
  const files = {
    "aws:sharedCredentialsFiles": JSON.stringify([path.join(dir, "credentials")]),
    "aws:sharedConfigFiles": JSON.stringify([path.join(dir, "config")]),
  };
  const { engine } = await hostWith({ ...files, "aws:profile": "prod", "aws:region": "eu-west-1" });
  let mark = proxy.seen.length;
  await engine.up(await rig.register({ source: at(src, "seed"), destination: at(dst, "one") }, undefined, "one"));
  assert.deepEqual(new Set(signers(mark).map((s) => `${s.key} ${s.region}`)), new Set(["AKIDPRODPROFILE00001 eu-west-1"]));

  // No region in the stack or the environment: the SDK reads the profile's, from the config file it knows.
  const bare = await hostWith(
    { "aws:profile": "dev", "aws:sharedCredentialsFiles": JSON.stringify([path.join(dir, "credentials")]) },
    { AWS_REGION: undefined, AWS_CONFIG_FILE: path.join(dir, "config") },
  );
  mark = proxy.seen.length;
  await bare.engine.up(await rig.register({ source: at(src, "seed"), destination: at(dst, "two") }, undefined, "two"));
  assert.deepEqual(new Set(signers(mark).map((s) => `${s.key} ${s.region}`)), new Set(["AKIDDEVPROFILE000001 ap-south-1"]));
  assert.equal((await rig.get(dst, "two")).toString(), "from a profile");
});

test("precedence: a side's credentials, profile and region beat the stack's, which beat the environment's", async () => {
  const { src, dst } = await seeded("precedence");
  const files = { "aws:sharedCredentialsFiles": JSON.stringify([path.join(dir, "credentials")]) };
  const { engine } = await hostWith({
    ...files,
    "aws:region": "eu-west-3",
    "aws:accessKey": "AKIDSTACKCONFIG00001",
    "aws:secretKey": secret(STACK_SECRET),
  });
  const mark = proxy.seen.length;
  await engine.up(
    await rig.register({
      source: at(src, "seed", {
        credentials: { accessKeyId: "AKIDLOCATORSOURCE001", secretAccessKey: "locator-secret" },
        region: "ca-central-1",
      }),
      destination: at(dst, "seed", { profile: "dev" }),
    }),
  );
  const used = signers(mark);
  const onSource = used.filter((s) => s.path.startsWith(`/${src}/`) && s.method === "HEAD");
  const onDestination = used.filter((s) => s.path.startsWith(`/${dst}/`));
  assert.ok(onSource.length >= 1 && onDestination.length >= 2, JSON.stringify(used));
  for (const s of onSource) assert.deepEqual([s.key, s.region], ["AKIDLOCATORSOURCE001", "ca-central-1"]);
  for (const s of onDestination) assert.deepEqual([s.key, s.region], ["AKIDDEVPROFILE000001", "eu-west-3"]);
  assert.equal((await rig.get(dst, "seed")).toString(), "precedence");
});

test("aws:assumeRoles (with aws:endpoints' sts) is assumed with the stack's key, and the role's temporary key signs the copy; a side's assumeRole replaces it", async () => {
  const { src, dst } = await seeded("as a role");
  const roles = [{ roleArn: "arn:aws:iam::123456789012:role/seed-writer", sessionName: "deploy-42", externalId: "ext-7" }];
  const { engine } = await hostWith({
    "aws:region": "eu-west-1",
    "aws:accessKey": "AKIDSTACKCONFIG00001",
    "aws:secretKey": secret(STACK_SECRET),
    "aws:assumeRoles": JSON.stringify(roles),
    "aws:endpoints": JSON.stringify([{ sts: proxy.endpoint }]),
  });
  let mark = proxy.seen.length;
  const before = issued.length;
  await engine.up(await rig.register({ source: at(src, "seed"), destination: at(dst, "stack-role") }, undefined, "stack-role"));
  let used = signers(mark);
  const sts = used.filter((s) => s.service === "sts");
  assert.ok(
    sts.length >= 1 && sts.every((s) => s.key === "AKIDSTACKCONFIG00001"),
    `AssumeRole signed by the stack's key: ${JSON.stringify(sts)}`,
  );
  const role = issued.slice(before).at(-1)!;
  assert.match(role.arn, /assumed-role\/seed-writer\/deploy-42$/);
  const s3 = used.filter((s) => s.service === "s3");
  assert.ok(s3.length >= 3 && s3.every((s) => s.key === role.accessKeyId), "S3 requests signed by the role's temporary key");

  mark = proxy.seen.length;
  const side = { roleArn: "arn:aws:iam::210987654321:role/dev-reader", sessionName: "side-session" };
  await engine.up(
    await rig.register({ source: at(src, "seed", { assumeRole: side }), destination: at(dst, "side-role") }, undefined, "side-role"),
  );
  used = signers(mark);
  const arns = issued.slice(before).map((i) => i.arn);
  assert.ok(
    arns.some((a) => /assumed-role\/dev-reader\/side-session$/.test(a)),
    arns.join(", "),
  );
  const sideKey = issued.find((i) => /dev-reader/.test(i.arn))!.accessKeyId;
  assert.ok(
    used.some((s) => s.path.startsWith(`/${src}/`) && s.key === sideKey),
    "the source is read with the side's role",
  );
  assert.ok(
    used.filter((s) => s.path.startsWith(`/${dst}/`)).every((s) => s.key !== sideKey),
    "the destination keeps the stack's role",
  );
  assert.equal((await rig.get(dst, "side-role")).toString(), "as a role");
});

test("two accounts in one stack: source.s3.profile and destination.s3.profile sign their own side's requests, with no key in the program", async () => {
  const { src, dst } = await seeded("prod to dev");
  const { engine } = await hostWith({
    "aws:sharedCredentialsFiles": JSON.stringify([path.join(dir, "credentials")]),
    "aws:region": "eu-west-1",
  });
  const mark = proxy.seen.length;
  const { deployed } = await engine.up(
    await rig.register({ source: at(src, "seed", { profile: "prod" }), destination: at(dst, "seed", { profile: "dev" }) }),
  );
  const used = signers(mark);
  const keysOn = (bucket: string, method?: string) =>
    new Set(used.filter((s) => s.path.startsWith(`/${bucket}/`) && (!method || s.method === method)).map((s) => s.key));
  assert.deepEqual(keysOn(src, "HEAD"), new Set(["AKIDPRODPROFILE00001"]));
  assert.deepEqual(keysOn(dst), new Set(["AKIDDEVPROFILE000001"]), "CopyObject and every destination request: the destination's account");
  assert.equal((await rig.get(dst, "seed")).toString(), "prod to dev");
  await engine.destroy(deployed);
  assert.equal(await rig.exists(dst, "seed"), false);
});

test("bad stack config fails check naming the key, before any request; a profile that does not exist fails naming it; neither echoes a secret", async () => {
  const { src, dst } = await seeded("bad config");
  const broken = await hostWith({
    "aws:assumeRoles": "[{ not json",
    "aws:secretKey": secret(STACK_SECRET),
    "azure-native:environment": "mars",
  });
  const mark = proxy.seen.length;
  const failure = await broken.engine.up(await rig.register({ source: at(src, "seed"), destination: at(dst, "x") })).then(
    () => assert.fail("check passed"),
    (e: unknown) => e,
  );
  assert.ok(failure instanceof CheckFailed, String(failure));
  assert.deepEqual(
    failure.failures.map((f) => f.property),
    ["aws:assumeRoles"],
    "only the aws key: an S3 copy does not read azure-native",
  );
  assert.match(failure.failures[0].reason, /is not valid JSON\. Fix it with `pulumi config set --path aws:assumeRoles/);
  assert.equal(proxy.seen.length, mark, "no request");

  const { host, engine } = await hostWith({
    "aws:profile": "nope",
    "aws:sharedCredentialsFiles": JSON.stringify([path.join(dir, "credentials")]),
  });
  const missing = await engine.up(await rig.register({ source: at(src, "seed"), destination: at(dst, "y") })).then(
    () => assert.fail("copied"),
    (e: unknown) => e,
  );
  assert.ok(missing instanceof HostCallError);
  assert.equal(codeOf(missing), "InvalidInput");
  assert.match(
    String((missing as Error).message),
    /no AWS credentials for the source \(.*nope.*\): set source\.s3\.credentials .* the stack's aws:profile/,
  );
  assert.ok(!(String((missing as Error).message) + host.output() + broken.host.output()).includes(STACK_SECRET));
});
