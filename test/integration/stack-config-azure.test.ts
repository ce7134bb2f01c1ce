// The stack's azure-native:* identity, and a side's own Azure AD identity, through Pulumi's real provider host.
// Storage is real Azurite over HTTPS with OAuth, behind a recording proxy that reads each bearer token's appid;
// the token service is SIMULATED (test/support/azureAdTokenService.ts: nothing local plays Entra ID), so every
// test here says "simulated". The provider gets only the rig's env (a CA, a proxy): its credentials take no
// test-only option.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { startAzureAdRig, type AzureAdRig, type StorageRequest } from "../support/azureAdRig.ts";
import { MiniEngine } from "../support/engine.ts";
import { HostCallError, ProviderHost, registerUnderMocks } from "../support/providerHost.ts";
import { codeOf, repoRoot } from "../support/s3rig.ts";
import { CopiedObject, type CopiedObjectArgs } from "pulumi-copied-object";

let rig: AzureAdRig;
const hosts: ProviderHost[] = [];
const app = () => ({ id: randomUUID(), secret: `s~${randomBytes(12).toString("base64url")}` });
const STACK = app();
const SOURCE = app();
const DESTINATION = app();
const ENVIRONMENT = app();
const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };

before(async () => {
  rig = await startAzureAdRig();
  for (const a of [STACK, SOURCE, DESTINATION, ENVIRONMENT]) rig.app(a.id, { secret: a.secret });
});
after(async () => {
  for (const host of hosts) await host.stop();
  await rig?.stop();
});

/** A provider host with the rig's env (and no Azure settings of this machine), configured with `config`. */
async function hostWith(
  config: Record<string, unknown>,
  env: Record<string, string | undefined> = {},
): Promise<MiniEngine & { host: ProviderHost }> {
  const unset = Object.fromEntries(
    Object.keys(process.env)
      .filter((n) => /^(AZURE_|ARM_|IDENTITY_|MSI_)/.test(n))
      .map((n) => [n, undefined]),
  );
  const host = await ProviderHost.start({ cwd: repoRoot, env: { ...unset, ...rig.env, ...env } });
  hosts.push(host);
  await host.configure(config);
  return Object.assign(new MiniEngine(host), { host });
}

const stackIdentity = (a: { id: string; secret: string }) => ({
  "azure-native:clientId": a.id,
  "azure-native:clientSecret": { ...SECRET, value: a.secret },
  "azure-native:tenantId": rig.tenantId,
});

async function seeded(body: string): Promise<{ src: string; dst: string }> {
  const service = rig.sharedKeyClient();
  const [src, dst] = [`src-${randomBytes(4).toString("hex")}`, `dst-${randomBytes(4).toString("hex")}`];
  await service.createContainer(src);
  await service.createContainer(dst);
  await service.getContainerClient(src).getBlockBlobClient("seed.txt").upload(body, Buffer.byteLength(body));
  return { src, dst };
}

const at = (container: string, blob: string) => ({ azureBlob: { accountUrl: rig.blobUrl, container, blob } });
const read = async (container: string, blob: string) =>
  (await rig.sharedKeyClient().getContainerClient(container).getBlobClient(blob).downloadToBuffer()).toString();
const register = async (args: CopiedObjectArgs, name = "copy") => (await registerUnderMocks(() => new CopiedObject(name, args)))[0];
/** Who signed each storage request since `mark` on a container's paths (Azurite's own HEADs of a copy source left out). */
function signers(mark: number, container: string): Array<StorageRequest> {
  return rig
    .storageRequests()
    .slice(mark)
    .filter((r) => r.path.includes(`/${container}/`) || r.path.endsWith(`/${container}`));
}

test("simulated token service: the stack's azure-native clientId, clientSecret and tenantId sign every request as that app; the secret is in no output or log", async () => {
  const { src, dst } = await seeded("by the stack's identity");
  const engine = await hostWith(stackIdentity(STACK));
  const mark = rig.storageRequests().length;
  const { deployed } = await engine.up(await register({ source: at(src, "seed.txt"), destination: at(dst, "seed.txt") }));
  assert.equal(await read(dst, "seed.txt"), "by the stack's identity");
  const mine = rig
    .storageRequests()
    .slice(mark)
    .filter((r) => r.auth === "bearer");
  assert.ok(mine.length >= 3, `${mine.length} bearer requests`);
  assert.deepEqual(new Set(mine.map((r) => r.clientId)), new Set([STACK.id]));
  assert.ok(rig.tokenRequests().some((t) => t.clientId === STACK.id && t.credential === "secret" && t.ok));
  await engine.destroy(deployed);
  assert.equal(await rig.sharedKeyClient().getContainerClient(dst).getBlobClient("seed.txt").exists(), false);
  const surfaces = JSON.stringify([deployed.outputs, deployed.inputs]) + engine.host.output();
  assert.ok(!surfaces.includes(STACK.secret), "the stack's client secret leaked");
});

test("simulated token service: two identities in one stack: the source's service principal reads, the destination's writes", async () => {
  const { src, dst } = await seeded("across identities");
  const engine = await hostWith(stackIdentity(STACK));
  const mark = rig.storageRequests().length;
  const sp = (a: { id: string; secret: string }) => ({ tenantId: rig.tenantId, clientId: a.id, clientSecret: a.secret });
  const source = { azureBlob: { ...at(src, "seed.txt").azureBlob, credentials: sp(SOURCE) } };
  const destination = { azureBlob: { ...at(dst, "seed.txt").azureBlob, credentials: sp(DESTINATION) } };
  const reg = await register({ source, destination });
  assert.ok(reg.secretPaths.includes("sourceCredentials") && reg.secretPaths.includes("destinationCredentials"), reg.secretPaths.join(","));
  const { deployed } = await engine.up(reg);
  assert.equal(await read(dst, "seed.txt"), "across identities");
  const by = (container: string) =>
    new Set(
      signers(mark, container)
        .filter((r) => r.auth === "bearer")
        .map((r) => r.clientId),
    );
  assert.deepEqual(by(src), new Set([SOURCE.id]), "the source is read by its own identity");
  assert.deepEqual(by(dst), new Set([DESTINATION.id]), "the destination is written by its own");
  assert.ok(!JSON.stringify(deployed.outputs).includes(SOURCE.secret) || reg.secretPaths.includes("sourceCredentials"));
});

