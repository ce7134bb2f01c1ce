/**
 * The plain (resolved) shapes of CopiedObject's inputs, and the rules they must obey.
 * Everything here is pure: `check` runs it before any request is sent.
 */

import { UNKNOWN, checkBoolean, checkNonEmptyString, checkNumber, checkStringMap, isPlainObject, isUnknown, show, suggest, type Fail } from "./checks";
import { LOCATOR_KEYS, validateAzureBlobLocator, validateAzureFileLocator, validateCredentials, validateS3Locator, validateUrlLocator } from "./locators";

export { UNKNOWN, isUnknown };

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3Locator {
  bucket: string;
  key: string;
  /** Source only: copy this version (how a version is promoted over the current one). */
  versionId?: string;
  region?: string;
  /** An S3-compatible server, e.g. `http://127.0.0.1:9000`. */
  endpoint?: string;
  forcePathStyle?: boolean;
  credentials?: S3Credentials;
}

export type AzureCredentials = { accountKey: string } | { sasToken: string } | { connectionString: string };

export interface AzureBlobLocator {
  accountUrl?: string;
  account?: string;
  container: string;
  blob: string;
  snapshot?: string;
  versionId?: string;
  credentials?: AzureCredentials;
}

export interface AzureFileLocator {
  accountUrl?: string;
  account?: string;
  share: string;
  path: string;
  shareSnapshot?: string;
  credentials?: AzureCredentials;
}

export type Locator =
  | { s3: S3Locator }
  | { azureBlob: AzureBlobLocator }
  | { azureFile: AzureFileLocator }
  | { url: string };

export type LocatorKind = "s3" | "azureBlob" | "azureFile" | "url";

export type Strategy = "auto" | "copy" | "multipart" | "blocks" | "sync" | "stream";

export interface CopyOptions {
  metadata?: Record<string, string>;
  tags?: Record<string, string>;
  contentType?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  storageClass?: string;
  accessTier?: string;
  serverSideEncryption?: string;
  kmsKeyId?: string;
  sourceEtag?: string;
  strategy?: Strategy;
  partSizeBytes?: number;
  concurrency?: number;
  timeoutSeconds?: number;
  pollIntervalSeconds?: number;
  trackSource?: boolean;
  verify?: boolean;
}

/**
 * What the provider receives. CopiedObject lifts each locator's `credentials` into a
 * top-level secret property, so that the engine keeps them secret in state whatever
 * it does with nested secrets, and so that `source` and `destination` stay readable.
 */
export interface WireInputs extends CopyOptions {
  source: Locator;
  destination: Locator;
  sourceCredentials?: S3Credentials | AzureCredentials;
  destinationCredentials?: S3Credentials | AzureCredentials;
}

export interface Failure {
  property: string;
  reason: string;
}

export const DEFAULT_TIMEOUT_SECONDS = 3600;
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

const OPTION_KEYS = [
  "metadata", "tags", "contentType", "cacheControl", "contentDisposition", "contentEncoding",
  "contentLanguage", "storageClass", "accessTier", "serverSideEncryption", "kmsKeyId", "sourceEtag",
  "strategy", "partSizeBytes", "concurrency", "timeoutSeconds", "pollIntervalSeconds", "trackSource", "verify",
] as const;
const TOP_KEYS = ["source", "destination", "sourceCredentials", "destinationCredentials", ...OPTION_KEYS];
const STRATEGIES: readonly Strategy[] = ["auto", "copy", "multipart", "blocks", "sync", "stream"];
const S3_STORAGE_CLASSES = [
  "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
  "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS", "SNOW", "EXPRESS_ONEZONE",
];
const S3_SSE = ["AES256", "aws:kms", "aws:kms:dsse"];

