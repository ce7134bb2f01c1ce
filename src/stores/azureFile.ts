import type { Readable } from "node:stream";
import {
  FileSASPermissions,
  ShareServiceClient,
  StorageSharedKeyCredential,
  generateFileSASQueryParameters,
  type ShareFileClient,
} from "@azure/storage-file-share";
import { DEFAULT_TIMEOUT_SECONDS } from "../args";
import { ambient, type Ambient } from "../ambient";
import { accountNameOf, parseConnectionString, resolveAzureAccount } from "../azureAccount";
import { CopyError } from "../errors";
import type { AzureCredentials, AzureFileLocator, Locator } from "../locators";
import { abortReason } from "../operation";
import { normalizeEtag } from "../values";
import { abortLeftoverCopy, abortRemoteCopy } from "./asyncCopy";
import { azureError, azureFailure, azureState, heldByUs, statusOf } from "./azure";
import { ClientCache } from "./clientCache";
import { tokenCredential } from "./azureIdentity";
import type { CopySource, ObjectState, SourceOpener, SourceReader, Store } from "./types";

/** A file client and what can sign for its account, built inside provider calls only. */
export interface FileHandle {
  client: ShareFileClient;
  service: ShareServiceClient;
  accountName: string;
  sharedKey?: StorageSharedKeyCredential;
  sasToken?: string;
}

export function fileOf(location: Locator): AzureFileLocator {
  if (!("azureFile" in location)) throw new CopyError("Unsupported", "expected an azureFile location");
  return location.azureFile;
}

export function fileUri(location: AzureFileLocator): string {
  const snapshot = location.shareSnapshot ? ` (share snapshot ${location.shareSnapshot})` : "";
  const account = location.account ?? accountNameOf(location.accountUrl ?? "");
  return `azurefile://${account}/${location.share}/${location.path.replace(/^\/+/, "")}${snapshot}`;
}

type FileAccount = Omit<FileHandle, "client">;

const fileAccounts = new ClientCache<FileAccount>();

/**
 * Credentials in the same order as for blobs, against the account's file endpoint. The account's
 * service client is reused across calls for the same account and credential (clientCache.ts).
 */
export function fileHandle(location: AzureFileLocator, credentials?: AzureCredentials, amb: Ambient = ambient()): FileHandle {
  const account = fileAccount(location, credentials, amb);
  const share = account.service.getShareClient(location.share);
  const client = (location.shareSnapshot ? share.withSnapshot(location.shareSnapshot) : share).rootDirectoryClient.getFileClient(
    location.path.replace(/^\/+/, ""),
  );
  return { ...account, client };
}

function fileAccount(location: AzureFileLocator, credentials: AzureCredentials | undefined, amb: Ambient): FileAccount {
  const resolved = resolveAzureAccount(location, credentials, amb, "file");
  if (!resolved)
    throw new CopyError(
      "InvalidInput",
      "no storage account: set accountUrl or account on the azureFile location, or AZURE_STORAGE_CONNECTION_STRING where Pulumi runs",
    );
  const { url, accountName, auth } = resolved;
  switch (auth.kind) {
    case "connectionString":
      return fileAccounts.get({ connectionString: auth.connectionString }, () => {
        const service = ShareServiceClient.fromConnectionString(auth.connectionString);
        // The file SDK keeps its credential private: a key to sign a source SAS comes from the string.
        const { AccountKey: key, SharedAccessSignature: sasToken } = parseConnectionString(auth.connectionString);
        const name = service.accountName || accountName;
        return {
          service,
          accountName: name,
          ...(key ? { sharedKey: new StorageSharedKeyCredential(name, key) } : {}),
          ...(sasToken ? { sasToken } : {}),
        };
      });
    case "key":
      return fileAccounts.get({ url, accountName, key: auth.key }, () => {
        const sharedKey = new StorageSharedKeyCredential(accountName, auth.key);
        return { service: new ShareServiceClient(url, sharedKey), accountName, sharedKey };
      });
    case "sas":
      return fileAccounts.get({ url, accountName, sas: auth.sas }, () => ({
        service: new ShareServiceClient(`${url}?${auth.sas}`),
        accountName,
        sasToken: auth.sas,
      }));
    case "identity":
      // Azure Files accepts OAuth only with the backup intent.
      return fileAccounts.get({ url, accountName, identity: auth.identity }, () => ({
        service: new ShareServiceClient(url, tokenCredential(auth.identity), { fileRequestIntent: "backup" }),
        accountName,
      }));
  }
}

export function fileFailure(e: unknown, signal: AbortSignal, doing: string, side: "source" | "destination"): CopyError {
  return azureFailure(e, signal, doing, side, "azureFile");
}

