import { BlobServiceClient, StorageSharedKeyCredential, type BlobClient, type ContainerClient } from "@azure/storage-blob";
import { ambient, type Ambient } from "../ambient";
import { accountNameOf, parseConnectionString, resolveAzureAccount } from "../azureAccount";
import { CopyError } from "../errors";
import type { AzureBlobLocator, AzureCredentials, Locator } from "../locators";
import { abortReason, type Logger } from "../operation";
import { normalizeEtag } from "../values";
import { azureError, azureFailure, azureState, codeOf, heldByUs, statusOf } from "./azure";
import { abortLeftoverCopy, abortRemoteCopy } from "./asyncCopy";
import { ClientCache } from "./clientCache";
import { tokenCredential } from "./azureIdentity";
import type { Readable } from "node:stream";
import type { SourceOpener, Store } from "./types";

export { codeOf, statusOf };

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
 * The account and credential as azureAccount.ts resolves them (the same answer identity.ts names the
 * object by). The account's service client is reused across calls for the same account and credential
 * (clientCache.ts), so a DefaultAzureCredential token is fetched once, not per copy.
 */
export function blobHandle(location: AzureBlobLocator, credentials?: AzureCredentials, amb: Ambient = ambient()): BlobHandle {
  const account = blobAccount(location, credentials, amb);
  return { ...account, client: pick(account.service, location) };
}

/** A container's client on the same account and credential as its blobs', for CopiedPrefix's listing. */
export function blobContainer(location: Omit<AzureBlobLocator, "blob">, credentials?: AzureCredentials, amb = ambient()): ContainerClient {
  return blobAccount({ ...location, blob: "" }, credentials, amb).service.getContainerClient(location.container);
}

function blobAccount(location: AzureBlobLocator, credentials: AzureCredentials | undefined, amb: Ambient): BlobAccount {
  const resolved = resolveAzureAccount(location, credentials, amb, "blob");
  if (!resolved) {
    throw new CopyError(
      "InvalidInput",
      "no storage account: set accountUrl or account on the azureBlob location, or AZURE_STORAGE_CONNECTION_STRING where Pulumi runs",
    );
  }
  const { url, accountName, auth } = resolved;
  switch (auth.kind) {
    case "connectionString":
      return blobAccounts.get({ connectionString: auth.connectionString }, () => {
        const service = BlobServiceClient.fromConnectionString(auth.connectionString);
        const sharedKey = service.credential instanceof StorageSharedKeyCredential ? service.credential : undefined;
        const sasToken = parseConnectionString(auth.connectionString).SharedAccessSignature;
        return {
          accountName: service.accountName || accountName,
          service,
          ...(sharedKey ? { sharedKey } : {}),
          ...(sasToken ? { sasToken } : {}),
        };
      });
    case "key":
      return blobAccounts.get({ url, accountName, key: auth.key }, () => {
        const sharedKey = new StorageSharedKeyCredential(accountName, auth.key);
        return { accountName, service: new BlobServiceClient(url, sharedKey), sharedKey };
      });
    case "sas":
      return blobAccounts.get({ url, accountName, sas: auth.sas }, () => ({
        accountName,
        service: new BlobServiceClient(`${url}?${auth.sas}`),
        sasToken: auth.sas,
      }));
    case "identity":
      return blobAccounts.get({ url, accountName, identity: auth.identity }, () => ({
        accountName,
        service: new BlobServiceClient(url, tokenCredential(auth.identity)),
      }));
  }
}

function pick(service: BlobServiceClient, location: AzureBlobLocator): BlobClient {
  const blob = service.getContainerClient(location.container).getBlobClient(location.blob);
  if (location.snapshot) return blob.withSnapshot(location.snapshot);
  if (location.versionId) return blob.withVersion(location.versionId);
  return blob;
}

export const blobState = azureState;

