import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectTaggingCommand,
  PutObjectTaggingCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type HeadObjectCommandOutput,
  type ServerSideEncryption,
  type StorageClass,
} from "@aws-sdk/client-s3";
import type { CopyOptions, S3Credentials, S3Locator } from "../args";
import { normalizeEtag } from "../diff";
import { CopyError, isCopyError } from "../errors";
import { abortReason, type Logger } from "../operation";
import { formatBytes, partRanges, planS3Copy } from "../plan";
import { CLEANUP_BUDGET_MS } from "../shutdown";
import { abortLeftoverUploads, copySource, headS3, newS3Client, s3Error, s3Failure, s3Of, statusOf, s3Uri, stateOf, type S3Api, type S3ClientFactory } from "./s3";
import type { CopyOutcome, CopyRequest } from "./types";

/** S3 to S3, server-side: one CopyObject, or UploadPartCopy parts in parallel. */
export function s3ToS3(clientFor: S3ClientFactory = newS3Client) {
  return async (request: CopyRequest): Promise<CopyOutcome> => {
    const source = s3Of(request.source);
    const destination = s3Of(request.destination);
    const { options, signal, log } = request;
    const src = clientFor(source, request.sourceCredentials as S3Credentials | undefined);
    const dst = clientFor(destination, request.destinationCredentials as S3Credentials | undefined);
    try {
      const head = await headS3(src, source, source.versionId, signal, "source");
      if (!head) throw new CopyError("SourceNotFound", `${s3Uri(source, source.versionId)} does not exist (no such bucket, key or version); check source.s3`);
      const sourceEtag = normalizeEtag(head.ETag ?? "");
      if (options.sourceEtag !== undefined && normalizeEtag(options.sourceEtag) !== sourceEtag) {
        throw new CopyError("SourceChanged", `${s3Uri(source)} has ETag ${sourceEtag}, not the sourceEtag ${normalizeEtag(options.sourceEtag)} this copy is pinned to; update sourceEtag or remove it`);
      }
      const size = head.ContentLength ?? 0;
      const plan = planS3Copy({ sizeBytes: size, compatibleServer: isCompatibleServer(destination), strategy: options.strategy, partSizeBytes: options.partSizeBytes, concurrency: options.concurrency });
      // Uploads a killed run left on this key. A single copy starts none, so it need not wait for the sweep.
      const sweep = abortLeftoverUploads(dst, destination, signal, log);
      if (plan.strategy === "multipart") await sweep;
      const job: Job = { src, dst, source, destination, head, options, signal, log };
      request.onStarted();
      log.info(`copying ${s3Uri(source, source.versionId)} to ${s3Uri(destination)}: ${formatBytes(size)}, ${plan.strategy === "copy" ? "one CopyObject" : `${plan.partCount} parts of ${formatBytes(plan.partSizeBytes)}, ${plan.concurrency} at a time`}`);
      const written = plan.strategy === "copy" ? (await Promise.all([copyObject(job), sweep]))[0] : await multipartCopy(job, plan.partSizeBytes, plan.concurrency);
      if (written.tags) await ensureTags(job, written.tags, written.versionId);
      const after = await headS3(dst, destination, written.versionId, signal, "destination");
      if (!after) throw new CopyError("CopyFailed", `${s3Uri(destination)} is missing right after the copy reported success`);
      const state = stateOf(after);
      if (options.verify !== false) verify(head, after, plan.strategy, source, destination);
      return {
        ...state,
        sourceEtag,
        ...(head.VersionId && head.VersionId !== "null" ? { sourceVersionId: head.VersionId } : {}),
        strategy: plan.strategy,
      };
    } catch (e) {
      if (isCopyError(e)) throw e;
      if (signal.aborted) throw abortReason(signal);
      throw s3Error(e, `copying ${s3Uri(source)} to ${s3Uri(destination)}`, "destination");
    }
  };
}

/** A custom endpoint that is not AWS's own (AWS endpoints can be given too: FIPS, dual-stack, VPC). */
export function isCompatibleServer(location: S3Locator): boolean {
  if (!location.endpoint) return false;
  try {
    return !/(^|\.)amazonaws\.com(\.cn)?$/i.test(new URL(location.endpoint).hostname);
  } catch {
    return true;
  }
}

