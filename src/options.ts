/**
 * CopiedObject's options: their types, what each means per store, and their defaults. Pure; the rules
 * they must obey are optionRules.ts's, and what a change of each does is OPTION_EFFECT (args.ts).
 */
import type { Strategy } from "./plan";

/** The storage classes S3 documents for objects. */
export const S3_STORAGE_CLASSES = [
  "STANDARD",
  "REDUCED_REDUNDANCY",
  "STANDARD_IA",
  "ONEZONE_IA",
  "INTELLIGENT_TIERING",
  "GLACIER",
  "DEEP_ARCHIVE",
  "GLACIER_IR",
  "OUTPOSTS",
  "SNOW",
  "EXPRESS_ONEZONE",
] as const;

/** A placement an S3-compatible server defines itself (Ceph RGW, MinIO): made with {@link customStorageClass}. */
export type CustomStorageClass = string & { readonly __customStorageClass: true };

/**
 * An S3 storage class. A server of your own may define other placements: name one with
 * `customStorageClass("COLD_HDD")`, so that a typo in a documented class still fails to compile.
 */
export type StorageClass = (typeof S3_STORAGE_CLASSES)[number] | CustomStorageClass;

/**
 * A storage class an S3-compatible server defines (upper-case letters, digits and `_`); `check` accepts it only
 * with a custom `endpoint` on the destination.
 * @example storageClass: customStorageClass("COLD_HDD")
 */
export function customStorageClass(name: string): CustomStorageClass {
  return name as CustomStorageClass;
}

/** Azure Blob access tiers: standard accounts' `Hot` to `Archive`, and premium page blobs' `P4` to `P80`. */
export const AZURE_TIERS = [
  "Hot",
  "Cool",
  "Cold",
  "Archive",
  "P4",
  "P6",
  "P10",
  "P15",
  "P20",
  "P30",
  "P40",
  "P50",
  "P60",
  "P70",
  "P80",
] as const;
export type AccessTier = (typeof AZURE_TIERS)[number];

/** S3 server-side encryption: S3-managed keys, KMS, or dual-layer KMS. */
export const S3_SSE = ["AES256", "aws:kms", "aws:kms:dsse"] as const;
export type ServerSideEncryption = (typeof S3_SSE)[number];

export const DEFAULT_TIMEOUT_SECONDS = 3600;

/** How the copy is made and what it writes. Every option is optional; see the README's tables for each store. */
export interface CopyOptions {
  /**
   * Replaces the source's user metadata; `{}` removes it. The result is the same on every path (single and
   * multipart, Copy Blob, Copy Blob From URL, blocks, Copy File). S3 keys: letters, digits, `-` and `_`; Azure
   * names: C# identifiers. Values are printable ASCII (they travel in HTTP headers). S3 allows 2 KB in all.
   * @default the source's metadata
   * @example metadata: { team: "data", seededby: "pulumi" }
   */
  metadata?: Record<string, string>;
  /**
   * Replaces the source's tags (S3 object tags, Azure blob index tags); `{}` removes them. At most 10.
   * Not for Azure Files, which has no tags.
   * @default the source's tags
   */
  tags?: Record<string, string>;
  /** Replaces the Content-Type; the other headers are kept. @default the source's */
  contentType?: string;
  /** Replaces the Cache-Control header. @default the source's */
  cacheControl?: string;
  /** Replaces the Content-Disposition header. @default the source's */
  contentDisposition?: string;
  /** Replaces the Content-Encoding header, e.g. `gzip`. The bytes are copied as they are either way. @default the source's */
  contentEncoding?: string;
  /** Replaces the Content-Language header. @default the source's */
  contentLanguage?: string;
  /** S3 destinations: the copy's storage class. @default `STANDARD` (S3's rule for copies) */
  storageClass?: StorageClass;
  /** Azure Blob destinations: the copy's access tier. @default the account's default tier */
  accessTier?: AccessTier;
  /** S3 destinations: server-side encryption of the copy. @default the bucket's default encryption */
  serverSideEncryption?: ServerSideEncryption;
  /** S3 destinations: the KMS key (id, ARN or alias) for `aws:kms` encryption. @default the account's AWS-managed key */
  kmsKeyId?: string;
  /**
   * Copy only if the source still has this ETag (quotes optional); otherwise fail with `SourceChanged` and write
   * nothing. A pin: the copy never silently takes other content.
   */
  sourceEtag?: string;
  /**
   * How to copy. `auto` picks by pair and size (see the README). S3: `copy` (one CopyObject, up to 5 GiB) or
   * `multipart` (UploadPartCopy). Azure Blob: `copy` (async Copy Blob), `sync` (Copy Blob From URL, up to 256 MiB)
   * or `blocks` (Put Block From URL). Azure Files: `copy`. `stream` passes the bytes through the provider: only
   * where no server-side path exists (Azure or a URL into S3, or S3 across two services), and only when asked.
   * Changing it writes nothing.
   * @default "auto"
   */
  strategy?: Strategy;
  /**
   * Bytes per part (S3 multipart, 5 MiB to 5 GiB; stream parts) or per block (Azure `blocks`, 1 MiB to 4000 MiB).
   * Changing it writes nothing.
   * @default by size: 128 MiB parts (S3), 64 MiB blocks (Azure), 8 MiB stream parts, raised to fit the part limits
   */
  partSizeBytes?: number;
  /** Parts or blocks copied at once, 1 to 64; parts in memory for a stream. @default 8 (4 for a stream) */
  concurrency?: number;
  /** Seconds before the copy is given up and the remote copy aborted (`CopyTimedOut`); up to 7 days. @default 3600 */
  timeoutSeconds?: number;
  /** Seconds between status checks of an async Azure copy, fixed. @default adaptive, from the copy's progress */
  pollIntervalSeconds?: number;
  /** Read the source on each preview and up, and copy again when its ETag or version changed. @default true */
  trackSource?: boolean;
  /** After the copy, check the destination's size, and its ETag, Content-MD5 or block list where the stores offer one. @default true */
  verify?: boolean;
}
