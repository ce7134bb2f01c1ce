import { BlobSASPermissions, generateBlobSASQueryParameters, type BlobSASSignatureValues } from "@azure/storage-blob";
import type { AzureBlobLocator } from "../locators";
import { abortReason, type Logger } from "../operation";
import { codeOf, statusOf } from "./azure";
import type { BlobHandle } from "./azureBlob";

const MINUTE_MS = 60_000;
/** Get User Delegation Key refuses an expiry more than 7 days ahead. */
const MAX_DELEGATION_MS = 7 * 24 * 60 * MINUTE_MS;

/**
 * The source URL the destination's service will read, with a per-copy, read-only SAS when we
 * can sign one. Async Copy Blob cannot authorize its source with OAuth, so an Azure AD identity
 * signs a user delegation SAS. The SAS lives only in the returned URL: never log or store it.
 */
export async function readableUrl(
  src: BlobHandle,
  location: AzureBlobLocator,
  timeoutSeconds: number,
  signal: AbortSignal,
  log: Logger,
): Promise<string> {
  // The client was built with the given SAS, so its URL already carries it.
  if (src.sasToken) return src.client.url;
  const now = Date.now();
  const startsOn = new Date(now - 5 * MINUTE_MS); // clock skew
  const wanted = new Date(now + timeoutSeconds * 1000 + 15 * MINUTE_MS);
  const values: BlobSASSignatureValues = {
    containerName: location.container,
    blobName: location.blob,
    snapshotTime: location.snapshot,
    versionId: location.versionId,
    permissions: BlobSASPermissions.parse("r"),
    startsOn,
    expiresOn: wanted,
  };
  if (src.sharedKey) return withSas(src.client.url, generateBlobSASQueryParameters(values, src.sharedKey).toString());

  // Capped at the service's 7-day limit; a copy that runs longer may lose its read on the source.
  const expiresOn = new Date(Math.min(wanted.getTime(), startsOn.getTime() + MAX_DELEGATION_MS));
  const key = await src.service.getUserDelegationKey(startsOn, expiresOn, { abortSignal: signal }).catch((e: unknown) => {
    if (signal.aborted) throw abortReason(signal);
    log.warn(
      `could not get a user delegation key from the source account ${src.accountName} ` +
        `(${codeOf(e) ?? (e as Error)?.name ?? "error"}${statusOf(e) ? `, HTTP ${statusOf(e)}` : ""}), ` +
        `so the source URL goes without a SAS and a private source will fail to copy. Give the identity Pulumi runs as the "Storage Blob ` +
        `Delegator" role ` +
        `(or a data role that includes generateUserDelegationKey, such as "Storage Blob Data Reader") on that storage account, or give ` +
        `source.azureBlob.credentials`,
    );
    return undefined;
  });
  if (!key) return src.client.url;
  const sas = generateBlobSASQueryParameters({ ...values, expiresOn }, key, src.accountName).toString();
  log.info(`signed a read-only user delegation SAS for the source, valid until ${expiresOn.toISOString()}`);
  return withSas(src.client.url, sas);
}

function withSas(url: string, sas: string): string {
  return `${url}${url.includes("?") ? "&" : "?"}${sas}`;
}