interface Job {
  src: S3Api;
  dst: S3Api;
  source: S3Locator;
  destination: S3Locator;
  head: HeadObjectCommandOutput;
  options: CopyOptions;
  signal: AbortSignal;
  log: Logger;
}

const CONTENT_OPTIONS = ["contentType", "cacheControl", "contentDisposition", "contentEncoding", "contentLanguage"] as const;

/** The destination's headers: the source's, with each given option replacing its own. */
function destinationHeaders(job: Job) {
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

function tagging(tags: Record<string, string>): string {
  return new URLSearchParams(Object.entries(tags)).toString();
}

/** What a copy wrote, and the tags it asked for when the server might not have applied them. */
interface Written {
  versionId?: string;
  tags?: Record<string, string>;
}

async function copyObject(job: Job): Promise<Written> {
  const { options, head } = job;
  const replaceHeaders = options.metadata !== undefined || CONTENT_OPTIONS.some((k) => options[k] !== undefined);
  const headers = destinationHeaders(job);
  const result = await job.dst.send(
    new CopyObjectCommand({
      Bucket: job.destination.bucket,
      Key: job.destination.key,
      CopySource: copySource(job.source, job.source.versionId),
      // Pinned to what was read, so a source replaced since then fails instead of mixing.
      CopySourceIfMatch: head.ETag,
      ...(replaceHeaders ? { ...headers, MetadataDirective: "REPLACE" } : { MetadataDirective: "COPY", StorageClass: headers.StorageClass, ServerSideEncryption: headers.ServerSideEncryption, SSEKMSKeyId: headers.SSEKMSKeyId }),
      ...(options.tags !== undefined ? { TaggingDirective: "REPLACE", Tagging: tagging(options.tags) } : { TaggingDirective: "COPY" }),
    }),
    { abortSignal: job.signal },
  );
  return { ...versionOf(result.VersionId), ...(options.tags !== undefined ? { tags: options.tags } : {}) };
}

function versionOf(versionId: string | undefined): { versionId?: string } {
  return versionId && versionId !== "null" ? { versionId } : {};
}

/**
 * Some S3-compatible servers (Ceph RGW) ignore TaggingDirective: REPLACE and the tags of a
 * multipart upload. Setting them explicitly when they differ keeps the result the same everywhere.
 */
async function ensureTags(job: Job, wanted: Record<string, string>, versionId: string | undefined): Promise<void> {
  const { dst, destination, signal } = job;
  const current = await dst
    .send(new GetObjectTaggingCommand({ Bucket: destination.bucket, Key: destination.key, VersionId: versionId }), { abortSignal: signal })
    .catch((e: unknown) => {
      if (statusOf(e) !== 403 || signal.aborted) throw e;
      job.log.warn(`could not read back the tags of ${s3Uri(destination)} (no s3:GetObjectTagging) to check that the server applied them`);
      return undefined;
    });
  if (!current) return;
  const have = Object.fromEntries((current.TagSet ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
  if (sameTags(have, wanted)) return;
  await dst.send(
    new PutObjectTaggingCommand({ Bucket: destination.bucket, Key: destination.key, VersionId: versionId, Tagging: { TagSet: Object.entries(wanted).map(([Key, Value]) => ({ Key, Value })) } }),
    { abortSignal: signal },
  );
  job.log.warn(`the server did not apply the requested tags to ${s3Uri(destination)}; they were set with PutObjectTagging`);
}

function sameTags(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** A multipart upload starts untagged. Without s3:GetObjectTagging the copy goes ahead untagged, and says so. */
async function sourceTags(job: Job): Promise<Record<string, string> | undefined> {
  try {
    const result = await job.src.send(new GetObjectTaggingCommand({ Bucket: job.source.bucket, Key: job.source.key, VersionId: job.source.versionId }), { abortSignal: job.signal });
    return Object.fromEntries((result.TagSet ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
  } catch (e) {
    if (statusOf(e) === 403 && !job.signal.aborted) {
      job.log.warn(`the source's tags could not be read (no s3:GetObjectTagging), so the multipart copy gets none; give tags explicitly to choose them`);
      return undefined;
    }
    throw s3Failure(e, job.signal, `GetObjectTagging on the source ${s3Uri(job.source)}`, "source");
  }
}

async function multipartCopy(job: Job, partSizeBytes: number, concurrency: number): Promise<Written> {
  const { dst, destination, signal, log } = job;
  const size = job.head.ContentLength ?? 0;
  // Multipart uploads start blank: metadata, tags and headers are carried explicitly, so
  // the result matches what a single CopyObject would have produced.
  const tags = job.options.tags ?? (await sourceTags(job));
  const created = await dst.send(
    new CreateMultipartUploadCommand({
      Bucket: destination.bucket,
      Key: destination.key,
      ...destinationHeaders(job),
      ...(tags && Object.keys(tags).length ? { Tagging: tagging(tags) } : {}),
    }),
    { abortSignal: signal },
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new CopyError("CopyFailed", `CreateMultipartUpload on ${s3Uri(destination)} returned no UploadId`);
  try {
    const parts = await copyParts(job, uploadId, size, partSizeBytes, concurrency);
    await ensureSourceUnchanged(job);
    const done = await dst.send(
      new CompleteMultipartUploadCommand({ Bucket: destination.bucket, Key: destination.key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      { abortSignal: signal },
    );
    return { ...versionOf(done.VersionId), tags };
  } catch (e) {
    await abortUpload(dst, destination, uploadId, log);
    throw e;
  }
}

/** A few workers pull part ranges from one iterator; the first failure stops the rest. */
async function copyParts(job: Job, uploadId: string, size: number, partSizeBytes: number, concurrency: number): Promise<CompletedPart[]> {
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
async function ensureSourceUnchanged(job: Job): Promise<void> {
  if (job.source.versionId) return;
  const now = await headS3(job.src, job.source, undefined, job.signal, "source");
  const was = normalizeEtag(job.head.ETag ?? "");
  const is = now ? normalizeEtag(now.ETag ?? "") : undefined;
  if (is === was) return;
  throw new CopyError("SourceChanged", `${s3Uri(job.source)} changed while its parts were being copied (ETag ${was}, now ${is ?? "deleted"}); the multipart upload was aborted and nothing was written; run up again to copy the new content`);
}

/** A timeout or abort that says how far the copy had got. */
function progressed(reason: CopyError, parts: number, total: number, bytes: number, size: number): CopyError {
  return new CopyError(reason.code, `${reason.detail}; ${parts} of ${total} parts (${formatBytes(bytes)} of ${formatBytes(size)}) had been copied, and the multipart upload was aborted`, { cause: reason });
}

/** Runs even after the operation's signal fired, within the shutdown cleanup budget. */
async function abortUpload(client: S3Api, location: S3Locator, uploadId: string, log: Logger): Promise<void> {
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: location.bucket, Key: location.key, UploadId: uploadId }), {
      abortSignal: AbortSignal.timeout(CLEANUP_BUDGET_MS - 500),
    });
    log.info(`aborted the multipart upload on ${s3Uri(location)}; nothing was written`);
  } catch (e) {
    log.warn(`could not abort the multipart upload ${uploadId} on ${s3Uri(location)} (${(e as Error).message}); the next create or delete of this resource aborts it`);
  }
}

function verify(source: HeadObjectCommandOutput, destination: HeadObjectCommandOutput, strategy: string, from: S3Locator, to: S3Locator): void {
  if ((destination.ContentLength ?? 0) !== (source.ContentLength ?? 0)) {
    throw new CopyError("CopyFailed", `verify: ${s3Uri(to)} is ${destination.ContentLength} bytes but ${s3Uri(from)} is ${source.ContentLength}`);
  }
  // A plain-MD5 ETag survives a single unencrypted CopyObject; multipart and KMS ETags are not MD5s.
  const md5 = /^[0-9a-f]{32}$/;
  const a = normalizeEtag(source.ETag ?? "");
  const b = normalizeEtag(destination.ETag ?? "");
  const kms = [source.ServerSideEncryption, destination.ServerSideEncryption].some((s) => String(s ?? "").startsWith("aws:kms"));
  if (strategy === "copy" && !kms && md5.test(a) && md5.test(b) && a !== b) {
    throw new CopyError("CopyFailed", `verify: ${s3Uri(to)} has ETag ${b} but ${s3Uri(from)} has ${a}`);
  }
}
