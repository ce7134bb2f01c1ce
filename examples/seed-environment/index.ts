// Seeds a dev bucket with a copy of a prod snapshot, server-side.
// With a Pulumi CLI: `pulumi config set sourceBucket ...` etc., then `pulumi up` (see the README).
// `npm run demo` runs this same program against local S3 servers.
import * as pulumi from "@pulumi/pulumi";
import { CopiedObject } from "pulumi-copied-object";

const config = new pulumi.Config();
// Only for S3-compatible servers (the demo's local one); leave unset for AWS.
const endpoint = config.get("s3Endpoint");

const seed = new CopiedObject("seed", {
  source: { s3: { bucket: config.require("sourceBucket"), key: config.get("sourceKey") ?? "db/seed.sql.gz", endpoint } },
  destination: { s3: { bucket: config.require("destinationBucket"), key: config.get("destinationKey") ?? "seed.sql.gz", endpoint } },
  metadata: { team: "data", seededBy: "pulumi-copied-object" },
  timeoutSeconds: 1800,
});

export const etag = seed.etag;
export const versionId = seed.versionId;
export const strategy = seed.strategy;
export const contentLength = seed.contentLength;
