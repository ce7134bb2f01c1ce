// Rolls a site back by promoting a known-good version of its page over the current one, server-side.
// `pulumi destroy` removes only the version this stack wrote, so the page the release left comes back:
// the rollback undoes itself. With keepOnDestroy the promoted copy stays instead.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { CopiedObject } from "pulumi-copied-object";
import { s3Object } from "pulumi-copied-object/aws";

const config = new pulumi.Config();
// The site's bucket belongs to another stack: read it, never manage it. `get` also gives its region.
const site = aws.s3.Bucket.get("site", config.require("bucket"));
const key = config.get("key") ?? "index.html";

const rollback = new CopiedObject(
  "rollback",
  {
    source: s3Object(site, key, { versionId: config.require("goodVersionId") }),
    destination: s3Object(site, key),
  },
  { retainOnDelete: config.getBoolean("keepOnDestroy") ?? false },
);

export const promotedVersionId = rollback.versionId;
export const promotedFrom = rollback.sourceVersionId;
