// Which object a locator names (identity.ts): a table of spellings that name the same object, and of
// spellings that do not. Everything that decides "same object" asks this module.
import { test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { identityOf, objectId, sameBase, sameObject, sameService } from "../../dist/identity.js";
import { resolveAzureAccount } from "../../dist/azureAccount.js";
import { ambientOf } from "../../dist/ambient.js";
import type { Locator } from "../../dist/locators.js";

type Side = { locator: Locator; credentials?: unknown; env?: Record<string, string> };
const side = (locator: Locator, credentials?: unknown, env?: Record<string, string>): Side => ({ locator, credentials, env });
const id = (s: Side) => identityOf(s.locator, s.credentials, ambientOf(s.env));

const KEY = "a2V5";
const azuriteCs = (account = "devstoreaccount1", endpoint = "http://127.0.0.1:10000") =>
  `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${KEY};BlobEndpoint=${endpoint}/${account};`;

const s3 = (extra: Record<string, unknown> = {}, bucket = "dev", key = "seed.sql.gz") => ({ s3: { bucket, key, ...extra } }) as Locator;
const blob = (extra: Record<string, unknown>, container = "env", name = "seed.bak") => ({ azureBlob: { container, blob: name, ...extra } }) as Locator;
const file = (extra: Record<string, unknown>, share = "seeds", path = "db/seed.bak") => ({ azureFile: { share, path, ...extra } }) as Locator;

const SAME: Array<[string, Side, Side]> = [
  ["an S3 endpoint with and without a trailing slash", side(s3({ endpoint: "http://127.0.0.1:9000" })), side(s3({ endpoint: "http://127.0.0.1:9000/" }))],
  ["an S3 endpoint's scheme and host in another case", side(s3({ endpoint: "http://minio.example.com:9000" })), side(s3({ endpoint: "HTTP://MinIO.Example.COM:9000" }))],
  ["an S3 endpoint with its default port spelt out", side(s3({ endpoint: "https://minio.example.com" })), side(s3({ endpoint: "https://minio.example.com:443/" }))],
  ["no endpoint and AWS's own regional endpoint", side(s3()), side(s3({ endpoint: "https://s3.eu-west-1.amazonaws.com" }))],
  ["no endpoint and AWS's dual-stack FIPS endpoint", side(s3({ region: "us-east-1" })), side(s3({ endpoint: "https://s3-fips.dualstack.us-east-1.amazonaws.com" }))],
  ["two AWS regions of one partition", side(s3({ region: "eu-west-1" })), side(s3({ region: "ap-south-1" }))],
  ["path style on and off", side(s3({ endpoint: "http://127.0.0.1:9000", forcePathStyle: true })), side(s3({ endpoint: "http://127.0.0.1:9000", forcePathStyle: false }))],
  ["other S3 credentials", side(s3(), { accessKeyId: "a", secretAccessKey: "b" }), side(s3())],
  ["an Azure accountUrl with and without a trailing slash", side(blob({ accountUrl: "https://acct.blob.core.windows.net" })), side(blob({ accountUrl: "https://acct.blob.core.windows.net/" }))],
  ["an Azure account name and its accountUrl", side(blob({ account: "acct" })), side(blob({ accountUrl: "https://ACCT.blob.core.windows.net:443" }))],
  ["Azurite's URL with and without a trailing slash", side(blob({ accountUrl: "http://127.0.0.1:10000/devstoreaccount1" })), side(blob({ accountUrl: "http://127.0.0.1:10000/devstoreaccount1/" }))],
  ["an account with a connection string, and the same account's accountUrl",
    side(blob({ account: "devstoreaccount1" }), { connectionString: azuriteCs() }), side(blob({ accountUrl: "http://127.0.0.1:10000/devstoreaccount1" }))],
  ["a connection string alone, and the account's URL", side(blob({}), { connectionString: azuriteCs() }), side(blob({ accountUrl: "http://127.0.0.1:10000/devstoreaccount1" }), { accountKey: KEY })],
  ["a public-cloud connection string, and the account name",
    side(blob({}), { connectionString: `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${KEY};EndpointSuffix=core.windows.net` }), side(blob({ account: "acct" }))],
  ["AZURE_STORAGE_CONNECTION_STRING for the named account", side(blob({ account: "devstoreaccount1" }), undefined, { AZURE_STORAGE_CONNECTION_STRING: azuriteCs() }),
    side(blob({ accountUrl: "http://127.0.0.1:10000/devstoreaccount1" }))],
  ["a SAS and a key on one account", side(blob({ account: "acct" }), { sasToken: "sv=1&sig=x" }), side(blob({ account: "acct" }), { accountKey: KEY })],
  ["a Files path with a leading slash, and in another case (Azure Files ignores case)", side(file({ account: "acct" }, "seeds", "/DB/Seed.bak")), side(file({ account: "acct" }))],
  ["a Files account name and its file endpoint", side(file({ account: "acct" })), side(file({ accountUrl: "https://acct.file.core.windows.net/" }))],
  ["a URL's host case, default port and query", side({ url: "HTTPS://Example.COM:443/seed.gz?sig=1" }), side({ url: "https://example.com/seed.gz" })],
];

const DIFFERENT: Array<[string, Side, Side]> = [
  ["another bucket", side(s3()), side(s3({}, "prod"))],
  ["another key", side(s3()), side(s3({}, "dev", "seed.sql"))],
  ["a key in another case (S3 keys are case-sensitive)", side(s3()), side(s3({}, "dev", "Seed.sql.gz"))],
  ["a key with a doubled slash", side(s3({}, "dev", "a/b")), side(s3({}, "dev", "a//b"))],
  ["AWS and an S3-compatible server", side(s3()), side(s3({ endpoint: "http://127.0.0.1:9000" }))],
  ["two S3-compatible servers", side(s3({ endpoint: "http://127.0.0.1:9000" })), side(s3({ endpoint: "http://127.0.0.1:9001" }))],
  ["http and https on one host", side(s3({ endpoint: "http://minio.example.com:9000" })), side(s3({ endpoint: "https://minio.example.com:9000" }))],
  ["two names of one server (no DNS is consulted)", side(s3({ endpoint: "http://127.0.0.1:9000" })), side(s3({ endpoint: "http://localhost:9000" }))],
  ["two AWS partitions", side(s3({ region: "eu-west-1" })), side(s3({ region: "cn-north-1" }))],
  ["AWS and AWS China by endpoint", side(s3()), side(s3({ endpoint: "https://s3.cn-north-1.amazonaws.com.cn" }))],
  ["another Azure account", side(blob({ account: "acct" })), side(blob({ account: "acct2" }))],
  ["another container", side(blob({ account: "acct" })), side(blob({ account: "acct" }, "prod"))],
  ["a blob name in another case", side(blob({ account: "acct" })), side(blob({ account: "acct" }, "env", "Seed.bak"))],
  ["a blob and a file of one account", side(blob({ account: "acct" }, "seeds", "db/seed.bak")), side(file({ account: "acct" }))],
  ["an account named, and a connection string for another (the connection string decides where requests go)",
    side(blob({ account: "devstoreaccount1" }), { connectionString: azuriteCs("account2") }), side(blob({ account: "devstoreaccount1" }))],
  ["AZURE_STORAGE_CONNECTION_STRING for another account is not used", side(blob({ account: "acct" }), undefined, { AZURE_STORAGE_CONNECTION_STRING: azuriteCs() }),
    side(blob({ accountUrl: "http://127.0.0.1:10000/devstoreaccount1" }))],
  ["another share", side(file({ account: "acct" })), side(file({ account: "acct" }, "other"))],
  ["another path", side(file({ account: "acct" })), side(file({ account: "acct" }, "seeds", "db/seed2.bak"))],
  ["a URL on another host", side({ url: "https://example.com/seed.gz" }), side({ url: "https://example.org/seed.gz" })],
];

for (const [name, a, b] of SAME) {
  test(`same object: ${name}`, () => {
    assert.ok(sameObject(id(a), id(b)), `${JSON.stringify(id(a))} vs ${JSON.stringify(id(b))}`);
    assert.equal(objectId(id(a)!), objectId(id(b)!), "one resource id");
  });
}

for (const [name, a, b] of DIFFERENT) {
  test(`different objects: ${name}`, () => {
    assert.ok(!sameObject(id(a), id(b)), `${JSON.stringify(id(a))} vs ${JSON.stringify(id(b))}`);
    assert.notEqual(objectId(id(a)!), objectId(id(b)!), "two resource ids");
  });
}

test("a pinned version is part of the object copied, not of its base", () => {
  const current = id(side(s3()));
  const pinned = id(side(s3({ versionId: "v1" })));
  assert.ok(!sameObject(current, pinned));
  assert.ok(sameBase(current, pinned));
  const snapshot = id(side(blob({ account: "acct", snapshot: "2026-11-21T09:30:00.0000000Z" })));
  assert.ok(sameBase(snapshot, id(side(blob({ account: "acct" })))) && !sameObject(snapshot, id(side(blob({ account: "acct" })))));
});

test("services: every AWS region is one service; S3-compatible servers are theirs", () => {
  assert.ok(sameService(id(side(s3({ region: "eu-west-1" }, "a"))), id(side(s3({ region: "us-west-2" }, "b")))));
  assert.ok(!sameService(id(side(s3())), id(side(s3({ endpoint: "http://127.0.0.1:9000" })))));
  assert.equal(id(side(s3({ region: "us-gov-west-1" })))?.service, "aws-us-gov");
});

test("resource ids: s3://bucket/key on AWS (as 0.1.0 wrote them), the service otherwise, the object's URL on Azure", () => {
  assert.equal(objectId(id(side(s3()))!), "s3://dev/seed.sql.gz");
  assert.equal(objectId(id(side(s3({ endpoint: "http://127.0.0.1:9000/" })))!), "s3+http://127.0.0.1:9000/dev/seed.sql.gz");
  assert.equal(objectId(id(side(s3({ region: "cn-north-1" })))!), "s3+aws-cn://dev/seed.sql.gz");
  assert.equal(objectId(id(side(blob({ account: "acct" })))!), "https://acct.blob.core.windows.net/env/seed.bak");
  assert.equal(objectId(id(side(file({ account: "acct" }, "seeds", "/DB/x")))!), "https://acct.file.core.windows.net/seeds/db/x");
});

test("an unknown value (preview) has no identity, and is never the same object", () => {
  const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
  assert.equal(id(side(s3({}, unknown))), undefined);
  assert.ok(!sameObject(undefined, id(side(s3()))));
});

test("the account resolver: credentials in the documented order, one rule for Blob and Files", () => {
  const env = { AZURE_STORAGE_ACCOUNT: "acct", AZURE_STORAGE_KEY: KEY };
  assert.deepEqual(resolveAzureAccount({ account: "acct" }, undefined, ambientOf(env), "blob")?.auth, { kind: "key", key: KEY });
  assert.deepEqual(resolveAzureAccount({ account: "other" }, undefined, ambientOf(env), "file")?.auth, {
    kind: "identity",
    identity: { kind: "default", from: "environment" },
  });
  assert.deepEqual(resolveAzureAccount({ account: "acct" }, { sasToken: "?sv=1&sig=x" }, ambientOf(env), "file")?.auth, { kind: "sas", sas: "sv=1&sig=x" });
  const fromEnv = resolveAzureAccount({}, undefined, ambientOf({ AZURE_STORAGE_CONNECTION_STRING: azuriteCs() }), "blob");
  assert.deepEqual([fromEnv?.url, fromEnv?.accountName, fromEnv?.auth.kind], ["http://127.0.0.1:10000/devstoreaccount1", "devstoreaccount1", "connectionString"]);
  assert.equal(resolveAzureAccount({}, undefined, ambientOf({}), "blob"), undefined, "no account anywhere");
  const files = resolveAzureAccount({}, { connectionString: `AccountName=acct;AccountKey=${KEY};FileEndpoint=http://127.0.0.1:7000/acct/` }, ambientOf(), "file");
  assert.equal(files?.url, "http://127.0.0.1:7000/acct");
});