export function azureBlobStore(handleFor = blobHandle): Store {
  return {
    async head(location, credentials, signal, side) {
      const blob = blobOf(location);
      try {
        return blobState(await handleFor(blob, credentials as AzureCredentials).client.getProperties({ abortSignal: signal }));
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw blobFailure(e, signal, `Get Blob Properties on the ${side} ${blobUri(blob)}`, side);
      }
    },

    async remove(location, credentials, evidence, signal, log) {
      const blob = blobOf(location);
      const { client } = handleFor(blob, credentials as AzureCredentials);
      const current = await client.getProperties({ abortSignal: signal }).catch((e: unknown) => {
        if (statusOf(e) === 404) return undefined;
        throw blobFailure(e, signal, `Get Blob Properties on ${blobUri(blob)}`, "destination");
      });
      const { versionIds } = evidence;
      if (!versionIds.length) {
        if (!current) return void log.info(`${blobUri(blob)} was already gone`);
        if (!heldByUs(current, evidence, blobUri(blob), log)) return;
        // If-Match: a write that lands after the read above is someone else's, and stays.
        if (!(await deleteBlob(client, blob, undefined, signal, log, current.etag)))
          log.warn(`${blobUri(blob)} was overwritten while it was being deleted; it is kept`);
        return;
      }
      // Only what this resource wrote. Azure refuses to delete the current version by its id
      // (403 OperationNotAllowedOnRootBlob); deleting the base blob turns it into a previous version.
      if (current?.versionId && versionIds.includes(current.versionId)) {
        const deleted = await deleteBlob(client, blob, undefined, signal, log, current.etag);
        if (!deleted)
          log.warn(`${blobUri(blob)} was overwritten while it was being deleted; the new current version is someone else's and is kept`);
      } else if (current) {
        log.warn(
          `the current version${current.versionId ? ` ${current.versionId}` : ""} of ${blobUri(blob)} was written by someone else and is ` +
            `kept; only this resource's versions are deleted`,
        );
      }
      for (const versionId of versionIds) await deleteBlob(client, blob, versionId, signal, log);
    },

    async abandonLeftovers(location, credentials, signal, log) {
      const blob = blobOf(location);
      const { client } = handleFor(blob, credentials as AzureCredentials);
      return abortLeftoverCopy(client, (copyId) => abortRemoteCopy(client, copyId, log, blobUri(blob)), signal, blobUri(blob), "azureBlob");
    },
  };
}

/** Deletes the base blob or one version; false when an If-Match etag no longer matched. Missing is already done. */
async function deleteBlob(
  client: BlobClient,
  blob: AzureBlobLocator,
  versionId: string | undefined,
  signal: AbortSignal,
  log: Logger,
  ifMatch?: string,
): Promise<boolean> {
  const where = blobUri({ ...blob, versionId });
  try {
    await (versionId ? client.withVersion(versionId) : client).delete({
      abortSignal: signal,
      ...(ifMatch ? { conditions: { ifMatch } } : {}),
    });
    log.info(`deleted ${where}`);
  } catch (e) {
    if (ifMatch && statusOf(e) === 412) return false;
    if (statusOf(e) === 404) {
      log.info(`${where} was already gone`);
      return true;
    }
    if (codeOf(e) === "SnapshotsPresent") {
      throw new CopyError(
        "CopyFailed",
        `${blobUri(blob)} has snapshots, which this resource did not write and will not delete. Delete them first, or give the resource ` +
          `retainOnDelete`,
        { cause: e },
      );
    }
    throw blobFailure(e, signal, `Delete Blob on ${where}`, "destination");
  }
  return true;
}

export function blobFailure(e: unknown, signal: AbortSignal, doing: string, side: "source" | "destination"): CopyError {
  return azureFailure(e, signal, doing, side, "azureBlob");
}

export function blobError(e: unknown, doing: string, side: "source" | "destination"): CopyError {
  return azureError(e, doing, side, "azureBlob");
}

/** An Azure blob, downloaded pinned to the ETag read first. */
export function openBlob(handleFor = blobHandle): SourceOpener {
  return async (location, credentials, signal) => {
    const blob = blobOf(location);
    const { client } = handleFor(blob, credentials as AzureCredentials | undefined);
    try {
      const props = await client.getProperties({ abortSignal: signal });
      const tags = await client.getTags({ abortSignal: signal }).then(
        (t) => t.tags,
        () => undefined,
      );
      const download = await client.download(0, undefined, { abortSignal: signal, conditions: { ifMatch: props.etag } });
      return {
        label: blobUri(blob),
        etag: normalizeEtag(props.etag ?? ""),
        contentLength: props.contentLength ?? 0,
        contentType: props.contentType,
        cacheControl: props.cacheControl,
        contentDisposition: props.contentDisposition,
        contentEncoding: props.contentEncoding,
        contentLanguage: props.contentLanguage,
        metadata: props.metadata,
        tags,
        body: download.readableStreamBody as Readable,
      };
    } catch (e) {
      if (statusOf(e) === 404)
        throw new CopyError("SourceNotFound", `${blobUri(blob)} does not exist; check source.azureBlob`, { cause: e });
      throw signal.aborted ? abortReason(signal) : blobError(e, `reading the source ${blobUri(blob)}`, "source");
    }
  };
}
