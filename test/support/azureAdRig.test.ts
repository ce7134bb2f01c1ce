/**
 * The Azure AD rig: REAL Azurite over HTTPS with `--oauth basic` behind a recording proxy, and the SIMULATED
 * Entra ID token service (azureAdTokenService.ts), exercised with the real @azure/identity and
 * @azure/storage-blob: in this process (with the rig's test-only `inProcess` options), and in a child
 * process given only the rig's `env`, as the provider host will be, where credentials take no options.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ClientAssertionCredential, ClientSecretCredential, type AccessToken, type TokenCredential } from "@azure/identity";
import { BlobSASPermissions, BlobServiceClient, RestError } from "@azure/storage-blob";
import { startAzureAdRig, type AzureAdRig } from "./azureAdRig.ts";
import { unsignedJwt } from "./azureAdTokenService.ts";
import { groupAlive } from "./processGroups.ts";
import { after, before, describe, test } from "./testing.ts";

const CLIENT = path.resolve("test/support/fixtures/azureAdClient.cjs"); // the tests run from the repo root
const APP_A = { id: randomUUID(), secret: `a~${randomBytes(12).toString("base64url")}` };
const APP_B = { id: randomUUID(), secret: `b~${randomBytes(12).toString("base64url")}` };
/** A federated token as GitHub Actions would present it (its shape only: the simulation compares it verbatim). */
const GITHUB_OIDC = {
  iss: "https://token.actions.githubusercontent.com", sub: "repo:o/r:ref:refs/heads/main", aud: "api://AzureADTokenExchange",
};
const FEDERATED = { id: randomUUID(), assertion: unsignedJwt(GITHUB_OIDC) };
const MI_SYSTEM = randomUUID();
const MI_USER = randomUUID();

interface ChildResult { ok: boolean; text?: string; name?: string; message?: string }
/** Runs fixtures/azureAdClient.cjs with `env` over this process's env, minus any inherited Azure or proxy settings. */
function runClient(rig: AzureAdRig, spec: Record<string, unknown>, env: Record<string, string> = rig.env): Promise<ChildResult> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AZURE_|IDENTITY_|MSI_)|_PROXY$/i.test(name)));
  const full = { blobUrl: rig.blobUrl, tenantId: rig.tenantId, container: "child", blob: "blob.txt", ...spec };
  return new Promise((resolve, reject) => {
    const options = { env: { ...inherited, ...env }, timeout: 120_000 };
    execFile(process.execPath, [CLIENT, JSON.stringify(full)], options, (err, stdout, stderr) => {
      const line = stdout.trim().split("\n").pop() ?? "";
      if (line.startsWith("{")) resolve(JSON.parse(line) as ChildResult);
      else reject(new Error(`client failed: ${err?.message}\n${stdout}\n${stderr}`));
    });
  });
}
/** The rejection of `p`. Not `instanceof Error`: fetch's errors come from outside jest's realm. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(typeof (err as Error | undefined)?.message === "string", "expected a rejection");
  return err as Error;
}
/** A credential that hands out one fixed token: to show what Azurite itself checks. */
const fixedToken = (token: string): TokenCredential => ({
  getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }),
});

