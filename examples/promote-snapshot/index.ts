// Promotes a blob snapshot over its base blob at deploy time, e.g. to roll a static site back.
// The stack does not own the blob, so retainOnDelete keeps the promoted content on destroy.
// `npm run demo` runs this program against Azurite.
import * as pulumi from "@pulumi/pulumi";
import { CopiedObject } from "pulumi-copied-object";

const config = new pulumi.Config();
// accountUrl for the emulator or a custom domain; otherwise the account name.
const where = config.get("accountUrl") ? { accountUrl: config.require("accountUrl") } : { account: config.require("account") };
const container = config.get("container") ?? "site";
const blob = config.get("blob") ?? "index.html";

const promoted = new CopiedObject(
  "promote",
  {
    source: { azureBlob: { ...where, container, blob, snapshot: config.require("snapshot") } },
    destination: { azureBlob: { ...where, container, blob } },
  },
  { retainOnDelete: true },
);

export const etag = promoted.etag;
export const copyId = promoted.copyId;
export const strategy = promoted.strategy;
