import { test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { UNKNOWN, validateInputs } from "../../dist/args.js";

const good = {
  source: { s3: { bucket: "prod-seeds", key: "db/seed.sql.gz" } },
  destination: { s3: { bucket: "dev-seeds", key: "seed.sql.gz" } },
};

function failuresOf(overrides: Record<string, unknown>) {
  return validateInputs({ ...good, ...overrides });
}

function propertiesOf(overrides: Record<string, unknown>) {
  return failuresOf(overrides).map((f) => f.property);
}

test("a minimal S3 to S3 copy is valid", () => {
  assert.deepEqual(validateInputs({ ...good, __provider: "exports.handler = ..." }), []);
});

test("every option that applies to S3 is accepted with sensible values", () => {
  assert.deepEqual(
    failuresOf({
      metadata: { team: "data" }, tags: { env: "dev" }, contentType: "application/gzip", cacheControl: "no-cache",
      contentDisposition: "attachment", contentEncoding: "gzip", contentLanguage: "en", storageClass: "STANDARD_IA",
      serverSideEncryption: "aws:kms", kmsKeyId: "alias/seeds", sourceEtag: "abc", strategy: "multipart",
      partSizeBytes: 8 * 1024 * 1024, concurrency: 4, timeoutSeconds: 1800, pollIntervalSeconds: 2, trackSource: false, verify: true,
      sourceCredentials: { accessKeyId: "a", secretAccessKey: "b" },
    }),
    [],
  );
});

test("values unknown during preview are not judged", () => {
  assert.deepEqual(failuresOf({ destination: { s3: { bucket: UNKNOWN, key: "seed" } }, timeoutSeconds: UNKNOWN }), []);
  assert.deepEqual(failuresOf({ destination: UNKNOWN }), []);
});

const badInputs: Array<[string, Record<string, unknown>, string]> = [
  ["an unknown option, with a suggestion", { timeoutSecond: 5 }, "timeoutSecond"],
  ["no source", { source: undefined }, "source"],
  ["two kinds in one locator", { source: { s3: good.source.s3, url: "https://x" } }, "source"],
  ["an unknown locator kind", { source: { gcs: { bucket: "b" } } }, "source.gcs"],
  ["a URL as destination", { destination: { url: "https://example.com/x" } }, "destination.url"],
  ["an S3 to Azure Files pair, which Copy File cannot read", { destination: { azureFile: { account: "devacct", share: "seeds", path: "p" } } }, "destination"],
  ["a share name with capitals", { source: { azureFile: { account: "devacct", share: "Seeds", path: "p" } }, destination: { azureFile: { account: "devacct", share: "seeds", path: "q" } } }, "source.azureFile.share"],
  ["a file path ending in a slash", { source: { azureFile: { account: "devacct", share: "seeds", path: "dir/" } }, destination: { azureFile: { account: "devacct", share: "seeds", path: "q" } } }, "source.azureFile.path"],
  ["a share snapshot on a destination", { source: { azureFile: { account: "devacct", share: "seeds", path: "p" } }, destination: { azureFile: { account: "devacct", share: "seeds", path: "q", shareSnapshot: "2026-11-20T10:00:00.0000000Z" } } }, "destination.azureFile.shareSnapshot"],
  ["blocks into Azure Files", { source: { azureFile: { account: "devacct", share: "seeds", path: "p" } }, destination: { azureFile: { account: "devacct", share: "seeds", path: "q" } }, strategy: "blocks" }, "strategy"],
  ["an Azure Blob to S3 pair without strategy \"stream\"", { source: { azureBlob: { account: "prodacct", container: "seeds", blob: "b" } } }, "strategy"],
  ["a URL to S3 pair without strategy \"stream\"", { source: { url: "https://example.com/seed" } }, "strategy"],
  ["a URL to Azure Files, which Copy File cannot read", { source: { url: "https://example.com/seed" }, destination: { azureFile: { account: "devacct", share: "seeds", path: "p" } } }, "destination"],
  ["an ftp URL", { source: { url: "ftp://example.com/seed" } }, "source.url"],
  ["a URL with a password in it", { source: { url: "https://user:pw@example.com/seed" } }, "source.url"],
  ["an empty key", { source: { s3: { bucket: "prod-seeds", key: "" } } }, "source.s3.key"],
  ["a key over 1024 bytes", { source: { s3: { bucket: "prod-seeds", key: "é".repeat(513) } } }, "source.s3.key"],
  ["an upper-case bucket on AWS", { source: { s3: { bucket: "Prod_Seeds", key: "k" } } }, "source.s3.bucket"],
  ["a bucket with s3:// in it", { source: { s3: { bucket: "s3://prod-seeds", key: "k" } } }, "source.s3.bucket"],
  ["a two-letter bucket", { destination: { s3: { bucket: "ab", key: "k" } } }, "destination.s3.bucket"],
  ["an IP address as bucket", { destination: { s3: { bucket: "10.0.0.1", key: "k" } } }, "destination.s3.bucket"],
  ["a misspelt locator field", { source: { s3: { Bucket: "prod-seeds", key: "k" } } }, "source.s3.Bucket"],
  ["a versionId on the destination", { destination: { s3: { bucket: "dev-seeds", key: "k", versionId: "v1" } } }, "destination.s3.versionId"],
  ["a malformed endpoint", { source: { s3: { bucket: "b-1", key: "k", endpoint: "localhost:9000" } } }, "source.s3.endpoint"],
  ["a malformed region", { source: { s3: { bucket: "b-1", key: "k", region: "EU West" } } }, "source.s3.region"],
  ["copying an object onto itself", { destination: good.source }, "destination.s3.key"],
  ["credentials without a secret key", { sourceCredentials: { accessKeyId: "a" } }, "source.s3.credentials.secretAccessKey"],
  ["metadata that is not a map of strings", { metadata: { size: 5 } }, "metadata.size"],
  ["a metadata key with spaces", { metadata: { "my key": "v" } }, "metadata.my key"],
  ["eleven tags on S3", { tags: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`t${i}`, "v"])) }, "tags"],
  ["an unknown storage class", { storageClass: "COLD" }, "storageClass"],
  ["an Azure access tier on S3", { accessTier: "Cool" }, "accessTier"],
  ["an unknown encryption", { serverSideEncryption: "rot13" }, "serverSideEncryption"],
  ["a KMS key without KMS encryption", { kmsKeyId: "alias/x" }, "kmsKeyId"],
  ["an unknown strategy", { strategy: "fast" }, "strategy"],
  ["an Azure-only strategy on S3", { strategy: "blocks" }, "strategy"],
  ["stream when a server-side path exists", { strategy: "stream" }, "strategy"],
  ["parts under 5 MiB", { partSizeBytes: 1024 }, "partSizeBytes"],
  ["parts over 5 GiB", { partSizeBytes: 6 * 1024 ** 3 }, "partSizeBytes"],
  ["fractional concurrency", { concurrency: 2.5 }, "concurrency"],
  ["zero concurrency", { concurrency: 0 }, "concurrency"],
  ["a negative timeout", { timeoutSeconds: -1 }, "timeoutSeconds"],
  ["an absurd timeout", { timeoutSeconds: 1e9 }, "timeoutSeconds"],
  ["a poll interval longer than the timeout", { timeoutSeconds: 10, pollIntervalSeconds: 60 }, "pollIntervalSeconds"],
  ["trackSource as a string", { trackSource: "yes" }, "trackSource"],
  ["an empty sourceEtag", { sourceEtag: "" }, "sourceEtag"],
  ["metadata that is not US-ASCII (HTTP headers refuse it)", { metadata: { team: "数据" } }, "metadata.team"],
  ["an endpoint carrying user:password", { source: { s3: { bucket: "b-1", key: "k", endpoint: "http://ak:sk@localhost:9000" } } }, "source.s3.endpoint"],
  ["an Azure Files copy onto itself (paths are case-insensitive)", { source: { azureFile: { account: "devacct", share: "seeds", path: "dir/p" } }, destination: { azureFile: { account: "devacct", share: "seeds", path: "/DIR/p" } } }, "destination.azureFile.path"],
  ["a file path with a '..' part, which would address another share", { source: { azureFile: { account: "devacct", share: "seeds", path: "p" } }, destination: { azureFile: { account: "devacct", share: "seeds", path: "../other/q" } } }, "destination.azureFile.path"],
  ["a file path with an empty part", { source: { azureFile: { account: "devacct", share: "seeds", path: "dir//p" } }, destination: { azureFile: { account: "devacct", share: "seeds", path: "q" } } }, "source.azureFile.path"],
  ["a reserved file name", { source: { azureFile: { account: "devacct", share: "seeds", path: "p" } }, destination: { azureFile: { account: "devacct", share: "seeds", path: "logs/nul" } } }, "destination.azureFile.path"],
  ["a profile that is not a name", { source: { s3: { bucket: "b-1", key: "k", profile: "prod profile" } } }, "source.s3.profile"],
  ["a profile and credentials on one side", { source: { s3: { bucket: "b-1", key: "k", profile: "prod" } }, sourceCredentials: { accessKeyId: "a", secretAccessKey: "b" } }, "source.s3.profile"],
  ["an assumeRole without a role ARN", { source: { s3: { bucket: "b-1", key: "k", assumeRole: { roleArn: "seed-reader" } } } }, "source.s3.assumeRole.roleArn"],
  ["an assumeRole session name with spaces", { destination: { s3: { bucket: "b-1", key: "k", assumeRole: { roleArn: "arn:aws:iam::123456789012:role/r", sessionName: "my deploy" } } } }, "destination.s3.assumeRole.sessionName"],
  ["an assumeRole of 60 seconds", { destination: { s3: { bucket: "b-1", key: "k", assumeRole: { roleArn: "arn:aws:iam::123456789012:role/r", durationSeconds: 60 } } } }, "destination.s3.assumeRole.durationSeconds"],
  ["an assumeRole external id of one character", { destination: { s3: { bucket: "b-1", key: "k", assumeRole: { roleArn: "arn:aws:iam::123456789012:role/r", externalId: "x" } } } }, "destination.s3.assumeRole.externalId"],
  ["a misspelt assumeRole field", { destination: { s3: { bucket: "b-1", key: "k", assumeRole: { roleArn: "arn:aws:iam::123456789012:role/r", role_arn: "x" } } } }, "destination.s3.assumeRole.role_arn"],
  ["a blob endpoint as a Files accountUrl", { source: { azureFile: { accountUrl: "https://devacct.blob.core.windows.net", share: "seeds", path: "p" } }, destination: { azureFile: { account: "devacct", share: "seeds", path: "q" } } }, "source.azureFile.accountUrl"],
];

