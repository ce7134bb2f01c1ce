import { DefaultAzureCredential } from "@azure/identity";
import { BlobServiceClient, RestError, StorageSharedKeyCredential, type BlobClient } from "@azure/storage-blob";
import type { AzureBlobLocator, AzureCredentials, Locator } from "../args";
import { normalizeEtag } from "../diff";
import { CopyError } from "../errors";
import { abortReason, type Logger } from "../operation";
import { abortLeftoverCopy, abortRemoteCopy } from "./asyncCopy";
import { ClientCache } from "./clientCache";
import type { ObjectState, Store } from "./types";

/** A blob client and what can sign for its account (for a source SAS), built inside provider calls only. */
export interface BlobHandle {
  client: BlobClient;
  accountName: string;
  sharedKey?: StorageSharedKeyCredential;
  /** A SAS given as the credential (or in the connection string); the client's URL already carries it. */
  sasToken?: string;
  /** The account's service: with an Azure AD token it can get a user delegation key to sign a source SAS. */
  service: Pick<BlobServiceClient, "getUserDelegationKey">;
}

export function blobOf(location: Locator): AzureBlobLocator {
  if (!("azureBlob" in location)) throw new CopyError("Unsupported", "expected an azureBlob location");
  return location.azureBlob;
}

export function blobUri(location: AzureBlobLocator): string {
  const version = location.snapshot ? ` (snapshot ${location.snapshot})` : location.versionId ? ` (version ${location.versionId})` : "";
  return `azure://${location.account ?? accountNameOf(location.accountUrl ?? "")}/${location.container}/${location.blob}${version}`;
}

/** What a blob handle holds besides the blob's own client: the same for every blob of an account and credential. */
type BlobAccount = Omit<BlobHandle, "client" | "service"> & { service: BlobServiceClient };

const blobAccounts = new ClientCache<BlobAccount>();

/**
 * Credentials in the documented order: the locator's own, then AZURE_STORAGE_CONNECTION_STRING,
 * then AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY (for that account), then DefaultAzureCredential.
 * The account's service client is reused across calls for the same account and credential
 * (clientCache.ts), so a DefaultAzureCredential token is fetched once, not per copy.
 */
export function blobHandle(location: AzureBlobLocator, credentials?: AzureCredentials, env: NodeJS.ProcessEnv = process.env): BlobHandle {
  const account = blobAccount(location, credentials, env);
  return { ...account, client: pick(account.service, location) };
}

function blobAccount(location: AzureBlobLocator, credentials: AzureCredentials | undefined, env: NodeJS.ProcessEnv): BlobAccount {
  const given = credentials as Partial<Record<"accountKey" | "sasToken" | "connectionString", string>> | undefined;
  const accountUrl = location.accountUrl?.replace(/\/+$/, "") ?? (location.account ? `https://${location.account}.blob.core.windows.net` : undefined);
  const wanted = location.account ?? (accountUrl ? accountNameOf(accountUrl) : undefined);
  const connectionString = given?.connectionString ?? (given ? undefined : env.AZURE_STORAGE_CONNECTION_STRING);
  if (connectionString && (given?.connectionString || !wanted || accountOfConnectionString(connectionString) === wanted)) {
    return blobAccounts.get({ connectionString }, () => {
      const service = BlobServiceClient.fromConnectionString(connectionString);
      const sharedKey = service.credential instanceof StorageSharedKeyCredential ? service.credential : undefined;
      const sasToken = /SharedAccessSignature=([^;]+)/i.exec(connectionString)?.[1];
      return { accountName: service.accountName, service, ...(sharedKey ? { sharedKey } : {}), ...(sasToken ? { sasToken } : {}) };
    });
  }
  if (!accountUrl || !wanted) {
    throw new CopyError("InvalidInput", "no storage account: set accountUrl or account on the azureBlob location, or AZURE_STORAGE_CONNECTION_STRING where Pulumi runs");
  }
  const key = given?.accountKey ?? (!given && env.AZURE_STORAGE_ACCOUNT === wanted ? env.AZURE_STORAGE_KEY : undefined);
  if (key) {
    return blobAccounts.get({ accountUrl, wanted, key }, () => {
      const sharedKey = new StorageSharedKeyCredential(wanted, key);
      return { accountName: wanted, service: new BlobServiceClient(accountUrl, sharedKey), sharedKey };
    });
  }
  if (given?.sasToken) {
    const sas = given.sasToken.replace(/^\?/, "");
    return blobAccounts.get({ accountUrl, wanted, sas }, () => ({ accountName: wanted, service: new BlobServiceClient(`${accountUrl}?${sas}`), sasToken: sas }));
  }
  return blobAccounts.get({ accountUrl, wanted, aad: true }, () => ({ accountName: wanted, service: new BlobServiceClient(accountUrl, new DefaultAzureCredential()) }));
}

