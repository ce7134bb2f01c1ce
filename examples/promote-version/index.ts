// Promotes a known-good version of a versioned object over the current one at deploy time.
// `pulumi destroy` removes only the version this stack wrote, so the previous current version
// comes back; retainOnDelete keeps the promoted copy instead. Typechecked by `npm test`.
import * as pulumi from "@pulumi/pulumi";
import { CopiedObject } from "pulumi-copied-object";

const config = new pulumi.Config();
const bucket = config.require("bucket");
const key = config.get("key") ?? "site/index.html";

const promoted = new CopiedObject(
  "promote",
  {
    source: { s3: { bucket, key, versionId: config.require("goodVersionId") } },
    destination: { s3: { bucket, key } },
  },
  { retainOnDelete: config.getBoolean("keepOnDestroy") ?? false },
);

export const promotedVersionId = promoted.versionId;
export const promotedFrom = promoted.sourceVersionId;
