/** The rules the options must obey, per destination store, run by `check` before any request. Pure. */
import { checkBoolean, checkNonEmptyString, checkNumber, checkStringMap, isPlainObject, isUnknown, show, type Fail } from "./checks";
import type { LocatorKind } from "./locators";
import { STRATEGIES, type Strategy } from "./plan";
import { AZURE_TIERS, S3_SSE, S3_STORAGE_CLASSES } from "./options";
import { GiB, MiB } from "./values";

export function validateOptions(news: Record<string, unknown>, destinationKind: LocatorKind | undefined, fail: Fail): void {
  checkStringMap(news.metadata, "metadata", fail, /^[A-Za-z0-9_-]+$/, "letters, digits, '-' and '_'");
  if (isPlainObject(news.metadata)) {
    // Metadata travels in HTTP headers: S3 and Azure take US-ASCII only (Node refuses other characters outright).
    for (const [k, v] of Object.entries(news.metadata)) {
      if (typeof v === "string" && !isUnknown(v) && !/^[\x20-\x7E]*$/.test(v))
        fail(
          `metadata.${k}`,
          "must be printable US-ASCII, since metadata travels in HTTP headers. Encode other characters, e.g. with encodeURIComponent().",
        );
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
    const ok =
      typeof news.storageClass === "string" &&
      ((S3_STORAGE_CLASSES as readonly string[]).includes(news.storageClass) || (custom && /^[A-Z0-9_]+$/.test(news.storageClass)));
    if (!ok) fail("storageClass", `must be an S3 storage class: ${S3_STORAGE_CLASSES.join(", ")} (got ${show(news.storageClass)}).`);
  }
  if (isS3Destination && news.accessTier !== undefined) fail("accessTier", "applies to Azure destinations; for S3 use storageClass.");
  if (destinationKind === "azureBlob") validateAzureBlobOptions(news, fail);
  if (destinationKind === "azureFile") {
    for (const key of ["storageClass", "kmsKeyId", "accessTier", "tags"])
      if (news[key] !== undefined) fail(key, "does not apply to Azure Files destinations; remove it.");
  }
  if (news.serverSideEncryption !== undefined && !isUnknown(news.serverSideEncryption)) {
    if (!(S3_SSE as readonly string[]).includes(news.serverSideEncryption as string))
      fail("serverSideEncryption", `must be one of ${S3_SSE.join(", ")} (got ${show(news.serverSideEncryption)}).`);
    if (!isS3Destination && destinationKind) fail("serverSideEncryption", "applies to S3 destinations only.");
  }
  if (news.kmsKeyId !== undefined && !isUnknown(news.kmsKeyId) && !String(news.serverSideEncryption ?? "").startsWith("aws:kms")) {
    fail("kmsKeyId", 'needs serverSideEncryption: "aws:kms" (or "aws:kms:dsse"); set it, or remove kmsKeyId.');
  }
  if (news.strategy !== undefined && !isUnknown(news.strategy) && !STRATEGIES.includes(news.strategy as Strategy)) {
    fail("strategy", `must be one of ${STRATEGIES.map((s) => `"${s}"`).join(", ")} (got ${show(news.strategy)}).`);
  }
  if (destinationKind === "azureBlob")
    checkNumber(news.partSizeBytes, "partSizeBytes", fail, {
      min: 1 * MiB,
      max: 4000 * MiB,
      integer: true,
      hint: "Azure blocks are at most 4000 MiB",
    });
  else
    checkNumber(news.partSizeBytes, "partSizeBytes", fail, {
      min: 5 * MiB,
      max: 5 * GiB,
      integer: true,
      hint: "S3 parts are 5 MiB to 5 GiB",
    });
  checkNumber(news.concurrency, "concurrency", fail, { min: 1, max: 64, integer: true, hint: "parts copied at once" });
  checkNumber(news.timeoutSeconds, "timeoutSeconds", fail, { min: 1, max: 7 * 24 * 3600, hint: "at most 7 days" });
  checkNumber(news.pollIntervalSeconds, "pollIntervalSeconds", fail, { min: 0.1, max: 3600, hint: "seconds between status checks" });
  if (
    typeof news.pollIntervalSeconds === "number" &&
    typeof news.timeoutSeconds === "number" &&
    news.pollIntervalSeconds > news.timeoutSeconds
  ) {
    fail("pollIntervalSeconds", `(${news.pollIntervalSeconds}) is longer than timeoutSeconds (${news.timeoutSeconds}); lower it.`);
  }
  for (const key of ["trackSource", "verify"]) if (news[key] !== undefined) checkBoolean(news[key], key, fail);
}

function validateAzureBlobOptions(news: Record<string, unknown>, fail: Fail): void {
  if (news.storageClass !== undefined) fail("storageClass", "applies to S3 destinations; for Azure use accessTier.");
  if (news.kmsKeyId !== undefined)
    fail("kmsKeyId", "applies to S3 destinations; Azure encrypts with the account's or container's encryption scope.");
  if (
    news.accessTier !== undefined &&
    !isUnknown(news.accessTier) &&
    !(AZURE_TIERS as readonly string[]).includes(news.accessTier as string)
  ) {
    fail("accessTier", `must be one of ${AZURE_TIERS.join(", ")} (got ${show(news.accessTier)}).`);
  }
  if (isPlainObject(news.metadata)) {
    // Azure metadata names are C# identifiers, unlike S3's.
    for (const key of Object.keys(news.metadata)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
        fail(`metadata.${key}`, "Azure metadata names must be C# identifiers: letters, digits and '_', not starting with a digit.");
    }
  }
  if (isPlainObject(news.tags)) {
    const tags = Object.entries(news.tags);
    if (tags.length > 10) fail("tags", `has ${tags.length} tags; Azure blob index tags are at most 10 per blob.`);
    for (const [k, v] of tags) {
      if (!/^[A-Za-z0-9 +\-./:=_]{1,128}$/.test(k))
        fail(`tags.${k}`, "blob index tag keys are 1-128 of letters, digits, space and + - . / : = _.");
      if (typeof v === "string" && !/^[A-Za-z0-9 +\-./:=_]{0,256}$/.test(v))
        fail(`tags.${k}`, "blob index tag values are 0-256 of letters, digits, space and + - . / : = _.");
    }
  }
}