/** Stores this release can copy between, and the pairs. The others are typed but rejected at check. */
const SUPPORTED_KINDS: readonly LocatorKind[] = ["s3", "azureBlob", "azureFile", "url"];
const SUPPORTED_PAIRS = [
  "s3->s3", "azureBlob->azureBlob", "url->azureBlob", "s3->azureBlob", "azureFile->azureBlob", "azureFile->azureFile", "azureBlob->azureFile",
  "azureBlob->s3", "azureFile->s3", "url->s3",
];
/** Pairs with no server-side path: the bytes must pass through the provider, so the user opts in. */
const STREAM_ONLY_PAIRS = ["azureBlob->s3", "azureFile->s3", "url->s3"];

/** Deep check, for rules that need a whole value (e.g. comparing locators) during preview. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

export function locatorKind(locator: Locator): LocatorKind {
  return Object.keys(locator)[0] as LocatorKind;
}

/** Validates what `check` receives. Returns every failure, so one preview shows them all. */
export function validateInputs(news: Record<string, unknown>): Failure[] {
  const failures: Failure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });

  for (const key of Object.keys(news)) {
    if (key === "__provider" || TOP_KEYS.includes(key)) continue;
    fail(key, `is not an option of CopiedObject${suggest(key, TOP_KEYS)}. The options are: ${OPTION_KEYS.join(", ")}.`);
  }
  const sourceKind = validateLocator(news.source, "source", fail);
  const destinationKind = validateLocator(news.destination, "destination", fail);
  validateCredentials(news.sourceCredentials, sourceKind, "source", fail);
  validateCredentials(news.destinationCredentials, destinationKind, "destination", fail);
  validateOptions(news, destinationKind, fail);
  if (sourceKind && destinationKind) validatePair(news as unknown as WireInputs, sourceKind, destinationKind, fail);
  return failures;
}

function validateLocator(value: unknown, where: "source" | "destination", fail: Fail): LocatorKind | undefined {
  if (isUnknown(value)) return undefined;
  if (!isPlainObject(value)) {
    fail(where, `is required: give exactly one of { s3 }, { azureBlob }, { azureFile }${where === "source" ? " or { url }" : ""}.`);
    return undefined;
  }
  const kinds = Object.keys(value).filter((k) => value[k] !== undefined && value[k] !== null);
  if (kinds.length !== 1) {
    fail(where, `must have exactly one of the keys s3, azureBlob, azureFile${where === "source" ? ", url" : ""} (got ${kinds.length ? kinds.join(", ") : "none"}).`);
    return undefined;
  }
  const kind = kinds[0];
  if (!(kind in LOCATOR_KEYS)) {
    fail(`${where}.${kind}`, `is not a kind of location${suggest(kind, Object.keys(LOCATOR_KEYS))}. Use s3, azureBlob, azureFile or url.`);
    return undefined;
  }
  const typed = kind as LocatorKind;
  if (typed === "url" && where === "destination") {
    fail("destination.url", "a URL can only be a source: nothing can be written to it. Copy to an s3, azureBlob or azureFile destination.");
    return undefined;
  }
  if (!SUPPORTED_KINDS.includes(typed)) {
    fail(`${where}.${typed}`, `${typed} locations are not supported yet by this release of pulumi-copied-object; only s3 is. Upgrade the package when ${typed} support lands.`);
    return typed;
  }
  const body = value[kind];
  if (typed === "s3") validateS3Locator(body, `${where}.s3`, where, fail);
  if (typed === "azureBlob") validateAzureBlobLocator(body, `${where}.azureBlob`, where, fail);
  if (typed === "url") validateUrlLocator(body, "source.url", fail);
  if (typed === "azureFile") validateAzureFileLocator(body, `${where}.azureFile`, where, fail);
  return typed;
}