for (const [story, overrides, property] of badInputs) {
  test(`check rejects ${story}, naming ${property}`, () => {
    const failures = failuresOf(overrides);
    assert.ok(failures.some((f) => f.property === property), `expected a failure on ${property}, got ${JSON.stringify(failures)}`);
    for (const f of failures) assert.match(f.reason, /\S{3,}/);
  });
}

test("a typo gets a did-you-mean for the right name", () => {
  const [failure] = failuresOf({ timeoutSecond: 5 });
  assert.match(failure.reason, /did you mean "timeoutSeconds"/);
});

test("a credential value never appears in a failure", () => {
  const secret = "wJalrXUtnSECRETvalue";
  const failures = failuresOf({ sourceCredentials: { accessKeyId: 7, secretAccessKey: secret, extra: secret } });
  assert.ok(failures.length > 0);
  assert.ok(!JSON.stringify(failures).includes(secret));
});

test("promoting a pinned version over its own key is allowed", () => {
  assert.deepEqual(failuresOf({ source: { s3: { ...good.destination.s3, versionId: "v1" } } }), []);
});

test("legacy bucket names pass when an S3-compatible endpoint is given", () => {
  const endpoint = "http://127.0.0.1:9000";
  assert.deepEqual(failuresOf({ source: { s3: { bucket: "Legacy_Bucket", key: "k", endpoint } }, destination: { s3: { bucket: "dev-seeds", key: "k", endpoint: `${endpoint}/` } } }), []);
});

