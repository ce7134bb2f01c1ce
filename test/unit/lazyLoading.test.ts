// Each backend's SDK loads on first use: in Pulumi's host, an S3-only program never pays for Azure's.
import { test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";

const index = path.join(process.cwd(), "dist/stores/index.js");
const plan = path.join(process.cwd(), "dist/plan.js");

/** The SDK packages loaded, in a fresh process, after getting the backends for `pairs`. */
function sdksLoadedBy(pairs: Array<[string, string]>): string[] {
  const script = `
    const { storeFor, driverFor } = require(${JSON.stringify(index)});
    const { routeOf } = require(${JSON.stringify(plan)});
    for (const [from, to] of ${JSON.stringify(pairs)}) {
      const strategy = to === "s3" && from !== "s3" ? "stream" : "auto";
      storeFor(from); storeFor(to); driverFor(routeOf(from, to, strategy).driver, from);
    }
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