function validateOptions(news: Record<string, unknown>, destinationKind: LocatorKind | undefined, fail: Fail): void {
  checkStringMap(news.metadata, "metadata", fail, /^[A-Za-z0-9_-]+$/, "letters, digits, '-' and '_'");
  if (isPlainObject(news.metadata)) {
    // Metadata travels in HTTP headers: S3 and Azure take US-ASCII only (Node refuses other characters outright).
    for (const [k, v] of Object.entries(news.metadata)) {
      if (typeof v === "string" && !isUnknown(v) && !/^[\x20-\x7E]*$/.test(v)) fail(`metadata.${k}`, "must be printable US-ASCII, since metadata travels in HTTP headers. Encode other characters, e.g. with encodeURIComponent().");
    }
  }
  checkStringMap(news.tags, "tags", fail);
  for (const key of ["contentType", "cacheControl", "contentDisposition", "contentEncoding", "contentLanguage", "kmsKeyId", "accessTier"]) {
    if (news[key] !== undefined) checkNonEmptyString(news[key], key, fail, 1024);
  }
  if (news.sourceEtag !== undefined) checkNonEmptyString(news.sourceEtag, "sourceEtag", fail, 1024);
  const isS3Destination = destinationKind === "s3";
  if (isS3Destination && isPlainObject(news.tags)) {
    const tags = Object.entries(news.tags);
    if (tags.length > 10) fail("tags", `has ${tags.length} tags; S3 allows at most 10 per object. Drop some.`);
    for (const [k, v] of tags) {
      if (k.length > 128) fail(`tags.${k}`, "tag keys are at most 128 characters on S3.");
      if (typeof v === "string" && v.length > 256) fail(`tags.${k}`, "tag values are at most 256 characters on S3.");
    }
  }
  if (isS3Destination && isPlainObject(news.metadata)) {
    const size = Object.entries(news.metadata).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)), 0);
    if (size > 2048) fail("metadata", `is ${size} bytes; S3 allows 2 KB of user metadata. Shorten it.`);
  }
  if (news.storageClass !== undefined && !isUnknown(news.storageClass) && isS3Destination) {
    const custom = isPlainObject(news.destination) && isPlainObject(news.destination.s3) && news.destination.s3.endpoint !== undefined;
    const ok = typeof news.storageClass === "string" && (S3_STORAGE_CLASSES.includes(news.storageClass) || (custom && /^[A-Z0-9_]+$/.test(news.storageClass)));
    if (!ok) fail("storageClass", `must be an S3 storage class: ${S3_STORAGE_CLASSES.join(", ")} (got ${show(news.storageClass)}).`);
  }
  if (isS3Destination && news.accessTier !== undefined) fail("accessTier", "applies to Azure destinations; for S3 use storageClass.");
  if (destinationKind === "azureBlob") validateAzureBlobOptions(news, fail);
  if (destinationKind === "azureFile") {
    for (const key of ["storageClass", "kmsKeyId", "accessTier", "tags"]) if (news[key] !== undefined) fail(key, "does not apply to Azure Files destinations; remove it.");
  }
  if (news.serverSideEncryption !== undefined && !isUnknown(news.serverSideEncryption)) {
    if (!S3_SSE.includes(news.serverSideEncryption as string)) fail("serverSideEncryption", `must be one of ${S3_SSE.join(", ")} (got ${show(news.serverSideEncryption)}).`);
    if (!isS3Destination && destinationKind) fail("serverSideEncryption", "applies to S3 destinations only.");
  }
  if (news.kmsKeyId !== undefined && !isUnknown(news.kmsKeyId) && !String(news.serverSideEncryption ?? "").startsWith("aws:kms")) {
    fail("kmsKeyId", "needs serverSideEncryption: \"aws:kms\" (or \"aws:kms:dsse\"); set it, or remove kmsKeyId.");
  }
  if (news.strategy !== undefined && !isUnknown(news.strategy) && !STRATEGIES.includes(news.strategy as Strategy)) {
    fail("strategy", `must be one of ${STRATEGIES.map((s) => `"${s}"`).join(", ")} (got ${show(news.strategy)}).`);
  }
  if (destinationKind === "azureBlob") checkNumber(news.partSizeBytes, "partSizeBytes", fail, { min: 1 * MiB, max: 4000 * MiB, integer: true, hint: "Azure blocks are at most 4000 MiB" });
  else checkNumber(news.partSizeBytes, "partSizeBytes", fail, { min: 5 * MiB, max: 5 * GiB, integer: true, hint: "S3 parts are 5 MiB to 5 GiB" });
  checkNumber(news.concurrency, "concurrency", fail, { min: 1, max: 64, integer: true, hint: "parts copied at once" });
  checkNumber(news.timeoutSeconds, "timeoutSeconds", fail, { min: 1, max: 7 * 24 * 3600, hint: "at most 7 days" });
  checkNumber(news.pollIntervalSeconds, "pollIntervalSeconds", fail, { min: 0.1, max: 3600, hint: "seconds between status checks" });
  if (typeof news.pollIntervalSeconds === "number" && typeof news.timeoutSeconds === "number" && news.pollIntervalSeconds > news.timeoutSeconds) {
    fail("pollIntervalSeconds", `(${news.pollIntervalSeconds}) is longer than timeoutSeconds (${news.timeoutSeconds}); lower it.`);
  }
  for (const key of ["trackSource", "verify"]) if (news[key] !== undefined) checkBoolean(news[key], key, fail);
}