export function fileError(e: unknown, doing: string, side: "source" | "destination"): CopyError {
  return azureError(e, doing, side, "azureFile");
}

export function azureFileStore(handleFor = fileHandle): Store {
  return {
    async head(location, credentials, signal, side) {
      const file = fileOf(location);
      try {
        return azureState(
          await handleFor(file, credentials as AzureCredentials).client.getProperties({ abortSignal: signal }),
        ) as ObjectState;
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw fileFailure(e, signal, `Get File Properties on the ${side} ${fileUri(file)}`, side);
      }
    },
    async remove(location, credentials, evidence, signal, log) {
      const file = fileOf(location);
      const { client } = handleFor(file, credentials as AzureCredentials);
      try {
        // Files have no If-Match on delete: read, then delete (a write landing between the two is lost with it).
        if (!heldByUs(await client.getProperties({ abortSignal: signal }), evidence, fileUri(file), log)) return;
        await client.delete({ abortSignal: signal });
        log.info(`deleted ${fileUri(file)}`);
      } catch (e) {
        if (statusOf(e) !== 404) throw fileFailure(e, signal, `Delete File on ${fileUri(file)}`, "destination");
        log.info(`${fileUri(file)} was already gone`);
      }
    },
    async abandonLeftovers(location, credentials, signal, log) {
      const file = fileOf(location);
      const { client } = handleFor(file, credentials as AzureCredentials);
      return abortLeftoverCopy(client, (copyId) => abortRemoteCopy(client, copyId, log, fileUri(file)), signal, fileUri(file), "azureFile");
    },
  };
}

/** An Azure file read by the destination's service through a per-copy, read-only file SAS. */
export function azureFileSource(handleFor = fileHandle): SourceReader {
  return async (location, { sourceCredentials, timeoutSeconds, signal }) => {
    const file = fileOf(location);
    const src = handleFor(file, sourceCredentials as AzureCredentials | undefined);
    const head = await src.client.getProperties({ abortSignal: signal }).catch((e: unknown) => {
      throw statusOf(e) === 404
        ? new CopyError("SourceNotFound", `${fileUri(file)} does not exist (no such share, directory or file); check source.azureFile`)
        : fileFailure(e, signal, `Get File Properties on the source ${fileUri(file)}`, "source");
    });
    let url = src.client.url;
    if (src.sharedKey) {
      const now = Date.now();
      const sas = generateFileSASQueryParameters(
        {
          shareName: file.share,
          filePath: file.path.replace(/^\/+/, ""),
          permissions: FileSASPermissions.parse("r"),
          startsOn: new Date(now - 5 * 60_000),
          expiresOn: new Date(now + ((timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) + 15 * 60) * 1000),
        },
        src.sharedKey,
      ).toString();
      url = `${url}${url.includes("?") ? "&" : "?"}${sas}`;
    }
    const source: CopySource = {
      label: fileUri(file),
      etag: normalizeEtag(head.etag ?? ""),
      contentLength: head.contentLength ?? 0,
      contentMD5: head.contentMD5,
      // Only async Copy Blob is known to read a file source; auto keeps to it.
      blockBlob: false,
      accountName: src.accountName,
      headers: {
        contentType: head.contentType,
        cacheControl: head.cacheControl,
        contentDisposition: head.contentDisposition,
        contentEncoding: head.contentEncoding,
        contentLanguage: head.contentLanguage,
      },
      metadata: head.metadata,
      serviceCopiesMetadata: true,
      url,
      tags: async () => undefined,
      etagNow: async () => normalizeEtag((await src.client.getProperties({ abortSignal: signal })).etag ?? ""),
    };
    return source;
  };
}

/** An Azure file read through this process, for strategy "stream" (here, so that S3-only and Blob paths never load the Files SDK). */
export function openFile(handleFor = fileHandle): SourceOpener {
  return async (location, credentials, signal) => {
    const file = fileOf(location);
    const { client } = handleFor(file, credentials as AzureCredentials | undefined);
    try {
      const download = await client.download(0, undefined, { abortSignal: signal });
      return {
        label: fileUri(file),
        etag: normalizeEtag(download.etag ?? ""),
        contentLength: download.contentLength ?? 0,
        contentType: download.contentType,
        cacheControl: download.cacheControl,
        contentDisposition: download.contentDisposition,
        contentEncoding: download.contentEncoding,
        contentLanguage: download.contentLanguage,
        metadata: download.metadata,
        body: download.readableStreamBody as Readable,
      };
    } catch (e) {
      if (statusOf(e) === 404)
        throw new CopyError("SourceNotFound", `${fileUri(file)} does not exist; check source.azureFile`, { cause: e });
      throw signal.aborted ? abortReason(signal) : fileError(e, `reading the source ${fileUri(file)}`, "source");
    }
  };
}
