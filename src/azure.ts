/**
 * `pulumi-copied-object/azure`: locators from the @pulumi/azure-native resources a program already declares. Only
 * `storageAccountKey` loads @pulumi/azure-native (an optional peer dependency), when it is called; the core entry
 * point and the provider never import this file.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as storage from "@pulumi/azure-native/storage";
import type { LocatorInput } from "./copiedObject";
import type { AzureCredentials } from "./locators";

/** A storage account resource, or an account's name. */
export type AccountRef = storage.StorageAccount | pulumi.Input<string>;

/**
 * How the copy signs in to the account:
 * - `"identity"`: Azure AD (the stack's azure-native identity, the environment, or DefaultAzureCredential); no key;
 * - `"key"`: the account key, fetched with listStorageAccountKeys and kept secret (needs `resourceGroupName`);
 * - explicit credentials, as on any locator.
 */
export type AzureAuth = "identity" | "key" | pulumi.Input<AzureCredentials>;

interface Common {
  /** The storage account: a resource (the copy then waits for it) or a name. */
  account: AccountRef;
  /** The account's resource group: needed for `auth: "key"`. */
  resourceGroupName?: pulumi.Input<string>;
  /** @default "identity" */
  auth?: AzureAuth;
}

/** A blob: the account, a container resource or name, and the blob's name. */
export interface BlobObjectArgs extends Common {
  container: storage.BlobContainer | pulumi.Input<string>;
  blob: pulumi.Input<string>;
  /** Source only: copy this snapshot. */
  snapshot?: pulumi.Input<string>;
  /** Source only: copy this version. */
  versionId?: pulumi.Input<string>;
}

/** A file: the account, a file share resource or name, and the file's path. */
export interface FileObjectArgs extends Common {
  share: storage.FileShare | pulumi.Input<string>;
  path: pulumi.Input<string>;
  /** Source only: copy the file as it was in this share snapshot. */
  shareSnapshot?: pulumi.Input<string>;
}

/**
 * A blob as a CopiedObject locator. The account name resolves in the stack's cloud (`azure-native:environment`).
 * @example blobObject({ account, container, blob: "seed.bak" }) // account and container are azure-native resources
 */
export function blobObject(args: BlobObjectArgs): LocatorInput {
  const { snapshot, versionId } = args;
  return {
    azureBlob: {
      account: nameOf(args.account),
      container: nameOf(args.container),
      blob: args.blob,
      ...(snapshot !== undefined ? { snapshot } : {}),
      ...(versionId !== undefined ? { versionId } : {}),
      ...credentialsOf(args),
    },
  } as LocatorInput;
}

/** A file in an Azure Files share as a CopiedObject locator. */
export function fileObject(args: FileObjectArgs): LocatorInput {
  const { shareSnapshot } = args;
  return {
    azureFile: {
      account: nameOf(args.account),
      share: nameOf(args.share),
      path: args.path,
      ...(shareSnapshot !== undefined ? { shareSnapshot } : {}),
      ...credentialsOf(args),
    },
  } as LocatorInput;
}

/**
 * The account's first key, from listStorageAccountKeys, as a secret Output: the invoke's own result is not marked
 * secret, so a key used directly would be stored in plaintext wherever it flows.
 */
export function storageAccountKey(args: { account: AccountRef; resourceGroupName: pulumi.Input<string> }): pulumi.Output<string> {
  // Loaded on use only: @pulumi/azure-native is large, and optional.
  const native: typeof storage = require("@pulumi/azure-native/storage");
  const keys = native.listStorageAccountKeysOutput({ accountName: nameOf(args.account), resourceGroupName: args.resourceGroupName });
  return pulumi.secret(
    keys.apply((result) => {
      const value = result.keys?.[0]?.value;
      if (!value)
        throw new Error('listStorageAccountKeys returned no key: is shared key access disabled on the account? Use auth: "identity"');
      return value;
    }),
  );
}

function credentialsOf(args: Common): { credentials?: pulumi.Input<AzureCredentials> } {
  const auth = args.auth ?? "identity";
  if (auth === "identity") return {};
  if (auth === "key") {
    if (args.resourceGroupName === undefined) throw new Error('auth: "key" needs resourceGroupName, to list the account\'s keys');
    return {
      credentials: { accountKey: storageAccountKey({ account: args.account, resourceGroupName: args.resourceGroupName }) } as never,
    };
  }
  return { credentials: auth };
}

/** A resource's `name` output, or the name given. Duck-typed, so that this module never loads @pulumi/azure-native. */
function nameOf(value: pulumi.Resource | pulumi.Input<string>): pulumi.Input<string> {
  return pulumi.CustomResource.isInstance(value)
    ? (value as unknown as { name: pulumi.Output<string> }).name
    : (value as pulumi.Input<string>);
}
