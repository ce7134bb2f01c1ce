// A static site's storage, with a rollback switch. CI uploads each release to the `site` container and snapshots
// index.html; to roll back, `pulumi config set rollbackTo <snapshot>` and `pulumi up` promotes that snapshot over
// the live blob (async Copy Blob, waited for). `npm run demo` runs this program on Azurite.
import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";
import * as storage from "@pulumi/azure-native/storage";
import { CopiedObject } from "pulumi-copied-object";
import { blobObject } from "pulumi-copied-object/azure";

const config = new pulumi.Config();

const group = new resources.ResourceGroup("site");
const account = new storage.StorageAccount("site", {
  resourceGroupName: group.name,
  kind: storage.Kind.StorageV2,
  sku: { name: storage.SkuName.Standard_LRS },
  allowBlobPublicAccess: false,
  minimumTlsVersion: storage.MinimumTlsVersion.TLS1_2,
});
const container = new storage.BlobContainer("site", { resourceGroupName: group.name, accountName: account.name, containerName: "site" });

const rollbackTo = config.get("rollbackTo");
if (rollbackTo) {
  // Signs in with Azure AD (the stack's azure-native identity), which needs Storage Blob Data Contributor on the account.
  const page = { account, container, blob: config.get("blob") ?? "index.html" };
  new CopiedObject(
    "rollback",
    { source: blobObject({ ...page, snapshot: rollbackTo }), destination: blobObject(page) },
    // CI owns the live blob: unsetting rollbackTo (or destroy) must leave the promoted content, not delete the page.
    { retainOnDelete: true },
  );
}

export const accountName = account.name;
export const containerName = container.name;
