import { containsUnknown, locatorKind, type Locator, type WireInputs } from "./args";
import type { CopyOutputs } from "./operation";

/** The source as it is now, read by the provider for `trackSource`. */
export type SourceNow = { etag: string; versionId?: string } | "missing";

export interface DiffDecision {
  changes: boolean;
  /** Input paths whose change needs a new destination; empty for an in-place re-copy. */
  replaces: string[];
  /** Why there are changes, in words, for logs and for `update` to decide whether to copy. */
  reasons: string[];
}

export const CREDENTIALS_ONLY = "credentials changed";

/**
 * A changed destination is a replace. A changed source, option or source content is an
 * update, which re-copies in place. Changed credentials alone are an update that copies nothing.
 */
export function decideDiff(olds: CopyOutputs, news: WireInputs, sourceNow?: SourceNow): DiffDecision {
  const reasons: string[] = [];
  const replaces: string[] = [];
  const previous = olds.args;

  if (!sameDestination(previous.destination, news.destination)) {
    replaces.push("destination");
    reasons.push("the destination changed");
  } else if (!deepEqual(previous.destination, news.destination)) {
    reasons.push("the destination's addressing changed");
  }
  if (!deepEqual(previous.source, news.source)) reasons.push("the source changed");
  for (const key of optionKeys(previous, news)) {
    if (!deepEqual((previous as Record<string, unknown>)[key], (news as unknown as Record<string, unknown>)[key])) reasons.push(`${key} changed`);
  }
  if (olds.copyStatus !== "success") reasons.push(`the last copy did not finish (${olds.copyStatus})`);
  if (olds.destinationDrift) reasons.push(olds.destinationDrift);
  if (news.trackSource !== false && sourceNow) {
    const drift = sourceDrift(olds, sourceNow);
    if (drift) reasons.push(drift);
  }
  if (reasons.length === 0 && (!deepEqual(olds.sourceCredentials, news.sourceCredentials) || !deepEqual(olds.destinationCredentials, news.destinationCredentials))) {
    reasons.push(CREDENTIALS_ONLY);
  }
  return { changes: reasons.length > 0, replaces, reasons };
}

/** Whether the source read now differs from the one copied. */
export function sourceDrift(olds: CopyOutputs, now: SourceNow): string | undefined {
  if (now === "missing") return "the source no longer exists";
  if (olds.sourceVersionId && now.versionId && olds.sourceVersionId !== now.versionId) {
    return `the source has a new version (${now.versionId}, copied ${olds.sourceVersionId})`;
  }
  if (olds.sourceEtag && normalizeEtag(olds.sourceEtag) !== normalizeEtag(now.etag)) {
    return `the source's content changed (ETag ${normalizeEtag(now.etag)}, copied ${normalizeEtag(olds.sourceEtag)})`;
  }
  return undefined;
}

/** The same stored object, whatever the addressing details (region, path style). */
export function sameDestination(a: Locator, b: Locator): boolean {
  if (containsUnknown(b)) return false;
  if (locatorKind(a) !== locatorKind(b)) return false;
  if ("s3" in a && "s3" in b) {
    return a.s3.bucket === b.s3.bucket && a.s3.key === b.s3.key && (a.s3.endpoint ?? "") === (b.s3.endpoint ?? "");
  }
  if ("azureFile" in a && "azureFile" in b) {
    const account = (l: typeof a.azureFile) => l.accountUrl ?? l.account;
    return account(a.azureFile) === account(b.azureFile) && a.azureFile.share === b.azureFile.share && a.azureFile.path.replace(/^\/+/, "") === b.azureFile.path.replace(/^\/+/, "");
  }
  if ("azureBlob" in a && "azureBlob" in b) {
    const account = (l: typeof a.azureBlob) => l.accountUrl ?? l.account;
    return account(a.azureBlob) === account(b.azureBlob) && a.azureBlob.container === b.azureBlob.container && a.azureBlob.blob === b.azureBlob.blob;
  }
  return deepEqual(a, b);
}

/** ETags arrive quoted from AWS and moto, and unquoted from Ceph RGW. */
export function normalizeEtag(etag: string): string {
  return etag.replace(/^W\//, "").replace(/^"+|"+$/g, "");
}

function optionKeys(a: object, b: object): string[] {
  const ignored = new Set(["source", "destination", "sourceCredentials", "destinationCredentials", "__provider"]);
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !ignored.has(k)).sort();
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bKeys = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