test("S3 to S3 across two services is refused server-side, naming both, and accepted with strategy \"stream\"", () => {
  const across = { source: { s3: { bucket: "prod", key: "k", endpoint: "http://127.0.0.1:9000" } }, destination: { s3: { bucket: "prod", key: "k", endpoint: "http://127.0.0.1:9001" } } };
  const [failure, ...rest] = failuresOf(across);
  assert.equal(rest.length, 0);
  assert.equal(failure.property, "destination.s3.endpoint");
  assert.match(failure.reason, /is http:\/\/127\.0\.0\.1:9001, but the source is on http:\/\/127\.0\.0\.1:9000: .*Set strategy: "stream"/);
  assert.match(failuresOf({ ...across, source: { s3: { bucket: "prod", key: "k" } } })[0].reason, /is http:\/\/127\.0\.0\.1:9001, but the source is on AWS S3/);
  assert.deepEqual(failuresOf({ ...across, strategy: "stream" }), [], "streamed across services");
  assert.deepEqual(failuresOf({ source: { s3: { bucket: "prod", key: "k", region: "eu-west-1" } }, destination: { s3: { bucket: "dev", key: "k", region: "us-east-1" } } }), [], "AWS regions are one service");
  assert.equal(failuresOf({ ...good, strategy: "stream" })[0].property, "strategy", "stream on one service is refused: the server copies");
});

