// Seeds a fresh dev bucket with last night's prod snapshot, copied server-side: the bytes never pass through
// the machine running `pulumi up`. The repository's Pulumi.yaml runs this program; `npm run demo` runs it on moto.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { CopiedObject } from "pulumi-copied-object";
import { s3Object } from "pulumi-copied-object/aws";

const config = new pulumi.Config();
// An S3-compatible server for the copy (the demo's moto); unset for AWS. Against LocalStack or MinIO with the CLI,
// set the stack's endpoint instead, which @pulumi/aws (creating the bucket) and the copy both read:
//   pulumi config set --path 'aws:endpoints[0].s3' http://localhost:4566
//   pulumi config set aws:s3UsePathStyle true
//   pulumi config set aws:skipCredentialsValidation true && pulumi config set aws:skipRequestingAccountId true
const endpoint = config.get("s3Endpoint") || undefined; // Pulumi.yaml declares it with "" for unset

// No forceDestroy: destroy removes exactly the versions the copy wrote, so the bucket is empty by then,
// and anything else someone put there stops the delete instead of being lost with it.
const dev = new aws.s3.Bucket("dev-seeds");
// Versioned, so that each seed is a version of its own and `destroy` can remove exactly those.
const versioning = new aws.s3.BucketVersioning("dev-seeds", { bucket: dev.bucket, versioningConfiguration: { status: "Enabled" } });

const seed = new CopiedObject(
  "seed",
  {
    source: s3Object(config.require("sourceBucket"), config.get("sourceKey") ?? "db/seed.sql.gz", { endpoint }),
    // The bucket resource, not its name: the copy gets the bucket's region and waits for the bucket.
    destination: s3Object(dev, "seed.sql.gz", { endpoint }),
    metadata: { team: "data", seededBy: "pulumi-copied-object" },
    timeoutSeconds: 1800, // a seed that takes longer is stuck: abort the remote copy and fail the update
  },
  // The copy only depends on the bucket by its name: wait for versioning too, or the first seed has no version id.
  { dependsOn: [versioning] },
);

export const bucket = dev.bucket;
export const etag = seed.etag;
export const versionId = seed.versionId;
export const strategy = seed.strategy;