describe("Azure AD rig", () => {
  let rig: AzureAdRig;
  before(async () => {
    rig = await startAzureAdRig();
    rig.app(APP_A.id, { secret: APP_A.secret });
    rig.app(APP_B.id, { secret: APP_B.secret });
    rig.app(FEDERATED.id, { assertion: FEDERATED.assertion });
    rig.app(MI_SYSTEM, { managedIdentity: "system" });
    rig.app(MI_USER, { managedIdentity: "user" });
  }, 120_000);
  after(async () => rig?.stop());

  test("real Azurite (HTTPS, --oauth basic) judges bearer tokens itself: issuer, audience, lifetime", async () => {
    await rig.sharedKeyClient().getContainerClient("judged").create();
    await rig.sharedKeyClient().getContainerClient("judged").getBlockBlobClient("b").upload("judged", 6);
    const now = Math.floor(Date.now() / 1000);
    const claims = { aud: "https://storage.azure.com", iss: `https://sts.windows.net/${rig.tenantId}/`, iat: now - 60, nbf: now - 60,
      exp: now + 600, appid: "hand-made", oid: randomUUID() };
    const blob = (over: Record<string, unknown>) => new BlobServiceClient(rig.blobUrl, fixedToken(unsignedJwt({ ...claims, ...over })))
      .getContainerClient("judged").getBlobClient("b");
    assert.equal((await blob({}).downloadToBuffer()).toString(), "judged");
    assert.equal((await blob({ aud: `https://${rig.accountName}.blob.core.windows.net` }).downloadToBuffer()).toString(), "judged");
    // Get Blob, not Get Blob Properties (HEAD), so that the error body says why.
    const refusals = {
      "Invalid token issuer.": { iss: `https://login.microsoftonline.com/${rig.tenantId}/v2.0` },
      "Invalid token audience.": { aud: `https://${rig.accounts.secondary.name}.blob.core.windows.net` },
      "Lifetime validation failed. The token is expired.": { exp: now - 10 },
      "Lifetime validation failed.": { nbf: now + 600 },
    };
    for (const [why, over] of Object.entries(refusals)) {
      const err = await rejection(blob(over).download());
      assert.ok(err instanceof RestError && err.statusCode === 403, `${why}: ${err.message}`);
      const details = err.details as { errorCode?: string; authenticationErrorDetail?: string };
      assert.deepEqual([details.errorCode, details.authenticationErrorDetail], ["AuthenticationFailed", why]);
    }
    const seen = rig.storageRequests().filter((r) => r.path === "/devstoreaccount1/judged/b");
    assert.ok(seen.some((r) => r.auth === "sharedKey" && r.status === 201));
    assert.ok(seen.some((r) => r.auth === "bearer" && r.clientId === "hand-made" && r.status === 200));
  });

  test("simulated token service: a client secret credential creates a container, uploads and downloads a blob", async () => {
    const credential = new ClientSecretCredential(rig.tenantId, APP_A.id, APP_A.secret, rig.inProcess);
    const container = new BlobServiceClient(rig.blobUrl, credential).getContainerClient("by-secret");
    const bytes = randomBytes(300 * 1024);
    await container.create();
    await container.getBlockBlobClient("random.bin").uploadData(bytes);
    assert.ok(bytes.equals(await container.getBlobClient("random.bin").downloadToBuffer()));

    const grants = rig.tokenRequests().filter((t) => t.clientId === APP_A.id);
    assert.deepEqual(grants.map((t) => [t.grant, t.credential, t.tenant, t.scope, t.ok]),
      [["client_credentials", "secret", rig.tenantId, "https://storage.azure.com/.default", true]]);
    const mine = rig.storageRequests().filter((r) => r.path.startsWith("/devstoreaccount1/by-secret"));
    assert.ok(mine.length >= 3);
    for (const r of mine) assert.deepEqual([r.auth, r.clientId], ["bearer", APP_A.id], `${r.method} ${r.path}`);
    assert.deepEqual(mine.map((r) => r.status).filter((s) => s >= 400), []);
  });

  test("simulated token service: two apps are each attributed their own storage requests", async () => {
    const client = (app: typeof APP_A) =>
      new BlobServiceClient(rig.blobUrl, new ClientSecretCredential(rig.tenantId, app.id, app.secret, rig.inProcess));
    await rig.sharedKeyClient().getContainerClient("two-apps").create();
    await client(APP_A).getContainerClient("two-apps").getBlockBlobClient("from-a").upload("a", 1);
    await client(APP_B).getContainerClient("two-apps").getBlockBlobClient("from-b").upload("b", 1);
    const who = (blob: string) => rig.storageRequests().filter((r) => r.path === `/devstoreaccount1/two-apps/${blob}`);
    assert.deepEqual(who("from-a").map((r) => [r.method, r.clientId, r.status]), [["PUT", APP_A.id, 201]]);
    assert.deepEqual(who("from-b").map((r) => [r.method, r.clientId, r.status]), [["PUT", APP_B.id, 201]]);
    assert.notEqual(who("from-a")[0]!.objectId, who("from-b")[0]!.objectId);
    assert.deepEqual(rig.storageRequests().filter((r) => r.path === "/devstoreaccount1/two-apps").map((r) => r.auth), ["sharedKey"]);
  });

  test("simulated token service: a wrong client secret fails with AADSTS7000215 and reaches no storage", async () => {
    const before = rig.storageRequests().length;
    const credential = new ClientSecretCredential(rig.tenantId, APP_B.id, "not-the-secret", rig.inProcess);
    const err = await rejection(new BlobServiceClient(rig.blobUrl, credential).getContainerClient("never").create());
    assert.match(err.message, /invalid_client/);
    assert.match(err.message, /AADSTS7000215: Invalid client secret provided/);
    assert.doesNotMatch(err.message, /not-the-secret/);
    const last = rig.tokenRequests().at(-1)!;
    assert.deepEqual([last.clientId, last.ok, last.error], [APP_B.id, false, "AADSTS7000215"]);
    assert.equal(rig.storageRequests().length, before);
  });

  test("simulated token service: a client assertion credential works; an unknown assertion gets AADSTS70021", async () => {
    const credential = new ClientAssertionCredential(rig.tenantId, FEDERATED.id, async () => FEDERATED.assertion, rig.inProcess);
    const container = new BlobServiceClient(rig.blobUrl, credential).getContainerClient("by-assertion");
    await container.create();
    await container.getBlockBlobClient("f").upload("federated", 9);
    assert.equal((await container.getBlobClient("f").downloadToBuffer()).toString(), "federated");
    const mine = rig.storageRequests().filter((r) => r.path.startsWith("/devstoreaccount1/by-assertion"));
    assert.deepEqual([...new Set(mine.map((r) => r.clientId))], [FEDERATED.id]);

    const other = unsignedJwt({ ...GITHUB_OIDC, sub: "repo:o/r:pull_request" });
    const wrong = new ClientAssertionCredential(rig.tenantId, FEDERATED.id, async () => other, rig.inProcess);
    const err = await rejection(wrong.getToken("https://storage.azure.com/.default"));
    assert.match(err.message, /AADSTS70021: No matching federated identity record/);
    const grants = rig.tokenRequests().filter((t) => t.clientId === FEDERATED.id).map((t) => [t.credential, t.ok, t.error]);
    assert.deepEqual(grants, [["assertion", true, undefined], ["assertion", false, "AADSTS70021"]]);
  });

  test("simulated token service: a copy records the source's identity too; Azurite's own source checks show", async () => {
    const sources = rig.sharedKeyClient().getContainerClient("copy-src");
    await sources.create();
    const source = sources.getBlockBlobClient("x");
    await source.upload("copy me", 7);
    const credential = (app: typeof APP_A) => new ClientSecretCredential(rig.tenantId, app.id, app.secret, rig.inProcess);
    const fromA = await credential(APP_A).getToken("https://storage.azure.com/.default");
    const asB = (url: string) => new BlobServiceClient(url, credential(APP_B));
    const sameAccount = asB(rig.blobUrl).getContainerClient("copy-src").getBlockBlobClient("y");
    const copied = await sameAccount.syncCopyFromURL(source.url, { sourceAuthorization: { scheme: "Bearer", value: fromA!.token } });
    assert.equal(copied.copyStatus, "success");
    const put = rig.storageRequests().filter((r) => r.path === "/devstoreaccount1/copy-src/y" && r.method === "PUT");
    assert.deepEqual(put.map((r) => [r.clientId, r.sourceClientId, r.status]), [[APP_B.id, APP_A.id, 202]]);

    // Across accounts Azurite checks the source with its own HEAD (through the recorder, trusting the rig's CA).
    await rig.sharedKeyClient(rig.accounts.secondary).getContainerClient("copy-dst").create();
    const sas = await source.generateSasUrl({ permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(Date.now() + 3600_000) });
    const other = asB(rig.accounts.secondary.url).getContainerClient("copy-dst").getBlockBlobClient("z");
    assert.equal((await other.syncCopyFromURL(sas)).copyStatus, "success");
    const checks = rig.storageRequests().filter((r) => r.path === "/devstoreaccount1/copy-src/x" && r.method === "HEAD");
    assert.deepEqual(checks.map((r) => [r.auth, r.status]), [["sas", 200]]);
    assert.equal((await rig.sharedKeyClient(rig.accounts.secondary).getContainerClient("copy-dst").getBlobClient("z")
      .downloadToBuffer()).toString(), "copy me");
  });

  test("simulated token service, child process with only the rig's env: credentials built with no options", async () => {
    const start = rig.serviceRequests().length;
    const bySecret = await runClient(rig, { credential: "secret", clientId: APP_A.id, secret: APP_A.secret, text: "from a child" });
    assert.deepEqual(bySecret, { ok: true, text: "from a child" });
    const tokenFile = rig.federatedTokenFile(FEDERATED.assertion);
    const workloadEnv = { ...rig.env, AZURE_TENANT_ID: rig.tenantId, AZURE_CLIENT_ID: FEDERATED.id,
      AZURE_FEDERATED_TOKEN_FILE: tokenFile };
    assert.deepEqual(await runClient(rig, { credential: "workload" }, workloadEnv), { ok: true, text: "from a child" });

    // They went to https://login.microsoftonline.com (through the proxy), with no instance discovery.
    const served = rig.serviceRequests().slice(start);
    const tokenCalls = served.filter((s) => s.path.endsWith("/oauth2/v2.0/token"));
    assert.deepEqual(tokenCalls.map((s) => [s.host, s.method, s.path, s.status]),
      [0, 1].map(() => ["login.microsoftonline.com", "POST", `/${rig.tenantId}/oauth2/v2.0/token`, 200]));
    assert.deepEqual(served.filter((s) => s.path.includes("discovery") || s.status === 403), []);
    const child = rig.storageRequests().filter((r) => r.path === "/devstoreaccount1/child/blob.txt");
    assert.ok(child.some((r) => r.method === "PUT" && r.clientId === APP_A.id && r.status === 201));
    assert.ok(child.some((r) => r.method === "GET" && r.clientId === FEDERATED.id && r.status === 206));

    const wrong = await runClient(rig, { credential: "secret", clientId: APP_A.id, secret: "wrong" });
    assert.equal(wrong.ok, false);
    assert.match(wrong.message!, /AADSTS7000215/);
  });

  test("simulated managed identity (App Service endpoint), child process: system- and user-assigned", async () => {
    const env = { ...rig.env, ...rig.managedIdentityEnv };
    await rig.sharedKeyClient().getContainerClient("child").createIfNotExists();
    assert.deepEqual(await runClient(rig, { credential: "managed", text: "mi" }, env), { ok: true, text: "mi" });
    assert.deepEqual(await runClient(rig, { credential: "managed", options: { clientId: MI_USER } }, env), { ok: true, text: "mi" });
    const unknown = await runClient(rig, { credential: "managed", options: { clientId: randomUUID() } }, env);
    assert.equal(unknown.ok, false);
    assert.match(unknown.message!, /No Managed Identity found/);

    const mi = rig.tokenRequests().filter((t) => t.credential === "managedIdentity");
    assert.deepEqual(mi.slice(0, 2).map((t) => [t.clientId, t.scope, t.ok]), [[MI_SYSTEM, "https://storage.azure.com", true],
      [MI_USER, "https://storage.azure.com", true]]);
    const reads = rig.storageRequests().filter((r) => r.path === "/devstoreaccount1/child/blob.txt" && r.method === "GET");
    assert.deepEqual(reads.slice(-2).map((r) => r.clientId), [MI_SYSTEM, MI_USER]);
  });

  test("simulated token service: an authority host outside Microsoft's clouds needs disableInstanceDiscovery", async () => {
    const spec = { credential: "secret", clientId: APP_A.id, secret: APP_A.secret };
    const start = rig.serviceRequests().length;
    const refused = await runClient(rig, { ...spec, options: { authorityHost: rig.directAuthorityHost } });
    assert.equal(refused.ok, false);
    assert.match(refused.message!, /endpoints_resolution_error/);
    // MSAL asked login.microsoftonline.com about the host, and was told invalid_instance, as Entra answers.
    const asked = rig.serviceRequests().slice(start).filter((s) => s.path === "/common/discovery/instance");
    assert.deepEqual(asked.map((s) => [s.host, s.status]), [["login.microsoftonline.com", 400]]);
    const options = { authorityHost: rig.directAuthorityHost, disableInstanceDiscovery: true };
    const accepted = await runClient(rig, { ...spec, options });
    assert.equal(accepted.ok, true, accepted.message);
  });

  test("stop() ends Azurite's process group, closes the ports and removes the certificates", async () => {
    const { azuritePid, dir, blobUrl, directAuthorityHost } = rig;
    await rig.stop();
    assert.equal(groupAlive(azuritePid), false);
    assert.equal(fs.existsSync(dir), false);
    for (const url of [blobUrl, directAuthorityHost]) {
      const err = await rejection(fetch(url));
      assert.match(String((err as { cause?: unknown }).cause), /ECONNREFUSED/, url);
    }
  });
});
