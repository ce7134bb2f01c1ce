/**
 * What an S3 to S3 copy sends besides the CopyObject itself: the destination's headers (the same on
 * every path), and the multipart path (parts copied by a few workers, pinned to the source's ETag,
 * the upload aborted on failure).
 */
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectTaggingCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type HeadObjectCommandOutput,
  type ServerSideEncryption,
  type StorageClass,
} from "@aws-sdk/client-s3";
import type { CopyOptions } from "../args";
import { CopyError } from "../errors";
import type { S3Locator } from "../locators";
import { abortReason, type Logger } from "../operation";
import { partRanges } from "../plan";
import { CLEANUP_BUDGET_MS } from "../shutdown";
import { formatBytes, normalizeEtag } from "../values";
import { copySource, headS3, s3Failure, s3Uri, statusOf, type S3Api } from "./s3";

export interface Job {
  src: S3Api;
  dst: S3Api;
  source: S3Locator;
  destination: S3Locator;
  head: HeadObjectCommandOutput;
  options: CopyOptions;
  signal: AbortSignal;
  log: Logger;
}

export const CONTENT_OPTIONS = ["contentType", "cacheControl", "contentDisposition", "contentEncoding", "contentLanguage"] as const;

/** The destination's headers: the source's, with each given option replacing its own. */
export function destinationHeaders(job: Job) {
  const { head, options } = job;
  return {
    ContentType: options.contentType ?? head.ContentType,
    CacheControl: options.cacheControl ?? head.CacheControl,
    ContentDisposition: options.contentDisposition ?? head.ContentDisposition,
    ContentEncoding: options.contentEncoding ?? head.ContentEncoding,
    ContentLanguage: options.contentLanguage ?? head.ContentLanguage,
    Expires: head.Expires,
    Metadata: options.metadata ?? head.Metadata,
    StorageClass: options.storageClass as StorageClass | undefined,
    ServerSideEncryption: options.serverSideEncryption as ServerSideEncryption | undefined,
    SSEKMSKeyId: options.kmsKeyId,
  };
}

export function tagging(tags: Record<string, string>): string {
  return new URLSearchParams(Object.entries(tags)).toString();
}

/** A multipart upload starts untagged. Without s3:GetObjectTagging the copy goes ahead untagged, and says so. */
export async function sourceTags(job: Job): Promise<Record<string, string> | undefined> {
  try {
    const result = await job.src.send(
      new GetObjectTaggingCommand({ Bucket: job.source.bucket, Key: job.source.key, VersionId: job.source.versionId }),
      { abortSignal: job.signal },
    );
    return Object.fromEntries((result.TagSet ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
  } catch (e) {
    if (statusOf(e) === 403 && !job.signal.aborted) {
      job.log.warn(
        `the source's tags could not be read (no s3:GetObjectTagging), so the multipart copy gets none; give tags explicitly to choose ` +
          `them`,
      );
      return undefined;
    }
    throw s3Failure(e, job.signal, `GetObjectTagging on the source ${s3Uri(job.source)}`, "source");
  }
}

/** Multipart uploads start blank: metadata and headers are carried explicitly, so the result matches a single CopyObject. */
export async function createUpload(job: Job, tags: Record<string, string> | undefined): Promise<string> {
  const created = await job.dst.send(
    new CreateMultipartUploadCommand({
      Bucket: job.destination.bucket,
      Key: job.destination.key,
      ...destinationHeaders(job),
      ...(tags && Object.keys(tags).length ? { Tagging: tagging(tags) } : {}),
    }),
    { abortSignal: job.signal },
  );
  if (!created.UploadId) throw new CopyError("CopyFailed", `CreateMultipartUpload on ${s3Uri(job.destination)} returned no UploadId`);
  return created.UploadId;
}

/** A few workers pull part ranges from one iterator; the first failure stops the rest. */
export async function copyParts(
  job: Job,
  uploadId: string,
  size: number,
  partSizeBytes: number,
  concurrency: number,
): Promise<CompletedPart[]> {
  const stop = new AbortController();
  const signal = AbortSignal.any([job.signal, stop.signal]);
  const ranges = partRanges(size, partSizeBytes);
  const parts: CompletedPart[] = [];
  const total = Math.ceil(size / partSizeBytes);
  let copiedBytes = 0;
  let copiedParts = 0;
  const worker = async () => {
    for (let next = ranges.next(); !next.done && !signal.aborted; next = ranges.next()) {
      const { partNumber, first, last } = next.value;
      const result = await job.dst.send(
        new UploadPartCopyCommand({
          Bucket: job.destination.bucket,
          Key: job.destination.key,
          UploadId: uploadId,
          PartNumber: partNumber,
          CopySource: copySource(job.source, job.source.versionId),
          CopySourceRange: `bytes=${first}-${last}`,
          CopySourceIfMatch: job.head.ETag,
        }),
        { abortSignal: signal },
      );
      const etag = result.CopyPartResult?.ETag;
      if (!etag) throw new CopyError("CopyFailed", `UploadPartCopy of part ${partNumber} returned no ETag`);
      parts[partNumber - 1] = { PartNumber: partNumber, ETag: etag };
      copiedBytes += last - first + 1;
      copiedParts++;
      job.log.progress(`copied ${copiedParts}/${total} parts (${formatBytes(copiedBytes)} of ${formatBytes(size)})`);
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  try {
    await Promise.all(workers);
  } catch (e) {
    stop.abort();
    await Promise.allSettled(workers);
    throw job.signal.aborted ? progressed(abortReason(job.signal), copiedParts, total, copiedBytes, size) : e;
  }
  if (signal.aborted) throw progressed(abortReason(job.signal), copiedParts, total, copiedBytes, size);
  return parts;
}

/**
 * CopySourceIfMatch on each part is the guard on AWS, but some S3-compatible servers (Ceph RGW,
 * moto) ignore it, and parts read from two versions would mix. One HEAD before Complete catches
 * an overwrite on every server; a pinned version cannot change.
 */
export async function ensureSourceUnchanged(job: Job): Promise<void> {
  if (job.source.versionId) return;
  const now = await headS3(job.src, job.source, undefined, job.signal, "source");
  const was = normalizeEtag(job.head.ETag ?? "");
  const is = now ? normalizeEtag(now.ETag ?? "") : undefined;
  if (is === was) return;
  throw new CopyError(
    "SourceChanged",
    `${s3Uri(job.source)} changed while its parts were being copied (ETag ${was}, now ${is ?? "deleted"}); the multipart upload was ` +
      `aborted and nothing was written; run up again to copy the new content`,
  );
}

/** A timeout or abort that says how far the copy had got. */
function progressed(reason: CopyError, parts: number, total: number, bytes: number, size: number): CopyError {
  return new CopyError(
    reason.code,
    `${reason.detail}; ${parts} of ${total} parts (${formatBytes(bytes)} of ${formatBytes(size)}) had been copied, and the multipart ` +
      `upload was aborted`,
    { cause: reason },
  );
}

/** Runs even after the operation's signal fired, within the shutdown cleanup budget. */
export async function abortUpload(client: S3Api, location: S3Locator, uploadId: string, log: Logger): Promise<void> {
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: location.bucket, Key: location.key, UploadId: uploadId }), {
      abortSignal: AbortSignal.timeout(CLEANUP_BUDGET_MS - 500),
    });
    log.info(`aborted the multipart upload on ${s3Uri(location)}; nothing was written`);
  } catch (e) {
    log.warn(
      `could not abort the multipart upload ${uploadId} on ${s3Uri(location)} (${(e as Error).message}); the next create or delete of ` +
        `this resource aborts it`,
    );
  }
}