test("simulated token service: precedence — a side's key beats the stack's identity, which beats the environment's storage key; the ARM_* identity comes after those", async () => {
  const { src, dst } = await seeded("precedence");
  const keyed = { azureBlob: { ...at(dst, "by-key").azureBlob, credentials: { accountKey: rig.accountKey } } };
  const envKey = { AZURE_STORAGE_ACCOUNT: rig.accountName, AZURE_STORAGE_KEY: rig.accountKey };
  const armIdentity = { ARM_CLIENT_ID: ENVIRONMENT.id, ARM_CLIENT_SECRET: ENVIRONMENT.secret, ARM_TENANT_ID: rig.tenantId };

  const stacked = await hostWith(stackIdentity(STACK), { ...envKey, ...armIdentity });
  let mark = rig.storageRequests().length;
  await stacked.up(await register({ source: at(src, "seed.txt"), destination: keyed }));
  const onDestination = signers(mark, dst).filter((r) => r.path.endsWith("/by-key"));
  assert.ok(onDestination.length >= 2 && onDestination.every((r) => r.auth === "sharedKey"), JSON.stringify(onDestination));
  // "sas": the service reading the copy source through the user delegation SAS the stack's identity signed.
  const onSource = signers(mark, src).filter((r) => r.auth === "bearer" || r.auth === "sharedKey");
  assert.ok(
    onSource.every((r) => r.auth === "bearer" && r.clientId === STACK.id),
    `the source: the stack's ${JSON.stringify(onSource)}`,
  );

  const envOnly = await hostWith({}, { ...envKey, ...armIdentity });
  mark = rig.storageRequests().length;
  await envOnly.up(await register({ source: at(src, "seed.txt"), destination: at(dst, "by-env-key") }));
  assert.ok(
    signers(mark, dst).every((r) => r.auth === "sharedKey"),
    "no stack identity: the environment's key, as 0.1.0",
  );

  const armOnly = await hostWith({}, armIdentity);
  mark = rig.storageRequests().length;
  await armOnly.up(await register({ source: at(src, "seed.txt"), destination: at(dst, "by-arm") }));
  assert.deepEqual(new Set(signers(mark, dst).map((r) => r.clientId)), new Set([ENVIRONMENT.id]), "then the ARM_* identity");
  for (const blob of ["by-key", "by-env-key", "by-arm"]) assert.equal(await read(dst, blob), "precedence");
});

test("simulated token service: azure-native:useOidc with a token file and useMsi each sign as their identity", async () => {
  const { src, dst } = await seeded("federated and managed");
  const federated = { id: randomUUID(), assertion: `eyJ.${randomBytes(16).toString("base64url")}.x` };
  rig.app(federated.id, { assertion: federated.assertion });
  const oidc = await hostWith({
    "azure-native:useOidc": "true",
    "azure-native:clientId": federated.id,
    "azure-native:tenantId": rig.tenantId,
    "azure-native:oidcTokenFilePath": rig.federatedTokenFile(federated.assertion),
  });
  let mark = rig.storageRequests().length;
  await oidc.up(await register({ source: at(src, "seed.txt"), destination: at(dst, "oidc") }));
  assert.deepEqual(new Set(signers(mark, dst).map((r) => r.clientId)), new Set([federated.id]));
  assert.ok(rig.tokenRequests().some((t) => t.clientId === federated.id && t.credential === "assertion" && t.ok));

  const managed = randomUUID();
  rig.app(managed, { managedIdentity: "user" });
  const msi = await hostWith({ "azure-native:useMsi": "true", "azure-native:clientId": managed }, rig.managedIdentityEnv);
  mark = rig.storageRequests().length;
  await msi.up(await register({ source: at(src, "seed.txt"), destination: at(dst, "msi") }));
  assert.deepEqual(new Set(signers(mark, dst).map((r) => r.clientId)), new Set([managed]));
  assert.ok(rig.tokenRequests().some((t) => t.clientId === managed && t.credential === "managedIdentity" && t.ok));
  for (const blob of ["oidc", "msi"]) assert.equal(await read(dst, blob), "federated and managed");
});

test("simulated token service: a refused client secret is AccessDenied naming where the identity came from, never the secret; nothing is written", async () => {
  const { src, dst } = await seeded("refused");
  const engine = await hostWith(stackIdentity({ id: STACK.id, secret: "not-the-secret-0123456789" }));
  const failure = await engine.up(await register({ source: at(src, "seed.txt"), destination: at(dst, "refused") })).then(
    () => assert.fail("copied"),
    (e: unknown) => e,
  );
  assert.ok(failure instanceof HostCallError, String(failure));
  assert.equal(codeOf(failure), "AccessDenied");
  assert.match(failure.message, /Azure AD refused the .*identity.*AADSTS7000215/);
  assert.match(failure.message, /azure-native:clientId/);
  assert.ok(!(failure.message + engine.host.output()).includes("not-the-secret-0123456789"));
  assert.equal(await rig.sharedKeyClient().getContainerClient(dst).getBlobClient("refused").exists(), false);
});
