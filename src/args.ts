/**
 * The plain (resolved) shapes of CopiedObject's inputs, and the rules they must obey.
 * Everything here is pure: `check` runs it before any request is sent.
 */

import { canonicalServiceUrl, resolveAzureAccount, type AccountFields } from "./azureAccount";
import { identityOf, sameBase, sameService, serviceLabel, type Env } from "./identity";
import { isRefusal, PAIRS, routeOf, STRATEGIES, type Refusal, type Strategy } from "./plan";
import { GiB, MiB } from "./values";
import { UNKNOWN, checkBoolean, containsUnknown, checkNonEmptyString, checkNumber, checkStringMap, isPlainObject, isUnknown, show, suggest, type Fail } from "./checks";
import {
  LOCATOR_KEYS, locatorKind, validateAzureBlobLocator, validateAzureFileLocator, validateCredentials, validateS3Locator, validateUrlLocator,
  type AzureBlobLocator, type AzureCredentials, type AzureFileLocator, type Locator, type LocatorKind, type S3Credentials, type S3Locator,
} from "./locators";

export { UNKNOWN, containsUnknown, isUnknown, locatorKind };
export type { Strategy };
export type { AzureBlobLocator, AzureCredentials, AzureFileLocator, Locator, LocatorKind, S3Credentials, S3Locator };


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

/**
 * What a change of each option does to a copy that exists. `content` options shape the stored result, so a
 * change re-copies in place. `tuning` options only shape how a copy runs, so a change writes nothing. A
 * `guard` (sourceEtag) re-copies only when it asks for content other than what was copied. Every option
 * must be classified here: the type refuses a new one that is not.
 */
export const OPTION_EFFECT = {
  metadata: "content", tags: "content", contentType: "content", cacheControl: "content", contentDisposition: "content",
  contentEncoding: "content", contentLanguage: "content", storageClass: "content", accessTier: "content",
  serverSideEncryption: "content", kmsKeyId: "content", sourceEtag: "guard",
  strategy: "tuning", partSizeBytes: "tuning", concurrency: "tuning", timeoutSeconds: "tuning", pollIntervalSeconds: "tuning",
  trackSource: "tuning", verify: "tuning",
} as const satisfies Record<keyof CopyOptions, "content" | "tuning" | "guard">;

export type OptionKey = keyof typeof OPTION_EFFECT;
export const OPTION_KEYS = Object.keys(OPTION_EFFECT) as OptionKey[];
const TOP_KEYS = ["source", "destination", "sourceCredentials", "destinationCredentials", ...OPTION_KEYS];
const S3_STORAGE_CLASSES = [
  "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
  "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS", "SNOW", "EXPRESS_ONEZONE",
];
const S3_SSE = ["AES256", "aws:kms", "aws:kms:dsse"];


/** Validates what `check` receives. Returns every failure, so one preview shows them all. */
export function validateInputs(news: Record<string, unknown>, env: Env = {}): Failure[] {
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
  validateAccountAgreement(news.source, news.sourceCredentials, sourceKind, "source", fail);
  validateAccountAgreement(news.destination, news.destinationCredentials, destinationKind, "destination", fail);
  validateOptions(news, destinationKind, fail);
  // Identity is asked only of locators that passed their own rules: a malformed one names nothing.
  const located = !failures.some((f) => /^(source|destination)(\.|$)/.test(f.property));
  if (sourceKind && destinationKind) validatePair(news as unknown as WireInputs, sourceKind, destinationKind, located ? env : undefined, fail);
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

/**
 * The pair and strategy (plan.ts's table), with the services S3 to S3 needs, and an object copied onto
 * itself; both asked of identity.ts, which alone decides "same object" and "same service".
 */
function validatePair(inputs: WireInputs, from: LocatorKind, to: LocatorKind, env: Env | undefined, fail: Fail): void {
  const strategy = inputs.strategy;
  const source = env && identityOf(inputs.source, inputs.sourceCredentials, env);
  const destination = env && identityOf(inputs.destination, inputs.destinationCredentials, env);
  if (isUnknown(strategy) || (strategy !== undefined && !STRATEGIES.includes(strategy))) {
    if (!PAIRS[`${from}->${to}`]) fail("destination", (routeOf(from, to) as Refusal).reason);
    return;
  }
  const services = source && destination ? { same: sameService(source, destination), source: serviceLabel(source), destination: serviceLabel(destination) } : undefined;
  const route = routeOf(from, to, strategy, services);
  if (isRefusal(route)) return void fail(route.property, route.reason);
  if (source && destination && sameBase(source, destination) && !source.version) {
    const [field, what, how] = SELF_COPY[to];
    fail(`destination.${to}.${field}`, `is the source ${what} itself. ${how}`);
  }
}

const SELF_COPY: Record<LocatorKind, [string, string, string]> = {
  s3: ["key", "object", "To promote an older version over the current one, set source.s3.versionId; otherwise copy to another key."],
  azureBlob: ["blob", "blob", "To promote a snapshot or version over the base blob, set source.azureBlob.snapshot or versionId; otherwise copy to another blob."],
  azureFile: ["path", "file", "To restore a file from a share snapshot, set source.azureFile.shareSnapshot; otherwise copy to another path."],
  url: ["url", "URL", ""],
};

/** A connection string decides the endpoint: an account or URL that names another one is a contradiction, caught here. */
function validateAccountAgreement(value: unknown, credentials: unknown, kind: LocatorKind | undefined, where: string, fail: Fail): void {
  if ((kind !== "azureBlob" && kind !== "azureFile") || !isPlainObject(value) || !isPlainObject(credentials) || containsUnknown([value, credentials])) return;
  const fields = value[kind] as AccountFields;
  if (typeof credentials.connectionString !== "string" || !isPlainObject(fields) || (fields.account === undefined && fields.accountUrl === undefined)) return;
  const service = kind === "azureBlob" ? "blob" : "file";
  const actual = resolveAzureAccount({}, { connectionString: credentials.connectionString }, {}, service);
  if (!actual) return;
  // An account name must be the connection string's; an account URL, its endpoint.
  const field = fields.accountUrl !== undefined ? "accountUrl" : "account";
  const named = field === "accountUrl" ? canonicalServiceUrl(String(fields.accountUrl)) : fields.account;
  if (named !== (field === "accountUrl" ? actual.url : actual.accountName)) {
    const theirs = field === "accountUrl" ? actual.url : `account ${actual.accountName}`;
    fail(`${where}.${kind}.${field}`, `names ${named}, but credentials.connectionString is for ${theirs} (${actual.url}), where requests would go. Give the connection string of that account, or remove ${field}.`);
  }
}
