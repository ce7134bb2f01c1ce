import { DefaultAzureCredential } from "@azure/identity";
import { FileSASPermissions, ShareServiceClient, StorageSharedKeyCredential, generateFileSASQueryParameters, type ShareFileClient } from "@azure/storage-file-share";
import type { AzureCredentials, AzureFileLocator, Locator } from "../args";
import { DEFAULT_TIMEOUT_SECONDS } from "../args";
import { normalizeEtag } from "../diff";
import { CopyError } from "../errors";
import type { Logger } from "../operation";
import { accountNameOf, blobFailure, blobState, codeOf, statusOf } from "./azureBlob";
import type { CopySource, SourceReader } from "./copySources";
import { abortLeftoverCopy, abortRemoteCopy } from "./asyncCopy";
import type { ObjectState, Store } from "./types";

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
  return `azurefile://${location.account ?? accountNameOf(location.accountUrl ?? "")}/${location.share}/${location.path.replace(/^\/+/, "")}${snapshot}`;
}

/** Credentials in the same order as for blobs, against the account's file endpoint. */
export function fileHandle(location: AzureFileLocator, credentials?: AzureCredentials, env: NodeJS.ProcessEnv = process.env): FileHandle {
  const given = credentials as Partial<Record<"accountKey" | "sasToken" | "connectionString", string>> | undefined;
  const accountUrl = location.accountUrl?.replace(/\/+$/, "") ?? (location.account ? `https://${location.account}.file.core.windows.net` : undefined);
  const wanted = location.account ?? (accountUrl ? accountNameOf(accountUrl) : undefined);
  const shareOf = (service: ShareServiceClient) => {
    const share = service.getShareClient(location.share);
    return location.shareSnapshot ? share.withSnapshot(location.shareSnapshot) : share;
  };
  const pick = (service: ShareServiceClient, accountName: string, extra: Partial<FileHandle> = {}): FileHandle => ({
    client: shareOf(service).rootDirectoryClient.getFileClient(location.path.replace(/^\/+/, "")),
    service,
    accountName,
    ...extra,
  });
  const connectionString = given?.connectionString ?? (given ? undefined : env.AZURE_STORAGE_CONNECTION_STRING);
  if (connectionString && (given?.connectionString || !wanted || new RegExp(`AccountName=${wanted}(;|$)`, "i").test(connectionString))) {
    const service = ShareServiceClient.fromConnectionString(connectionString);
    // The file SDK keeps its credential private: a key to sign a source SAS comes from the string.
    const key = /AccountKey=([^;]+)/i.exec(connectionString)?.[1];
    return pick(service, service.accountName, key ? { sharedKey: new StorageSharedKeyCredential(service.accountName, key) } : {});
  }
  if (!accountUrl || !wanted) throw new CopyError("InvalidInput", "no storage account: set accountUrl or account on the azureFile location, or AZURE_STORAGE_CONNECTION_STRING where Pulumi runs");
  const key = given?.accountKey ?? (!given && env.AZURE_STORAGE_ACCOUNT === wanted ? env.AZURE_STORAGE_KEY : undefined);
  if (key) {
    const sharedKey = new StorageSharedKeyCredential(wanted, key);
    return pick(new ShareServiceClient(accountUrl, sharedKey), wanted, { sharedKey });
  }
  if (given?.sasToken) {
    const sas = given.sasToken.replace(/^\?/, "");
    return pick(new ShareServiceClient(`${accountUrl}?${sas}`), wanted, { sasToken: sas });
  }
  // Azure Files accepts OAuth only with the backup intent.
  return pick(new ShareServiceClient(accountUrl, new DefaultAzureCredential(), { fileRequestIntent: "backup" }), wanted);
}

export function azureFileStore(handleFor = fileHandle): Store {
  return {
    describe: (location) => fileUri(fileOf(location)),
    async head(location, credentials, signal, side) {
      const file = fileOf(location);
      try {
        return blobState(await handleFor(file, credentials as AzureCredentials).client.getProperties({ abortSignal: signal })) as ObjectState;
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw blobFailure(e, signal, `Get File Properties on the ${side} ${fileUri(file)}`, side);
      }
    },
    async remove(location, credentials, _versionIds, signal, log) {
      const file = fileOf(location);
      try {
        await handleFor(file, credentials as AzureCredentials).client.delete({ abortSignal: signal });
        log.info(`deleted ${fileUri(file)}`);
      } catch (e) {
        if (statusOf(e) !== 404) throw blobFailure(e, signal, `Delete File on ${fileUri(file)}`, "destination");
        log.info(`${fileUri(file)} was already gone`);
      }
    },
    async abandonLeftovers(location, credentials, signal, log) {
      const file = fileOf(location);
      const { client } = handleFor(file, credentials as AzureCredentials);
      return abortLeftoverCopy(client, (copyId) => abortRemoteCopy(client, copyId, log, fileUri(file)), signal, fileUri(file));
    },
  };
}


/** An Azure file read by the destination's service through a per-copy, read-only file SAS. */
export function azureFileSource(handleFor = fileHandle): SourceReader {
  return async (location, { sourceCredentials, timeoutSeconds, signal }) => {
    const file = fileOf(location);
    const src = handleFor(file, sourceCredentials as AzureCredentials | undefined);
    const head = await src.client.getProperties({ abortSignal: signal }).catch((e: unknown) => {
      throw statusOf(e) === 404 ? new CopyError("SourceNotFound", `${fileUri(file)} does not exist (no such share, directory or file); check source.azureFile`) : blobFailure(e, signal, `Get File Properties on the source ${fileUri(file)}`, "source");
    });
    let url = src.client.url;
    if (src.sharedKey) {
      const now = Date.now();
      const sas = generateFileSASQueryParameters(
        { shareName: file.share, filePath: file.path.replace(/^\/+/, ""), permissions: FileSASPermissions.parse("r"), startsOn: new Date(now - 5 * 60_000), expiresOn: new Date(now + ((timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) + 15 * 60) * 1000) },
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
      headers: { contentType: head.contentType, cacheControl: head.cacheControl, contentDisposition: head.contentDisposition, contentEncoding: head.contentEncoding, contentLanguage: head.contentLanguage },
      metadata: head.metadata,
      serviceCopiesMetadata: true,
      url,
      tags: async () => undefined,
      etagNow: async () => normalizeEtag((await src.client.getProperties({ abortSignal: signal })).etag ?? ""),
    };
    return source;
  };
}
