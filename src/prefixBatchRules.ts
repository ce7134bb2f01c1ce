/**
 * The rules of `engine: "s3-batch"`, pure: when a CopiedPrefix can be handed to S3 Batch Operations (the key mapping
 * and the options a job can express), which engine `"auto"` picks, how the job's CSV manifest spells keys, how its
 * completion report is read, and the job's copy operation built from the per-object options. docs/s3-batch.md says
 * the same for users.
 */
import type { PerObjectOptions, PrefixEngine } from "./prefixOptions";
import { GiB } from "./values";

/**
 * `engine: "auto"` hands a run to S3 Batch Operations only when `batchRoleArn` is given and more objects than this
 * are to be copied. Below it the provider is as fast (it copies 32 objects at once, server-side) and costs nothing
 * per job; a job also takes minutes to prepare, which dwarfs a small run.
 */
export const BATCH_AUTO_THRESHOLD = 100_000;

/** The largest object a Batch Operations copy takes (one CopyObject); larger ones go through the provider's multipart path. */
export const BATCH_MAX_OBJECT_BYTES = 5 * GiB;

/**
 * Where a run keeps its job's files (CSV manifest, job record, completion report), below the destination prefix:
 * the selection never takes a key under it, and each run and destroy remove it.
 */
export { BATCH_AREA } from "./prefixLocators";

/** The storage classes S3PutObjectCopy accepts (the S3Control API's S3StorageClass). */
export const BATCH_STORAGE_CLASSES = [
  "STANDARD",
  "STANDARD_IA",
  "ONEZONE_IA",
  "GLACIER",
  "INTELLIGENT_TIERING",
  "DEEP_ARCHIVE",
  "GLACIER_IR",
] as const;

const CONTENT_HEADERS = ["contentType", "cacheControl", "contentDisposition", "contentEncoding", "contentLanguage"] as const;

/**
 * The `TargetKeyPrefix` that maps every source key to CopiedPrefix's destination key, or undefined when no prefix
 * can. A job copies `bucket/key` to `TargetKeyPrefix + key`: it only prepends, so the destination prefix must end
 * with the source prefix, and what is prepended must be empty or end with "/" (AWS documents the field as a folder;
 * with a trailing "/" a folder and a plain prepend give the same key).
 * @example batchTargetPrefix("fx/", "seed/fx/") === "seed/"; batchTargetPrefix("fx/", "seed/") === undefined
 */
export function batchTargetPrefix(sourcePrefix: string, destinationPrefix: string): string | undefined {
  if (!destinationPrefix.endsWith(sourcePrefix)) return undefined;
  const prepended = destinationPrefix.slice(0, destinationPrefix.length - sourcePrefix.length);
  return prepended === "" || prepended.endsWith("/") ? prepended : undefined;
}

/** Why a job cannot do what the provider would, one reason per option (empty: it can). Unknown values are not judged. */
export function batchObstacles(
  source: { prefix: string },
  destination: { prefix: string },
  options: PerObjectOptions,
): Array<{ property: string; reason: string }> {
  const out: Array<{ property: string; reason: string }> = [];
  if (
    typeof source.prefix === "string" &&
    typeof destination.prefix === "string" &&
    !batchTargetPrefix(source.prefix, destination.prefix)
  ) {
    out.push({
      property: "destination.s3.prefix",
      reason:
        `"${destination.prefix}" is not a folder followed by the source's prefix "${source.prefix}": S3 Batch Operations only ` +
        `prepends a prefix to each source key (e.g. destination "seed/${source.prefix}" for source "${source.prefix}")`,
    });
  }
  const headers = CONTENT_HEADERS.filter((k) => options[k] !== undefined);
  if (headers.length && options.metadata === undefined) {
    out.push({
      property: headers[0],
      reason:
        "a job replaces an object's headers and its user metadata together, so it would drop each source's metadata: " +
        "give metadata too (or {} for none)",
    });
  }
  const sc = options.storageClass;
  if (typeof sc === "string" && !(BATCH_STORAGE_CLASSES as readonly string[]).includes(sc))
    out.push({ property: "storageClass", reason: `a job writes only ${BATCH_STORAGE_CLASSES.join(", ")} (got ${sc})` });
  if (options.serverSideEncryption === "aws:kms:dsse")
    out.push({ property: "serverSideEncryption", reason: 'a job encrypts with "AES256" or "aws:kms" only, not dual-layer KMS' });
  return out;
}