const AZURE_TIERS = ["Hot", "Cool", "Cold", "Archive", "P4", "P6", "P10", "P15", "P20", "P30", "P40", "P50", "P60", "P70", "P80"];

function validateAzureBlobOptions(news: Record<string, unknown>, fail: Fail): void {
  if (news.storageClass !== undefined) fail("storageClass", "applies to S3 destinations; for Azure use accessTier.");
  if (news.kmsKeyId !== undefined) fail("kmsKeyId", "applies to S3 destinations; Azure encrypts with the account's or container's encryption scope.");
  if (news.accessTier !== undefined && !isUnknown(news.accessTier) && !AZURE_TIERS.includes(news.accessTier as string)) {
    fail("accessTier", `must be one of ${AZURE_TIERS.join(", ")} (got ${show(news.accessTier)}).`);
  }
  if (isPlainObject(news.metadata)) {
    // Azure metadata names are C# identifiers, unlike S3's.
    for (const key of Object.keys(news.metadata)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) fail(`metadata.${key}`, "Azure metadata names must be C# identifiers: letters, digits and '_', not starting with a digit.");
    }
  }
  if (isPlainObject(news.tags)) {
    const tags = Object.entries(news.tags);
    if (tags.length > 10) fail("tags", `has ${tags.length} tags; Azure blob index tags are at most 10 per blob.`);
    for (const [k, v] of tags) {
      if (!/^[A-Za-z0-9 +\-./:=_]{1,128}$/.test(k)) fail(`tags.${k}`, "blob index tag keys are 1-128 of letters, digits, space and + - . / : = _.");
      if (typeof v === "string" && !/^[A-Za-z0-9 +\-./:=_]{0,256}$/.test(v)) fail(`tags.${k}`, "blob index tag values are 0-256 of letters, digits, space and + - . / : = _.");
    }
  }
}