function pick(service: BlobServiceClient, location: AzureBlobLocator): BlobClient {
  const blob = service.getContainerClient(location.container).getBlobClient(location.blob);
  if (location.snapshot) return blob.withSnapshot(location.snapshot);
  if (location.versionId) return blob.withVersion(location.versionId);
  return blob;
}

/** `https://acct.blob.core.windows.net` → acct; the emulator's `http://127.0.0.1:10000/acct` → acct. */
export function accountNameOf(accountUrl: string): string {
  try {
    const url = new URL(accountUrl);
    const ipOrLocal = /^[\d.]+$|^localhost$|^\[/.test(url.hostname);
    return ipOrLocal ? url.pathname.split("/").filter(Boolean)[0] ?? "" : url.hostname.split(".")[0];
  } catch {
    return "";
  }
}

function accountOfConnectionString(connectionString: string): string | undefined {
  if (/UseDevelopmentStorage=true/i.test(connectionString)) return "devstoreaccount1";
  return /AccountName=([^;]+)/i.exec(connectionString)?.[1];
}

export function blobState(props: { etag?: string; versionId?: string; contentLength?: number; lastModified?: Date }): ObjectState {
  return {
    etag: normalizeEtag(props.etag ?? ""),
    ...(props.versionId ? { versionId: props.versionId } : {}),
    contentLength: props.contentLength ?? 0,
    ...(props.lastModified ? { lastModified: props.lastModified.toISOString() } : {}),
  };
}

export function azureBlobStore(handleFor = blobHandle): Store {
  return {
    describe: (location) => {
      const blob = blobOf(location);
      return `azure://${blob.account ?? accountNameOf(blob.accountUrl ?? "")}/${blob.container}/${blob.blob}`;
    },

    async head(location, credentials, signal, side) {
      const blob = blobOf(location);
      try {
        return blobState(await handleFor(blob, credentials as AzureCredentials).client.getProperties({ abortSignal: signal }));
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw blobFailure(e, signal, `Get Blob Properties on the ${side} ${blobUri(blob)}`, side);
      }
    },

    async remove(location, credentials, versionIds, signal, log) {
      const blob = blobOf(location);
      const { client } = handleFor(blob, credentials as AzureCredentials);
      if (!versionIds.length) {
        await deleteBlob(client, blob, undefined, signal, log);
        return;
      }
      // Only what this resource wrote. Azure refuses to delete the current version by its id
      // (403 OperationNotAllowedOnRootBlob); deleting the base blob turns it into a previous version.
      const current = await client.getProperties({ abortSignal: signal }).catch((e: unknown) => {
        if (statusOf(e) === 404) return undefined;
        throw blobFailure(e, signal, `Get Blob Properties on ${blobUri(blob)}`, "destination");
      });
      if (current?.versionId && versionIds.includes(current.versionId)) {
        // If-Match: a write that lands after the read above is someone else's, and stays.
        const deleted = await deleteBlob(client, blob, undefined, signal, log, current.etag);
        if (!deleted) log.warn(`${blobUri(blob)} was overwritten while it was being deleted; the new current version is someone else's and is kept`);
      } else if (current) {
        log.warn(`the current version${current.versionId ? ` ${current.versionId}` : ""} of ${blobUri(blob)} was written by someone else and is kept; only this resource's versions are deleted`);
      }
      for (const versionId of versionIds) await deleteBlob(client, blob, versionId, signal, log);
    },

    async abandonLeftovers(location, credentials, signal, log) {
      const blob = blobOf(location);
      const { client } = handleFor(blob, credentials as AzureCredentials);
      return abortLeftoverCopy(client, (copyId) => abortRemoteCopy(client, copyId, log, blobUri(blob)), signal, blobUri(blob));
    },
  };
}

/** Deletes the base blob or one version; false when an If-Match etag no longer matched. Missing is already done. */
async function deleteBlob(client: BlobClient, blob: AzureBlobLocator, versionId: string | undefined, signal: AbortSignal, log: Logger, ifMatch?: string): Promise<boolean> {
  const where = blobUri({ ...blob, versionId });
  try {
    await (versionId ? client.withVersion(versionId) : client).delete({ abortSignal: signal, ...(ifMatch ? { conditions: { ifMatch } } : {}) });
    log.info(`deleted ${where}`);
  } catch (e) {
    if (ifMatch && statusOf(e) === 412) return false;
    if (statusOf(e) === 404) {
      log.info(`${where} was already gone`);
      return true;
    }
    if (codeOf(e) === "SnapshotsPresent") {
      throw new CopyError("CopyFailed", `${blobUri(blob)} has snapshots, which this resource did not write and will not delete. Delete them first, or give the resource retainOnDelete`, { cause: e });
    }
    throw blobFailure(e, signal, `Delete Blob on ${where}`, "destination");
  }
  return true;
}


export function statusOf(e: unknown): number | undefined {
  return e instanceof RestError ? e.statusCode : (e as { statusCode?: number })?.statusCode;
}

export function codeOf(e: unknown): string | undefined {
  return (e as { code?: string; details?: { errorCode?: string } })?.details?.errorCode ?? (e as { code?: string })?.code;
}

export function blobFailure(e: unknown, signal: AbortSignal, doing: string, side: "source" | "destination"): CopyError {
  return signal.aborted ? abortReason(signal) : blobError(e, doing, side);
}

/** Maps a storage error to a stable code. Statuses first: Azurite's codes differ from Azure's in places. */
export function blobError(e: unknown, doing: string, side: "source" | "destination"): CopyError {
  const status = statusOf(e);
  const code = codeOf(e) ?? (e as Error)?.name ?? "Error";
  // A source SAS can echo back in a message: its signature never goes into an error.
  const detail = ((e as Error)?.message ?? String(e)).split("\n")[0].replace(/([?&]sig=)[^&\s"']+/gi, "$1REDACTED").slice(0, 300);
  const what = `${doing} failed: ${code}${status ? ` (HTTP ${status})` : ""}: ${detail}`;
  if (code === "CredentialUnavailableError" || /DefaultAzureCredential/.test(detail)) {
    return new CopyError("InvalidInput", `no Azure credentials for the ${side}: set ${side}.azureBlob.credentials (kept secret), or AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY, or a DefaultAzureCredential source where Pulumi runs`, { cause: e });
  }
  if (status === 412 || code === "SourceConditionNotMet" || code === "ConditionNotMet") {
    return new CopyError("SourceChanged", `${what}. The source changed since it was read; run again to copy its new content`, { cause: e });
  }
  if (code === "ContainerNotFound") return new CopyError(side === "source" ? "SourceNotFound" : "DestinationNotFound", `${what}. Create the container first, or fix ${side}.azureBlob.container`, { cause: e });
  if (status === 404) return new CopyError(side === "source" ? "SourceNotFound" : "DestinationNotFound", what, { cause: e });
  if (code === "CannotVerifyCopySource" && status === 403) return new CopyError("AccessDenied", `${what}. The destination's account could not read the source: check the source's credentials`, { cause: e });
  if (status === 403) return new CopyError("AccessDenied", `${what}. Check the ${side}'s credentials`, { cause: e });
  return new CopyError("CopyFailed", what, { cause: e });
}