/**
 * Which engine runs a copy. `"auto"` stays on the provider unless a role is given, a job can do the copy, and more
 * than {@link BATCH_AUTO_THRESHOLD} objects are to be copied.
 */
export function chooseEngine(
  engine: PrefixEngine | undefined,
  possible: boolean,
  hasRole: boolean,
  toCopy: number,
): "provider" | "s3-batch" {
  if (engine === "s3-batch") return "s3-batch";
  if (engine === "provider" || !hasRole || !possible) return "provider";
  return toCopy > BATCH_AUTO_THRESHOLD ? "s3-batch" : "provider";
}

/**
 * One line of a job's CSV manifest (S3BatchOperations_CSV_20180820): bucket, key, and version when given. Keys must
 * be URL-encoded: encodeURIComponent never writes "+" or a space, so S3 reads the same key whether it decodes "+" as a
 * space or not; "/" is kept, as S3's own examples show.
 */
export function csvLine(bucket: string, key: string, versionId?: string): string {
  const encoded = encodeURIComponent(key).replace(/%2F/g, "/");
  return `${bucket},${encoded}${versionId ? `,${versionId}` : ""}\n`;
}

/** A key as a completion report writes it: URL-encoded (form style, "+" for a space). */
export function reportKey(field: string): string {
  try {
    return decodeURIComponent(field.replace(/\+/g, " "));
  } catch {
    return field;
  }
}

/** One CSV record's fields (RFC 4180: quoted fields, `""` for a quote inside one). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (line[i] === '"') {
      for (i++; i < line.length; i++) {
        if (line[i] === '"' && line[i + 1] === '"') ((field += '"'), i++);
        else if (line[i] === '"') break;
        else field += line[i];
      }
      i++;
    } else {
      const end = line.indexOf(",", i);
      field = line.slice(i, end < 0 ? line.length : end);
      i = end < 0 ? line.length : end;
    }
    out.push(field);
    if (line[i] !== ",") return out;
    i++;
  }
}

/** A failed task of a completion report. */
export interface ReportedFailure {
  key: string;
  /** The S3 error code (e.g. AccessDenied), or the HTTP status when the report gives none. */
  code: string;
  message: string;
}

/**
 * A completion report row: Bucket, Key, VersionId, TaskStatus, then the HTTP status and error code (AWS's examples
 * write them in that order, though the report's schema names ErrorCode first: the numeric one is the status), and
 * ResultMessage. Undefined for rows of tasks that succeeded.
 */
export function reportFailure(line: string): ReportedFailure | undefined {
  const [, key, , status, a = "", b = "", ...message] = csvFields(line.replace(/\r$/, ""));
  if (key === undefined || status?.toLowerCase() !== "failed") return undefined;
  const [httpStatus, errorCode] = /^\d{3}$/.test(a) ? [a, b] : [b, a];
  return { key: reportKey(key), code: errorCode || `HTTP ${httpStatus || "?"}`, message: message.join(",") };
}

/**
 * A failed task as a run's failure: the package's stable code for what S3 said, and S3's own code first in the
 * message (the run's error names both, e.g. `fx/a.bin (SourceChanged: PreconditionFailed: …)`).
 */