function validatePair(inputs: WireInputs, sourceKind: LocatorKind, destinationKind: LocatorKind, fail: Fail): void {
  if (!SUPPORTED_KINDS.includes(sourceKind) || !SUPPORTED_KINDS.includes(destinationKind)) return;
  if (!SUPPORTED_PAIRS.includes(`${sourceKind}->${destinationKind}`)) {
    const why = destinationKind === "azureFile"
      ? "Copy File reads only Azure Files and Azure Blob sources; copy into a blob instead, or stage the object in Azure Blob first."
      : "it copies S3 to S3; Azure Blob, Azure Files, S3 or a URL to Azure Blob; Azure Blob or Files to Azure Files; and, streamed, Azure or a URL to S3.";
    return void fail("destination", `copying ${sourceKind} to ${destinationKind} is not supported: ${why}`);
  }
  if (STREAM_ONLY_PAIRS.includes(`${sourceKind}->${destinationKind}`)) {
    if (inputs.strategy !== "stream") {
      fail("strategy", `S3 cannot copy from ${sourceKind === "url" ? "a URL" : `Azure ${sourceKind === "azureBlob" ? "Blob" : "Files"}`} server-side, so the bytes would pass through the machine running Pulumi. Set strategy: "stream" to accept that (memory stays within partSizeBytes × concurrency), or copy within one cloud.`);
    }
    return;
  }
  if (destinationKind === "azureFile" && inputs.strategy !== undefined && inputs.strategy !== "auto" && inputs.strategy !== "copy") {
    return void fail("strategy", `"${inputs.strategy}" does not apply to copies into Azure Files, which only Copy File writes; use "auto" or "copy".`);
  }
  if (sourceKind === "azureFile" && destinationKind === "azureFile" && !containsUnknown([inputs.source, inputs.destination])) {
    // Azure Files paths are case-insensitive; a leading "/" is dropped.
    const src = (inputs.source as { azureFile: AzureFileLocator }).azureFile;
    const dst = (inputs.destination as { azureFile: AzureFileLocator }).azureFile;
    const samePath = (a: string, b: string) => String(a).replace(/^\/+/, "").toLowerCase() === String(b).replace(/^\/+/, "").toLowerCase();
    if ((src.accountUrl ?? src.account) === (dst.accountUrl ?? dst.account) && src.share === dst.share && samePath(src.path, dst.path) && src.shareSnapshot === undefined) {
      return void fail("destination.azureFile.path", "is the source file itself. To restore a file from a share snapshot, set source.azureFile.shareSnapshot; otherwise copy to another path.");
    }
  }
  if (destinationKind === "azureBlob" && sourceKind !== "azureBlob") {
    if (inputs.strategy === "multipart" || inputs.strategy === "stream") fail("strategy", `"${inputs.strategy}" does not apply to copies into Azure Blob; use "auto" (async Copy Blob), "copy", "sync" (up to 256 MiB) or "blocks".`);
    return;
  }
  if (sourceKind === "azureBlob" && destinationKind === "azureBlob") return validateBlobPair(inputs, fail);
  const strategy = inputs.strategy;
  if (strategy === "blocks" || strategy === "sync") {
    fail("strategy", `"${strategy}" is an Azure Blob strategy; for S3 to S3 use "auto", "copy" or "multipart".`);
  }
  if (strategy === "stream") {
    fail("strategy", "\"stream\" sends the data through the machine running Pulumi; S3 to S3 always has a server-side path. Use \"auto\", \"copy\" or \"multipart\".");
  }
  if (sourceKind === "s3" && destinationKind === "s3" && !containsUnknown([inputs.source, inputs.destination])) {
    const src = (inputs.source as { s3: S3Locator }).s3;
    const dst = (inputs.destination as { s3: S3Locator }).s3;
    if (src.bucket === dst.bucket && src.key === dst.key && (src.endpoint ?? "") === (dst.endpoint ?? "") && src.versionId === undefined) {
      fail("destination.s3.key", "is the source object itself. To promote an older version over the current one, set source.s3.versionId; otherwise copy to another key.");
    }
  }
}


function validateBlobPair(inputs: WireInputs, fail: Fail): void {
  if (inputs.strategy === "multipart" || inputs.strategy === "stream") {
    fail("strategy", `"${inputs.strategy}" does not apply to Azure Blob to Azure Blob; use "auto", "copy" (async Copy Blob), "blocks" (Put Block From URL) or "sync" (Copy Blob From URL, up to 256 MiB).`);
  }
  if (containsUnknown([inputs.source, inputs.destination])) return;
  const src = (inputs.source as { azureBlob: AzureBlobLocator }).azureBlob;
  const dst = (inputs.destination as { azureBlob: AzureBlobLocator }).azureBlob;
  const sameAccount = (src.accountUrl ?? src.account) === (dst.accountUrl ?? dst.account);
  if (sameAccount && src.container === dst.container && src.blob === dst.blob && src.snapshot === undefined && src.versionId === undefined) {
    fail("destination.azureBlob.blob", "is the source blob itself. To promote a snapshot or version over the base blob, set source.azureBlob.snapshot or versionId; otherwise copy to another blob.");
  }
}
