// The stack's aws:* and azure-native:* config (stackConfig.ts), and what each side of a copy then uses
// (awsAccess.ts, azureAccount.ts): the precedence table, the clouds, and malformed values named by key, never echoed.
import { test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { ambientOf } from "../../dist/ambient.js";
import { describeS3Access, resolveS3Access } from "../../dist/awsAccess.js";
import { resolveAzureAccount } from "../../dist/azureAccount.js";
import { identityOf, objectId } from "../../dist/identity.js";
import { readStackConfig } from "../../dist/stackConfig.js";
import { validateInputs } from "../../dist/args.js";

const config = (values: Record<string, unknown>) => readStackConfig((key) => values[key]);
const s3 = (extra: Record<string, unknown> = {}) => ({ bucket: "dev", key: "seed", ...extra });
const KEYS = { accessKeyId: "AKIDLOCATOR", secretAccessKey: "locator-secret" };

test("stack config: strings, JSON text and parsed values are read alike; malformed values are named by key, never echoed", () => {
  const roles = [{ roleArn: "arn:aws:iam::123456789012:role/r", sessionName: "s", externalId: "e", duration: "1h30m" }];
  for (const form of [JSON.stringify(roles), roles]) {
    const c = config({
      "aws:region": "eu-west-1",
      "aws:assumeRoles": form,
      "aws:sharedCredentialsFiles": JSON.stringify(["/f"]),
      "aws:s3UsePathStyle": "true",
    });
    assert.deepEqual(c.problems, []);
    assert.deepEqual(c.aws.assumeRoles, [
      { roleArn: "arn:aws:iam::123456789012:role/r", sessionName: "s", externalId: "e", durationSeconds: 5400 },
    ]);
    assert.deepEqual([c.aws.region, c.aws.sharedCredentialsFiles, c.aws.s3UsePathStyle], ["eu-west-1", ["/f"], true]);
  }
  assert.deepEqual(
    config({ "aws:assumeRole": { roleArn: "arn:aws:iam::123456789012:role/old" } }).aws.assumeRoles.map((r) => r.roleArn),
    ["arn:aws:iam::123456789012:role/old"],
  );
  const secret = "do-not-echo-this-secret";
  const bad = config({
    "aws:assumeRoles": `[{ "roleArn": "${secret}" }]`,
    "aws:endpoints": JSON.stringify([{ s3: "localhost:4566" }]),
    "aws:sharedConfigFiles": "{ broken",
    "aws:s3UsePathStyle": "yes",
    "azure-native:environment": "mars",
    "azure-native:useMsi": "sometimes",
  });
  assert.deepEqual(bad.problems.map((p) => p.key).sort(), [
    "aws:assumeRoles[0].roleArn",
    "aws:endpoints.s3",
    "aws:s3UsePathStyle",
    "aws:sharedConfigFiles",
    "azure-native:environment",
    "azure-native:useMsi",
  ]);
  assert.ok(!JSON.stringify(bad.problems).includes(secret));
});

test("check reports the stack config's problems for the clouds a copy uses, and only those", () => {
  const amb = ambientOf({}, config({ "aws:assumeRoles": "[{", "azure-native:environment": "mars" }));
  const s3Pair = { source: { s3: s3() }, destination: { s3: s3({ key: "other" }) } };
  assert.deepEqual(
    validateInputs(s3Pair, amb).map((f) => f.property),
    ["aws:assumeRoles"],
  );
  const blobPair = {
    source: { azureBlob: { account: "acct", container: "seeds", blob: "b" } },
    destination: { azureBlob: { account: "acct", container: "seeds", blob: "d" } },
  };
  assert.deepEqual(
    validateInputs(blobPair, amb).map((f) => f.property),
    ["azure-native:environment"],
  );
});

test("S3 access precedence: locator fields, then explicit credentials, then stack config, then environment", () => {
  const env = { AWS_REGION: "us-east-1", AWS_ENDPOINT_URL_S3: undefined };
  const stack = config({
    "aws:region": "eu-west-3",
    "aws:accessKey": "AKIDSTACK",
    "aws:secretKey": "stack-secret",
    "aws:assumeRoles": JSON.stringify([{ roleArn: "arn:aws:iam::123456789012:role/stack" }]),
  });
  const amb = ambientOf(env, stack);
  const a = (loc: Record<string, unknown>, creds?: typeof KEYS) => resolveS3Access(s3(loc) as never, creds, amb);
  assert.deepEqual(
    [a({}).region, a({}).base, a({}).roles.length],
    ["eu-west-3", { kind: "static", accessKeyId: "AKIDSTACK", secretAccessKey: "stack-secret", from: "stack" }, 1],
  );
  assert.equal(a({ region: "ca-central-1" }).region, "ca-central-1", "the locator's region beats aws:region");
  assert.deepEqual(
    [a({}, KEYS).base.kind, (a({}, KEYS).base as { from: string }).from, a({}, KEYS).roles],
    ["static", "locator", []],
    "own keys: no stack role",
  );
  assert.deepEqual(a({ profile: "prod" }).base, { kind: "profile", profile: "prod", from: "locator" });
  const side = a({ assumeRole: { roleArn: "arn:aws:iam::210987654321:role/side" } });
  assert.deepEqual(
    [side.base.kind, side.roles.map((r) => r.roleArn)],
    ["static", ["arn:aws:iam::210987654321:role/side"]],
    "a side's role on the stack's key",
  );
  const bare = resolveS3Access(s3() as never, undefined, ambientOf(env));
  assert.deepEqual([bare.region, bare.base], ["us-east-1", { kind: "chain" }], "no stack config: the environment and the SDK's chain");
  assert.equal(resolveS3Access(s3() as never, undefined, ambientOf({}, config({ "aws:profile": "p" }))).base.kind, "profile");
  assert.match(
    describeS3Access(side, "source"),
    /^role arn:aws:iam::210987654321:role\/side \(source\.s3\.assumeRole\), assumed with the stack's aws:accessKey$/,
  );
  assert.ok(!describeS3Access(a({}), "destination").includes("stack-secret"));
});

test("aws:endpoints' s3 entry is where a locator without an endpoint goes, and so names its service", () => {
  const amb = ambientOf({}, config({ "aws:endpoints": JSON.stringify([{ s3: "http://localhost:4566" }]) }));
  const access = resolveS3Access(s3() as never, undefined, amb);
  assert.deepEqual([access.endpoint, access.forcePathStyle, access.fallbackRegion], ["http://localhost:4566", true, "us-east-1"]);
  assert.equal(objectId(identityOf({ s3: s3() } as never, undefined, amb)!), "s3+http://localhost:4566/dev/seed");
  assert.equal(
    objectId(identityOf({ s3: s3() } as never, undefined, ambientOf({}, config({ "aws:region": "cn-north-1" })))!),
    "s3+aws-cn://dev/seed",
  );
});

test("Azure identity precedence: a side's own, then the stack's azure-native identity, then storage keys in the environment, the ARM_* identity, DefaultAzureCredential", () => {
  const sp = {
    "azure-native:clientId": "11111111-1111-1111-1111-111111111111",
    "azure-native:clientSecret": "stack-sp-secret",
    "azure-native:tenantId": "tenant",
  };
  const envKey = {
    AZURE_STORAGE_ACCOUNT: "acct",
    AZURE_STORAGE_KEY: "a2V5",
    ARM_CLIENT_ID: "arm-client",
    ARM_CLIENT_SECRET: "arm-secret",
    ARM_TENANT_ID: "arm-tenant",
  };
  const auth = (creds: unknown, env: Record<string, string>, stack: Record<string, unknown>) =>
    resolveAzureAccount({ account: "acct" }, creds as never, ambientOf(env, config(stack)), "blob")?.auth;
  const own = { tenantId: "t", clientId: "22222222-2222-2222-2222-222222222222", clientSecret: "own-secret" };
  assert.deepEqual(auth(own, envKey, sp), { kind: "identity", identity: { kind: "clientSecret", ...own, from: "locator" } });
  assert.deepEqual(auth({ managedIdentityClientId: "mi" }, {}, sp), {
    kind: "identity",
    identity: { kind: "managedIdentity", clientId: "mi", from: "locator" },
  });
  assert.deepEqual(auth({ accountKey: "a2V5" }, {}, sp), { kind: "key", key: "a2V5" }, "a side's key beats the stack's identity");
  assert.equal(
    (auth(undefined, envKey, sp) as { identity: { from: string } }).identity.from,
    "stack",
    "the stack's identity beats the environment's key",
  );
  assert.deepEqual(
    auth(undefined, envKey, {}),
    { kind: "key", key: "a2V5" },
    "without stack identity: the environment's key, as 0.1.0 did",
  );
  const arm = auth(undefined, { ARM_CLIENT_ID: "arm-client", ARM_CLIENT_SECRET: "arm-secret", ARM_TENANT_ID: "arm-tenant" }, {});
  assert.deepEqual(arm, {
    kind: "identity",
    identity: { kind: "clientSecret", tenantId: "arm-tenant", clientId: "arm-client", clientSecret: "arm-secret", from: "environment" },
  });
  const msi = auth(undefined, {}, { "azure-native:useMsi": "true", "azure-native:clientId": "mi-client" });
  assert.deepEqual(msi, { kind: "identity", identity: { kind: "managedIdentity", clientId: "mi-client", from: "stack" } });
  const oidc = auth(
    undefined,
    {},
    { "azure-native:useOidc": true, "azure-native:clientId": "c", "azure-native:tenantId": "t", "azure-native:oidcTokenFilePath": "/tok" },
  );
  assert.deepEqual(oidc, { kind: "identity", identity: { kind: "oidc", tenantId: "t", clientId: "c", tokenFile: "/tok", from: "stack" } });
  assert.deepEqual(auth(undefined, {}, {}), { kind: "identity", identity: { kind: "default", from: "environment" } });
});

test("azure-native:environment (or ARM_ENVIRONMENT) sets the endpoint suffix an account name resolves to, and the authority", () => {
  const china = ambientOf({}, config({ "azure-native:environment": "china" }));
  const account = resolveAzureAccount({ account: "Acct" }, undefined, china, "blob");
  assert.equal(account?.url, "https://acct.blob.core.chinacloudapi.cn");
  assert.deepEqual(account?.auth, {
    kind: "identity",
    identity: { kind: "default", from: "environment", authorityHost: "https://login.chinacloudapi.cn" },
  });
  const gov = ambientOf({ ARM_ENVIRONMENT: "usgovernment" });
  assert.equal(
    objectId(identityOf({ azureFile: { account: "acct", share: "s", path: "p" } }, undefined, gov)!),
    "https://acct.file.core.usgovcloudapi.net/s/p",
  );
  assert.equal(resolveAzureAccount({ account: "acct" }, undefined, ambientOf(), "blob")?.url, "https://acct.blob.core.windows.net");
});