export function taskFailure(f: ReportedFailure): { key: string; code: string; message: string } {
  const code =
    f.code === "PreconditionFailed"
      ? "SourceChanged"
      : f.code === "AccessDenied" || f.code === "HTTP 403"
        ? "AccessDenied"
        : f.code === "NoSuchKey" || f.code === "HTTP 404"
          ? "SourceNotFound"
          : f.code === "NoSuchBucket"
            ? "DestinationNotFound"
            : "CopyFailed";
  return { key: f.key, code, message: `${f.code}: ${f.message}` };
}

/** The account an IAM role ARN belongs to: a job is created in it. */
export function roleAccount(roleArn: string): { partition: string; account: string } {
  const m = /^arn:([\w-]+):iam::(\d{12}):role\//.exec(roleArn);
  if (!m) throw new Error(`not an IAM role ARN: ${roleArn}`);
  return { partition: m[1], account: m[2] };
}

/** S3PutObjectCopy's fields (the SDK's S3CopyObjectOperation), without importing the SDK into a pure module. */
export interface BatchCopyOperation {
  TargetResource: string;
  TargetKeyPrefix?: string;
  MetadataDirective: "COPY" | "REPLACE";
  NewObjectMetadata?: {
    UserMetadata?: Record<string, string>;
    CacheControl?: string;
    ContentDisposition?: string;
    ContentEncoding?: string;
    ContentLanguage?: string;
    ContentType?: string;
    SSEAlgorithm?: "AES256" | "KMS";
  };
  NewObjectTagging?: Array<{ Key: string; Value: string }>;
  StorageClass?: (typeof BATCH_STORAGE_CLASSES)[number];
  SSEAwsKmsKeyId?: string;
  UnModifiedSinceConstraint: Date;
}

/**
 * The job's copy operation, with the same result as the provider's CopyObject: metadata and headers replace the
 * source's only when given, tags likewise. `unmodifiedSince` pins the job to the listing: a source written after
 * the listing began fails (PreconditionFailed) instead of being recorded under its old ETag.
 */
export function batchCopyOperation(
  options: PerObjectOptions,
  target: { partition: string; bucket: string; keyPrefix: string },
  unmodifiedSince: Date,
): BatchCopyOperation {
  const replace = options.metadata !== undefined || CONTENT_HEADERS.some((k) => options[k] !== undefined);
  const sse = options.serverSideEncryption === "AES256" ? "AES256" : options.serverSideEncryption === "aws:kms" ? "KMS" : undefined;
  const metadata = {
    ...(replace ? { UserMetadata: { ...(options.metadata ?? {}) } } : {}),
    ...(options.cacheControl !== undefined ? { CacheControl: options.cacheControl } : {}),
    ...(options.contentDisposition !== undefined ? { ContentDisposition: options.contentDisposition } : {}),
    ...(options.contentEncoding !== undefined ? { ContentEncoding: options.contentEncoding } : {}),
    ...(options.contentLanguage !== undefined ? { ContentLanguage: options.contentLanguage } : {}),
    ...(options.contentType !== undefined ? { ContentType: options.contentType } : {}),
    ...(sse ? { SSEAlgorithm: sse } : {}),
  } satisfies BatchCopyOperation["NewObjectMetadata"];
  return {
    TargetResource: `arn:${target.partition}:s3:::${target.bucket}`,
    ...(target.keyPrefix ? { TargetKeyPrefix: target.keyPrefix } : {}),
    MetadataDirective: replace ? "REPLACE" : "COPY",
    ...(Object.keys(metadata).length ? { NewObjectMetadata: metadata } : {}),
    ...(options.tags !== undefined ? { NewObjectTagging: Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
    ...(options.storageClass !== undefined ? { StorageClass: options.storageClass as BatchCopyOperation["StorageClass"] } : {}),
    ...(sse === "KMS" && options.kmsKeyId ? { SSEAwsKmsKeyId: options.kmsKeyId } : {}),
    UnModifiedSinceConstraint: unmodifiedSince,
  };
}