test("an object copied onto itself is refused whatever the spelling", () => {
  const [failure] = failuresOf({ source: { s3: { bucket: "prod", key: "k", endpoint: "http://127.0.0.1:9000/" } }, destination: { s3: { bucket: "prod", key: "k", endpoint: "HTTP://127.0.0.1:9000" } } });
  assert.equal(failure.property, "destination.s3.key");
  const blobs = validateInputs({
    source: { azureBlob: { account: "devstoreaccount1", container: "env", blob: "b" } },
    destination: { azureBlob: { accountUrl: "http://127.0.0.1:10000/devstoreaccount1/", container: "env", blob: "b" } },
    sourceCredentials: { connectionString: "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;" },
  });
  assert.deepEqual(blobs.map((f) => f.property), ["destination.azureBlob.blob"]);
});

test("an account that a connection string contradicts is refused, naming both endpoints", () => {
  const failures = validateInputs({
    source: { azureBlob: { account: "prodacct", container: "env", blob: "b" } },
    destination: { azureBlob: { account: "devacct", container: "env", blob: "b" } },
    destinationCredentials: { connectionString: "DefaultEndpointsProtocol=https;AccountName=otheracct;AccountKey=a2V5;EndpointSuffix=core.windows.net" },
  });
  assert.deepEqual(failures.map((f) => f.property), ["destination.azureBlob.account"]);
  assert.match(failures[0].reason, /names devacct, but credentials\.connectionString is for account otheracct \(https:\/\/otheracct\.blob\.core\.windows\.net\)/);
  assert.ok(!failures[0].reason.includes("a2V5"), "the key is never echoed");
});

test("an error code is read back from a message, behind the prefixes the host and CLI add", async () => {
  const { codeOfMessage } = await import("pulumi-copied-object");
  assert.equal(codeOfMessage("CopyTimedOut: the copy did not finish"), "CopyTimedOut");
  assert.equal(codeOfMessage("Create failed (grpc UNKNOWN): SourceNotFound: s3://b/k does not exist"), "SourceNotFound");
  assert.equal(codeOfMessage("error: NotACode: whatever"), undefined);
});

const blob = (over: Record<string, unknown> = {}) => ({ azureBlob: { account: "prodacct", container: "seeds", blob: "db.bak", ...over } });
const blobPair = { source: blob(), destination: blob({ account: "devacct" }) };

test("an Azure Blob to Azure Blob copy across accounts is valid, with Azure's options", () => {
  assert.deepEqual(validateInputs({ ...blobPair, accessTier: "Cool", tags: { env: "dev" }, metadata: { team_name: "data" }, strategy: "copy", sourceCredentials: { sasToken: "sv=2024&sp=r&sig=abc" } }), []);
  assert.deepEqual(validateInputs({ source: blob({ snapshot: "2026-11-20T10:00:00.0000000Z" }), destination: blob() }), [], "snapshot promotion over its own base blob");
});

