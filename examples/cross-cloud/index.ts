// Copies across clouds, both ways. A release artifact goes from S3 into an Azure container this stack declares
// (server-side: Azure reads a presigned GET of the object). A nightly backup in an existing Azure account goes to
// an S3 bucket this stack declares; no server-side path exists that way, so it is streamed, and must be asked for.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as resources from "@pulumi/azure-native/resources";
import * as storage from "@pulumi/azure-native/storage";
import { CopiedObject } from "pulumi-copied-object";
import { s3Object } from "pulumi-copied-object/aws";
import { blobObject } from "pulumi-copied-object/azure";

const config = new pulumi.Config();
const release = config.require("release");

const group = new resources.ResourceGroup("releases");
const account = new storage.StorageAccount("releases", {
  resourceGroupName: group.name,
  kind: storage.Kind.StorageV2,
  sku: { name: storage.SkuName.Standard_LRS },
  minimumTlsVersion: storage.MinimumTlsVersion.TLS1_2,
});
const releases = new storage.BlobContainer("releases", { resourceGroupName: group.name, accountName: account.name });

export const toAzure = new CopiedObject("artifact-to-azure", {
  source: s3Object(config.require("artifactBucket"), `releases/app-${release}.tar.gz`, { region: config.get("artifactRegion") }),
  // The account's key, listed by azure-native and kept secret: no role assignment to wait for on a new account.
  destination: blobObject({ account, container: releases, blob: `app-${release}.tar.gz`, auth: "key", resourceGroupName: group.name }),
}).etag;

const backups = new aws.s3.Bucket("backups");
export const toS3 = new CopiedObject("backup-to-s3", {
  // An account this stack does not own, by name, signed in with the stack's azure-native identity.
  source: blobObject({ account: config.require("backupAccount"), container: "backups", blob: "db/nightly.bak" }),
  destination: s3Object(backups, "nightly.bak"),
  strategy: "stream", // through the machine running Pulumi, at most partSizeBytes × concurrency in memory
  partSizeBytes: 16 * 1024 * 1024,
  concurrency: 4,
}).etag;

export const backupBucket = backups.bucket;
