/**
 * What Azure Blob and Azure Files share: reading their errors, mapping them to stable codes that name
 * the right service's fields, and their objects' state. No SDK is imported here, so that loading one
 * service's store never loads the other's SDK.
 */
import { CopyError } from "../errors";
import { abortReason } from "../operation";
import { normalizeEtag } from "../values";
import type { Logger } from "../operation";
import type { ObjectState, WriteEvidence } from "./types";

export type AzureKind = "azureBlob" | "azureFile";
type Side = "source" | "destination";

export function statusOf(e: unknown): number | undefined {
  return (e as { statusCode?: number })?.statusCode;
}

export function codeOf(e: unknown): string | undefined {
  return (e as { code?: string; details?: { errorCode?: string } })?.details?.errorCode ?? (e as { code?: string })?.code;
}

export function azureState(props: { etag?: string; versionId?: string; contentLength?: number; lastModified?: Date }): ObjectState {
  return {
    etag: normalizeEtag(props.etag ?? ""),
    ...(props.versionId ? { versionId: props.versionId } : {}),
    contentLength: props.contentLength ?? 0,
    ...(props.lastModified ? { lastModified: props.lastModified.toISOString() } : {}),
  };
}

/** Why a request failed: the operation's own timeout or abort when that fired, else the service's answer. */
export function azureFailure(e: unknown, signal: AbortSignal, doing: string, side: Side, kind: AzureKind): CopyError {
  return signal.aborted ? abortReason(signal) : azureError(e, doing, side, kind);
}

/** Maps a storage error to a stable code. Statuses first: Azurite's codes differ from Azure's in places. */
export function azureError(e: unknown, doing: string, side: Side, kind: AzureKind): CopyError {
  const status = statusOf(e);
  const code = codeOf(e) ?? (e as Error)?.name ?? "Error";
  // A source SAS can echo back in a message: its signature never goes into an error.
  const detail = ((e as Error)?.message ?? String(e))
    .split("\n")[0]
    .replace(/([?&]sig=)[^&\s"']+/gi, "$1REDACTED")
    .slice(0, 300);
  const what = `${doing} failed: ${code}${status ? ` (HTTP ${status})` : ""}: ${detail}`;
  const field = `${side}.${kind}`;
  const name = (e as Error)?.name ?? "";
  const refusal = /AADSTS\d+[^.]*/.exec(detail) ?? /invalid_client|unauthorized_client/.exec(detail);
  if (refusal || (/^Authentication(Required)?Error$/.test(name) && !/DefaultAzureCredential/.test(detail))) {
    // Entra ID said no to who we are; its message names the app, never the secret.
    return new CopyError(
      "AccessDenied",
      `Azure AD refused the ${side}'s identity (${refusal?.[0] ?? name}): check the tenant, client id and secret or federated token ` +
        `in ${field}.credentials, the stack's azure-native:clientId, clientSecret and tenantId (or useOidc, useMsi), or the ARM_* ` +
        `environment`,
      { cause: e },
    );
  }
  if (code === "CredentialUnavailableError" || name === "CredentialUnavailableError" || /DefaultAzureCredential/.test(detail)) {
    return new CopyError(
      "InvalidInput",
      `no Azure credentials for the ${side} (${detail.slice(0, 160)}): set ${field}.credentials (kept secret), the stack's ` +
        `azure-native identity, or AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY, the ARM_* ` +
        `identity, or a DefaultAzureCredential source where Pulumi runs`,
      { cause: e },
    );
  }
  if (/^Lease/.test(code)) {
    // A leased destination refuses writes without its lease id (412 LeaseIdMissing): not a changed source.
    return new CopyError(
      "CopyFailed",
      `${what}. The ${side} blob or file has an active lease, held by someone else: break or release the lease, or copy elsewhere`,
      { cause: e },
    );
  }
  if (code === "CannotVerifyCopySource") {
    // The destination's service could not read the source: always the source's fault, never the destination's.
    if (status === 403 || status === 401) {
      return new CopyError("AccessDenied", `${what}. The destination's service could not read the source: check the source's credentials`, {
        cause: e,
      });
    }
    if (status === 404)
      return new CopyError("SourceNotFound", `${what}. The destination's service found no source there: check source`, { cause: e });
    if (status === 412)
      return new CopyError("SourceChanged", `${what}. The source changed since it was read; run again to copy its new content`, {
        cause: e,
      });
    return new CopyError("CopyFailed", `${what}. The destination's service could not read the source`, { cause: e });
  }
  if (status === 412 || code === "SourceConditionNotMet" || code === "ConditionNotMet") {
    return new CopyError("SourceChanged", `${what}. The source changed since it was read; run again to copy its new content`, { cause: e });
  }
  const missing = side === "source" ? "SourceNotFound" : "DestinationNotFound";
  if (code === "ContainerNotFound")
    return new CopyError(missing, `${what}. Create the container first, or fix ${field}.container`, { cause: e });
  if (code === "ShareNotFound") return new CopyError(missing, `${what}. Create the share first, or fix ${field}.share`, { cause: e });
  if (status === 404) return new CopyError(missing, what, { cause: e });
  if (status === 403) return new CopyError("AccessDenied", `${what}. Check the ${side}'s credentials (${field}.credentials)`, { cause: e });
  return new CopyError("CopyFailed", what, { cause: e });
}

/**
 * Whether an unversioned blob or file still holds what this resource last wrote (its ETag: Azure gives
 * every write a new one). The empty residue of an aborted copy holds nobody's data, and counts as ours.
 */
export function heldByUs(
  current: { etag?: string; copyStatus?: string; contentLength?: number },
  evidence: WriteEvidence,
  where: string,
  log: Logger,
): boolean {
  if (current.copyStatus === "aborted" && !current.contentLength) return true;
  if (!evidence.etag || normalizeEtag(current.etag ?? "") === evidence.etag) return true;
  log.warn(
    `${where} no longer holds what this resource wrote (ETag ${normalizeEtag(current.etag ?? "")}, wrote ${evidence.etag}): someone else ` +
      `wrote it since, so it is kept`,
  );
  return false;
}
