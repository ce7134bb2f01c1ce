// Each backend's SDK loads on first use: in Pulumi's host, an S3-only program never pays for Azure's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";

const index = createRequire(import.meta.url).resolve("pulumi-copied-object/dist/stores/index.js");

/** The SDK packages loaded, in a fresh process, after getting the backends for `pairs`. */
function sdksLoadedBy(pairs: Array<[string, string]>): string[] {
  const script = `
    const { storeFor, copierFor } = require(${JSON.stringify(index)});
    const at = (kind) => ({ s3: { s3: { bucket: "b", key: "k" } }, azureBlob: { azureBlob: { accountUrl: "https://a.blob.core.windows.net", container: "c", blob: "b" } }, azureFile: { azureFile: { accountUrl: "https://a.file.core.windows.net", share: "s", path: "p" } } })[kind];
    for (const [from, to] of ${JSON.stringify(pairs)}) { storeFor(at(from)); storeFor(at(to)); copierFor(at(from), at(to)); }
    const sdks = new Set(Object.keys(require.cache).map((f) => /node_modules\\/(@(?:aws-sdk|azure)\\/[^/]+)/.exec(f)?.[1]).filter(Boolean));
    console.log(JSON.stringify([...sdks].sort()));`;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }));
}

test("loading the backends loads no SDK until one is asked for", () => {
  assert.deepEqual(sdksLoadedBy([]), []);
});

test("an S3 to S3 copy loads the S3 client (and what it needs) alone: no Azure SDK, no presigner", () => {
  const loaded = sdksLoadedBy([["s3", "s3"]]);
  assert.ok(loaded.includes("@aws-sdk/client-s3"), String(loaded));
  assert.deepEqual(loaded.filter((p) => p.startsWith("@azure/") || p === "@aws-sdk/s3-request-presigner" || p === "@aws-sdk/lib-storage"), []);
});

test("Azure Blob to S3 (stream) loads no Azure Files SDK; Files to Files loads it", () => {
  assert.ok(!sdksLoadedBy([["azureBlob", "s3"]]).includes("@azure/storage-file-share"));
  assert.ok(sdksLoadedBy([["azureFile", "azureFile"]]).includes("@azure/storage-file-share"));
});
