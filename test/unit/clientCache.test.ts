import { test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { ClientCache, NO_CLIENT_CACHE_ENV, digest } from "../../dist/stores/clientCache.js";
import { newS3Client } from "../../dist/stores/s3.js";
import { blobHandle } from "../../dist/stores/azureBlob.js";
import { fileHandle } from "../../dist/stores/azureFile.js";

const counting = () => {
  let built = 0;
  return { build: () => ({ n: ++built }), built: () => built };
};

test("the same configuration gets the same client, built once", () => {
  const cache = new ClientCache<{ n: number }>();
  const { build, built } = counting();
  const a = cache.get({ endpoint: "http://127.0.0.1:9000", region: "us-east-1" }, build);
  // Key order and undefined members do not make a different configuration.
  const b = cache.get({ region: "us-east-1", endpoint: "http://127.0.0.1:9000", sessionToken: undefined }, build);
  assert.equal(a, b);
  assert.equal(built(), 1);
});

test("a different endpoint, region or secret gets its own client", () => {
  const cache = new ClientCache<{ n: number }>();
  const { build, built } = counting();
  const base = { endpoint: "http://127.0.0.1:9000", region: "us-east-1", credentials: { accessKeyId: "AK", secretAccessKey: "one" } };
  cache.get(base, build);
  cache.get({ ...base, endpoint: "http://127.0.0.1:9001" }, build);
  cache.get({ ...base, region: "eu-west-1" }, build);
  cache.get({ ...base, credentials: { accessKeyId: "AK", secretAccessKey: "two" } }, build);
  assert.equal(built(), 4);
  assert.equal(cache.size, 4);
});

test("the cache is capped: the least recently used client goes first", () => {
  const cache = new ClientCache<{ n: number }>(2);
  const { build, built } = counting();
  cache.get("a", build);
  cache.get("b", build);
  cache.get("a", build); // a is now the most recently used
  cache.get("c", build); // evicts b
  assert.equal(cache.size, 2);
  assert.equal(built(), 3);
  cache.get("a", build);
  assert.equal(built(), 3, "a stayed");
  cache.get("b", build);
  assert.equal(built(), 4, "b was evicted and is built again");
});

test("keys are digests: no secret is kept readable, not even as a map key", () => {
  const key = digest({ credentials: { secretAccessKey: "wJalrXUtnFEMI/K7MDENG" } });
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.ok(!key.includes("wJalr"));
});

test(`${NO_CLIENT_CACHE_ENV}=1 builds a new client on every call`, () => {
  const cache = new ClientCache<{ n: number }>();
  const { build, built } = counting();
  process.env[NO_CLIENT_CACHE_ENV] = "1";
  try {
    cache.get("a", build);
    cache.get("a", build);
    assert.equal(built(), 2);
    assert.equal(cache.size, 0);
  } finally {
    delete process.env[NO_CLIENT_CACHE_ENV];
  }
});

test("newS3Client reuses one client per endpoint and credential, and not across them", () => {
  const at = { bucket: "b", key: "k", endpoint: "http://127.0.0.1:1", region: "us-east-1" };
  const creds = { accessKeyId: "AK", secretAccessKey: "one" };
  assert.equal(newS3Client(at, creds), newS3Client({ ...at, bucket: "other", key: "other" }, { ...creds }));
  assert.notEqual(newS3Client(at, creds), newS3Client(at, { ...creds, secretAccessKey: "two" }));
  assert.notEqual(newS3Client(at, creds), newS3Client({ ...at, endpoint: "http://127.0.0.1:2" }, creds));
  assert.notEqual(newS3Client(at, creds), newS3Client(at), "the default chain is not the given key");
});

test("newS3Client never marks or keeps the caller's credentials object (it goes back into state)", () => {
  const creds = { accessKeyId: "AK", secretAccessKey: "three" };
  newS3Client({ bucket: "b", key: "k", endpoint: "http://127.0.0.1:1", region: "us-east-1" }, creds);
  assert.deepEqual(Object.keys(creds), ["accessKeyId", "secretAccessKey"]);
});

test("blob and file handles share the account's service client, and each gets its own blob or file client", () => {
  const key = Buffer.from("key").toString("base64");
  const url = "http://127.0.0.1:10000/devstoreaccount1";
  const a = blobHandle({ accountUrl: url, container: "c", blob: "a" }, { accountKey: key });
  const b = blobHandle({ accountUrl: url, container: "c", blob: "b" }, { accountKey: key });
  assert.equal(a.service, b.service);
  assert.notEqual(a.client, b.client);
  assert.equal(b.client.name, "b");
  assert.notEqual(blobHandle({ accountUrl: url, container: "c", blob: "a" }, { accountKey: Buffer.from("other").toString("base64") }).service, a.service);
  const f = fileHandle({ accountUrl: url, share: "s", path: "x/1" }, { accountKey: key });
  const g = fileHandle({ accountUrl: url, share: "s", path: "/x/2" }, { accountKey: key });
  assert.equal(f.service, g.service);
  assert.equal(g.client.path, "x/2");
});
