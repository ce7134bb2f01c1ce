// Copies across clouds: an S3 release artifact into Azure Blob (server-side: Azure reads a
// presigned GET), and an Azure backup into S3 (streamed through the provider: no server-side
// path exists, so it must be asked for). Typechecked by `npm test`; the pairs run in the tests.
import * as pulumi from "@pulumi/pulumi";
import { CopiedObject } from "pulumi-copied-object";

const config = new pulumi.Config();

export const toAzure = new CopiedObject("artifact-to-azure", {
  source: { s3: { bucket: config.require("s3Bucket"), key: "releases/app-1.4.2.tar.gz" } },
  destination: { azureBlob: { account: config.require("azureAccount"), container: "releases", blob: "app-1.4.2.tar.gz" } },
}).etag;

export const toS3 = new CopiedObject("backup-to-s3", {
  source: { azureBlob: { account: config.require("azureAccount"), container: "backups", blob: "db/nightly.bak" } },
  destination: { s3: { bucket: config.require("s3Bucket"), key: "backups/nightly.bak" } },
  strategy: "stream", // the bytes pass through the machine running Pulumi, at most partSizeBytes × concurrency at a time
  partSizeBytes: 16 * 1024 * 1024,
  concurrency: 4,
}).etag;