const badBlobInputs: Array<[string, Record<string, unknown>, string]> = [
  ["an upper-case container", { destination: blob({ container: "Seeds" }) }, "destination.azureBlob.container"],
  ["a container with two hyphens in a row", { destination: blob({ container: "a--b" }) }, "destination.azureBlob.container"],
  ["an account name with a dash", { source: blob({ account: "prod-acct" }) }, "source.azureBlob.account"],
  ["both accountUrl and account", { source: blob({ accountUrl: "https://prodacct.blob.core.windows.net" }) }, "source.azureBlob.account"],
  ["a malformed accountUrl", { source: { azureBlob: { accountUrl: "prodacct.blob", container: "seeds", blob: "b" } } }, "source.azureBlob.accountUrl"],
  ["an empty blob name", { source: blob({ blob: "" }) }, "source.azureBlob.blob"],
  ["a snapshot on the destination", { destination: blob({ account: "devacct", snapshot: "2026-11-20T10:00:00.0000000Z" }) }, "destination.azureBlob.snapshot"],
  ["both snapshot and versionId on a source", { source: blob({ snapshot: "s", versionId: "v" }) }, "source.azureBlob.versionId"],
  ["copying a blob onto itself", { destination: blob() }, "destination.azureBlob.blob"],
  ["two credentials at once", { sourceCredentials: { accountKey: "a2V5", sasToken: "sig=x" } }, "source.azureBlob.credentials"],
  ["a SAS without read permission on a source", { sourceCredentials: { sasToken: "sv=2024&sp=w&sig=abc" } }, "source.azureBlob.credentials.sasToken"],
  ["a SAS with no signature", { sourceCredentials: { sasToken: "sv=2024&sp=r" } }, "source.azureBlob.credentials.sasToken"],
  ["an account key that is not base64", { destinationCredentials: { accountKey: "not a key!" } }, "destination.azureBlob.credentials.accountKey"],
  ["an unknown access tier", { accessTier: "Frozen" }, "accessTier"],
  ["an S3 storage class on Azure", { storageClass: "STANDARD_IA" }, "storageClass"],
  ["metadata names that are not C# identifiers", { metadata: { "team-name": "data" } }, "metadata.team-name"],
  ["an S3-only strategy", { strategy: "multipart" }, "strategy"],
  ["blocks above 4000 MiB", { partSizeBytes: 4001 * 1024 * 1024 }, "partSizeBytes"],
  ["a blob name with a '..' segment, which would address another blob", { destination: blob({ account: "devacct", blob: "a/../b" }) }, "destination.azureBlob.blob"],
  ["a destination SAS without write or create", { destinationCredentials: { sasToken: "sv=2024&sp=r&sig=abc" } }, "destination.azureBlob.credentials.sasToken"],
  ["a whole SAS URL as sasToken", { sourceCredentials: { sasToken: "https://prodacct.blob.core.windows.net/seeds/b?sv=2024&sp=r&sig=a2V5" } }, "source.azureBlob.credentials.sasToken"],
  ["an accountUrl carrying a SAS, which would be stored unencrypted", { source: { azureBlob: { accountUrl: "https://prodacct.blob.core.windows.net/?sv=2024&sp=r&sig=a2V5", container: "seeds", blob: "b" } } }, "source.azureBlob.accountUrl"],
  ["a service principal without its secret", { sourceCredentials: { tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47", clientId: "11111111-1111-1111-1111-111111111111" } }, "source.azureBlob.credentials"],
  ["a service principal with an empty tenant", { sourceCredentials: { tenantId: "", clientId: "11111111-1111-1111-1111-111111111111", clientSecret: "s" } }, "source.azureBlob.credentials.tenantId"],
  ["a client id that is not a GUID", { destinationCredentials: { tenantId: "contoso.onmicrosoft.com", clientId: "my-app", clientSecret: "s" } }, "destination.azureBlob.credentials.clientId"],
  ["a client id beside an account key", { destinationCredentials: { accountKey: "a2V5", clientId: "11111111-1111-1111-1111-111111111111" } }, "destination.azureBlob.credentials.tenantId"],
  ["an empty managed identity client id", { sourceCredentials: { managedIdentityClientId: "" } }, "source.azureBlob.credentials.managedIdentityClientId"],
  ["a Files endpoint as a blob accountUrl, with a did-you-mean", { source: { azureBlob: { accountUrl: "https://prodacct.file.core.windows.net", container: "seeds", blob: "b" } } }, "source.azureBlob.accountUrl"],
];

for (const [story, overrides, property] of badBlobInputs) {
  test(`check rejects ${story} (Azure Blob), naming ${property}`, () => {
    const failures = validateInputs({ ...blobPair, ...overrides });
    assert.ok(failures.some((f) => f.property === property), `expected a failure on ${property}, got ${JSON.stringify(failures)}`);
    assert.ok(!JSON.stringify(failures).includes("a2V5"));
  });
}

test("Azure AD identities per side and AWS profiles and roles per side are accepted", () => {
  const sp = { tenantId: "contoso.onmicrosoft.com", clientId: "11111111-1111-1111-1111-111111111111", clientSecret: "s" };
  assert.deepEqual(validateInputs({ ...blobPair, sourceCredentials: sp, destinationCredentials: { managedIdentityClientId: "22222222-2222-2222-2222-222222222222" } }), []);
  const role = { roleArn: "arn:aws-cn:iam::123456789012:role/path/seed-reader", sessionName: "deploy@ci", externalId: "ext-7", durationSeconds: 900 };
  assert.deepEqual(failuresOf({ source: { s3: { ...good.source.s3, profile: "prod", assumeRole: role } }, destination: { s3: { ...good.destination.s3, profile: "dev" } } }), []);
  assert.deepEqual(failuresOf({ source: { s3: { ...good.source.s3, assumeRole: role } }, sourceCredentials: { accessKeyId: "a", secretAccessKey: "b" } }), []);
});

test("near misses of the dot-segment, SAS-permission, endpoint and ASCII rules are accepted", () => {
  assert.deepEqual(validateInputs({ source: blob({ blob: "v1.2/app..tar.gz" }), destination: blob({ account: "devacct", blob: ".hidden/x." }), destinationCredentials: { sasToken: "sv=2024&sp=rcw&sig=abc" }, metadata: { note: "plain ascii ~!" } }), []);
  assert.deepEqual(validateInputs({ source: { azureBlob: { accountUrl: "https://prodacct.blob.core.windows.net/", container: "seeds", blob: "b" } }, destination: blob({ account: "devacct" }) }), []);
  assert.deepEqual(validateInputs({ source: { azureFile: { accountUrl: "http://127.0.0.1:10000/devstoreaccount1", share: "seeds", path: "/dir/.config" } }, destination: { azureFile: { account: "devacct", share: "seeds", path: "dir/console.log" } } }), []);
});

test("a URL or S3 source into Azure Blob is valid; the URL's query travels as a secret credential", () => {
  const destination = { azureBlob: { account: "devacct", container: "seeds", blob: "b" } };
  assert.deepEqual(validateInputs({ source: { url: "https://example.com/seed.sql.gz" }, destination, sourceCredentials: { query: "sv=1&sig=x" } }), []);
  assert.deepEqual(validateInputs({ source: good.source, destination, strategy: "blocks" }), []);
  assert.ok(validateInputs({ source: good.source, destination, strategy: "multipart" }).some((f) => f.property === "strategy"));
});

test("Azure or a URL into S3 is accepted with strategy \"stream\", which the error names", () => {
  const source = { azureBlob: { account: "prodacct", container: "seeds", blob: "b" } };
  assert.deepEqual(validateInputs({ source, destination: good.destination, strategy: "stream" }), []);
  const [failure] = validateInputs({ source, destination: good.destination });
  assert.match(failure.reason, /strategy: "stream"/);
});

test("every pair of stores is either accepted or refused with a reason that names the way forward", () => {
  const at = {
    s3: { s3: { bucket: "some-bucket", key: "k" } },
    azureBlob: { azureBlob: { account: "someacct", container: "box", blob: "b" } },
    azureFile: { azureFile: { account: "someacct", share: "share", path: "p" } },
    url: { url: "https://example.com/p" },
  } as const;
  const outcome: Record<string, string> = {};
  for (const from of Object.keys(at) as Array<keyof typeof at>) {
    for (const to of ["s3", "azureBlob", "azureFile", "url"] as const) {
      const destination = JSON.parse(JSON.stringify(at[to]).replace(/"(k|b|p)"/, '"copied"').replace("example.com/p", "example.com/copied"));
      const failures = validateInputs({ source: at[from], destination });
      outcome[`${from}->${to}`] = failures.length ? failures.map((f) => f.property).join(",") : "ok";
      for (const f of failures) assert.match(f.reason, /use|Set|copy|can only|Remove|instead/i, `${from}->${to}: ${f.reason}`);
    }
  }
  assert.deepEqual(outcome, {
    "s3->s3": "ok", "s3->azureBlob": "ok", "s3->azureFile": "destination", "s3->url": "destination.url",
    "azureBlob->s3": "strategy", "azureBlob->azureBlob": "ok", "azureBlob->azureFile": "ok", "azureBlob->url": "destination.url",
    "azureFile->s3": "strategy", "azureFile->azureBlob": "ok", "azureFile->azureFile": "ok", "azureFile->url": "destination.url",
    "url->s3": "strategy", "url->azureBlob": "ok", "url->azureFile": "destination", "url->url": "destination.url",
  });
});
