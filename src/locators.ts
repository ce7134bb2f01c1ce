/**
 * The locations a copy reads and writes: their plain (resolved) shapes, and the rules each kind
 * must obey. Pure. Which object a location names is identity.ts's question; the whole input is args.ts's.
 */

/** Static AWS credentials for one side of a copy. Always kept secret. */
export interface S3Credentials {
  /** The access key id, e.g. `AKIA…`. */
  accessKeyId: string;
  /** The secret access key. */
  secretAccessKey: string;
  /** The session token of temporary credentials (STS, SSO). */
  sessionToken?: string;
}

/** An object in S3 or on an S3-compatible server. */
export interface S3Locator {
  /** The bucket's name. */
  bucket: string;
  /** The object's key, exactly as stored (case and slashes matter). */
  key: string;
  /** Source only: copy this version (how a version is promoted over the current one). */
  versionId?: string;
  /** The bucket's region. @default the AWS SDK's own chain (stack config, `AWS_REGION`, profile) */
  region?: string;
  /** An S3-compatible server, e.g. `http://127.0.0.1:9000`. @default AWS */
  endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`). @default true with an endpoint, else false */
  forcePathStyle?: boolean;
  /** Static credentials for this side. @default the stack's `aws:*` config, then the AWS default chain */
  credentials?: S3Credentials;
  /**
   * A named profile of the shared AWS files for this side, e.g. `prod` (two accounts in one stack, no keys in the
   * program). Not with `credentials`. @default the stack's `aws:profile`, then `AWS_PROFILE`
   */
  profile?: string;
  /**
   * A role this side assumes, with its own `credentials` or `profile`, else with the stack's credentials. It replaces
   * the stack's `aws:assumeRoles` for this side. @default the stack's `aws:assumeRoles`
   */
  assumeRole?: AssumeRole;
}

/** A role to assume, as `aws:assumeRoles` spells one. */
export interface AssumeRole {
  /** The role's ARN, e.g. `arn:aws:iam::123456789012:role/seed-reader`. */
  roleArn: string;
  /** The session's name, seen in CloudTrail. @default `pulumi-copied-object` */
  sessionName?: string;
  /** The external id the role's trust policy asks for. */
  externalId?: string;
  /** How long the session lasts, in seconds (900 to 43200). @default 3600 */
  durationSeconds?: number;
}

/**
 * One Azure credential: an account key, a SAS token (the query string only), a connection string, or an Azure AD
 * identity for this side: a service principal's secret, or a user-assigned managed identity's client id.
 */
export type AzureCredentials =
  | { accountKey: string }
  | { sasToken: string }
  | { connectionString: string }
  | AzureServicePrincipal
  | { managedIdentityClientId: string };

/** An Azure AD application (service principal) that signs in with a client secret. */
export interface AzureServicePrincipal {
  /** The directory (tenant) id. */
  tenantId: string;
  /** The application (client) id. */
  clientId: string;
  /** The client secret. */
  clientSecret: string;
}

/** A blob in Azure Blob Storage (or Azurite). */
export interface AzureBlobLocator {
  /** The account's blob endpoint, e.g. `https://acct.blob.core.windows.net` or Azurite's `http://127.0.0.1:10000/devstoreaccount1`. */
  accountUrl?: string;
  /** The storage account's name, for the public cloud's endpoint. Give this or `accountUrl`. */
  account?: string;
  /** The container's name. */
  container: string;
  /** The blob's name, exactly as stored. */
  blob: string;
  /** Source only: copy this snapshot (e.g. to promote it over the base blob). */
  snapshot?: string;
  /** Source only: copy this version. */
  versionId?: string;
  /**
   * How this side signs in: an account key, a SAS, a connection string, a service principal or a managed identity.
   * Always kept secret.
   * @default the stack's azure-native identity, then `AZURE_STORAGE_CONNECTION_STRING`, `AZURE_STORAGE_ACCOUNT` with
   * `AZURE_STORAGE_KEY`, the `ARM_*` identity, and `DefaultAzureCredential`
   */
  credentials?: AzureCredentials;
}

/** A file in an Azure Files share. */
export interface AzureFileLocator {
  /** The account's file endpoint, e.g. `https://acct.file.core.windows.net`. */
  accountUrl?: string;
  /** The storage account's name, for the public cloud's endpoint. Give this or `accountUrl`. */
  account?: string;
  /** The share's name. */
  share: string;
  /** The file's path in the share; directories are created on a destination. Case-insensitive, as Azure Files is. */
  path: string;
  /** Source only: copy the file as it was in this share snapshot. */
  shareSnapshot?: string;
  /** As for blobs. */
  credentials?: AzureCredentials;
}

/** Where to copy from or to: exactly one key. A `url` is a source only. */
export type Locator = { s3: S3Locator } | { azureBlob: AzureBlobLocator } | { azureFile: AzureFileLocator } | { url: string };

export type LocatorKind = "s3" | "azureBlob" | "azureFile" | "url";

export function locatorKind(locator: Locator): LocatorKind {
  return Object.keys(locator)[0] as LocatorKind;
}

export const LOCATOR_KEYS: Record<LocatorKind, readonly string[]> = {
  s3: ["bucket", "key", "versionId", "region", "endpoint", "forcePathStyle", "credentials", "profile", "assumeRole"],
  azureBlob: ["accountUrl", "account", "container", "blob", "snapshot", "versionId", "credentials"],
  azureFile: ["accountUrl", "account", "share", "path", "shareSnapshot", "credentials"],
  url: [],
};
