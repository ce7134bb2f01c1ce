import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  GetObjectTaggingCommand,
  PutObjectTaggingCommand,
  type HeadObjectCommandOutput,
} from "@aws-sdk/client-s3";
import { CopyError, isCopyError } from "../errors";
import type { S3Credentials, S3Locator } from "../locators";
import { abortReason } from "../operation";
import { planS3Copy } from "../plan";
import { CLEANUP_BUDGET_MS } from "../shutdown";
import { formatBytes, normalizeEtag } from "../values";
import { abortLeftoverUploads, copySource, headS3, newS3Client, s3Error, s3Of, statusOf, s3Uri, stateOf, type S3ClientFactory } from "./s3";
import {
  abortUpload,
  copyParts,
  createUpload,
  destinationHeaders,
  ensureSourceUnchanged,
  sourceTags,
  tagging,
  CONTENT_OPTIONS,
  type Job,
} from "./s3Multipart";
import { fromListing, isCompatibleServer, mayHoldVersions } from "./s3Listed";
import type { CopyDriver, DriverFactory, SourceRead, Written } from "./types";

type S3PlanChoice = ReturnType<typeof planS3Copy>;

/** S3 to S3 on one service, server-side: one CopyObject, or UploadPartCopy parts in parallel. */
export function s3ToS3(clientFor: S3ClientFactory = newS3Client): DriverFactory {
  return (request) => {
    const source = s3Of(request.source);
    const destination = s3Of(request.destination);
    const { options, signal, log } = request;
    const src = clientFor(source, request.sourceCredentials as S3Credentials | undefined);
    const dst = clientFor(destination, request.destinationCredentials as S3Credentials | undefined);
    let job: Job;
    let creating = false;
    let sweep: Promise<number> = Promise.resolve(0);
    let tags: Record<string, string> | undefined;
    let after: HeadObjectCommandOutput | undefined;
    const driver: CopyDriver<SourceRead, S3PlanChoice> = {
      async readSource() {
        const listed = fromListing(request, destination, options);
        if (listed) {
          // A prefix's listing already gave the ETag and size: one CopyObject pinned to that ETag, no HEAD first.
          job = { src, dst, source, destination, head: listed, options, signal, log };
          return { label: s3Uri(source), etag: normalizeEtag(listed.ETag ?? ""), contentLength: listed.ContentLength ?? 0 };
        }
        const head = await headS3(src, source, source.versionId, signal, "source");
        if (!head)
          throw new CopyError(
            "SourceNotFound",
            `${s3Uri(source, source.versionId)} does not exist (no such bucket, key or version); check source.s3`,
          );
        job = { src, dst, source, destination, head, options, signal, log };
        const versionId = head.VersionId && head.VersionId !== "null" ? head.VersionId : undefined;
        return {
          label: s3Uri(source, source.versionId),
          etag: normalizeEtag(head.ETag ?? ""),
          contentLength: head.ContentLength ?? 0,
          ...(versionId ? { versionId } : {}),
        };
      },
      plan: (read) =>
        planS3Copy({
          sizeBytes: read.contentLength,
          compatibleServer: isCompatibleServer(destination, request.destinationCredentials as S3Credentials | undefined),
          strategy: options.strategy,
          partSizeBytes: options.partSizeBytes,
          concurrency: options.concurrency,
        }),
      async prepare(_read, plan) {
        // A prefix's run swept the whole prefix once, before its first copy.
        if (request.listed) return;
        // Uploads a killed run left on this key. A single copy starts none, so it need not wait for the sweep.
        sweep = abortLeftoverUploads(dst, destination, signal, log);
        if (plan.strategy === "multipart") await sweep;
      },
      async start(read, plan) {
        const layout =
          plan.strategy === "copy"
            ? "one CopyObject"
            : `${plan.partCount} parts of ${formatBytes(plan.partSizeBytes)}, ${plan.concurrency} at a time`;
        log.info(`copying ${read.label} to ${s3Uri(destination)}: ${formatBytes(read.contentLength)}, ${layout}`);
        if (plan.strategy === "copy") {
          const [written] = await Promise.all([copyObject(job), sweep]);
          tags = written.tags;
          return { status: "success", written: written.result };
        }
        // A multipart upload starts untagged: the tags are carried explicitly.
        tags = options.tags ?? (await sourceTags(job));
        creating = true;
        return { status: "pending", uploadId: await createUpload(job, tags) };
      },
      async wait(operation, read, plan) {
        if (plan.strategy !== "multipart" || !operation.uploadId)
          throw new CopyError("CopyFailed", "nothing to wait for on a single CopyObject");
        const parts = await copyParts(job, operation.uploadId, read.contentLength, plan.partSizeBytes, plan.concurrency);
        await ensureSourceUnchanged(job);
        const done = await dst.send(
          new CompleteMultipartUploadCommand({
            Bucket: destination.bucket,
            Key: destination.key,
            UploadId: operation.uploadId,
            MultipartUpload: { Parts: parts },
          }),
          { abortSignal: signal },
        );
        return { status: "success", written: { ...versionOf(done.VersionId), ...(done.ETag ? { etag: normalizeEtag(done.ETag) } : {}) } };
      },
      async finish(_read, _plan, written) {
        if (tags) await ensureTags(job, tags, written.versionId);
      },
      async describe(written) {
        // From a listing, the copy's answer is the description when it names the ETag; a HEAD only otherwise.
        if (request.listed && written.etag && job.head.ETag && normalizeEtag(job.head.ETag) === written.etag) {
          // AWS names the version it wrote; other servers may not (Ceph RGW does not): read it where there may be one.
          const compatible = isCompatibleServer(destination, request.destinationCredentials as S3Credentials | undefined);
          if (!written.versionId && compatible && (await mayHoldVersions(dst, destination, signal))) {
            after = await headS3(dst, destination, undefined, signal, "destination");
            return after && stateOf(after);
          }
          after = { ETag: written.etag, VersionId: written.versionId, ContentLength: job.head.ContentLength, $metadata: {} };
          return { ...stateOf(after), ...(written.lastModified ? { lastModified: written.lastModified } : {}) };
        }
        after = await headS3(dst, destination, written.versionId, signal, "destination");
        if (request.listed && after) job.head = (await headS3(src, source, source.versionId, signal, "source")) ?? job.head;
        return after && stateOf(after);
      },
      verify: (_read, plan) => verify(job.head, after!, plan.strategy, source, destination),
      async explain(e) {
        if (isCopyError(e)) return e;
        if (signal.aborted) return abortReason(signal);
        return copyError(e, source, destination);
      },
      async cleanUp(operation) {
        if (operation?.status === "pending" && operation.uploadId) await abortUpload(dst, destination, operation.uploadId, log);
        // Interrupted while CreateMultipartUpload was answered: the upload exists, its id never arrived. The key is ours.
        else if (creating) await abortLeftoverUploads(dst, destination, AbortSignal.timeout(CLEANUP_BUDGET_MS - 500), log).catch(() => 0);
        return {};
      },
    };
    return driver as unknown as CopyDriver;
  };
}

/** What a single copy wrote, and the tags it asked for when the server might not have applied them. */
interface CopyResult {
  result: Written;
  tags?: Record<string, string>;
}

async function copyObject(job: Job): Promise<CopyResult> {
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
      ...(replaceHeaders
        ? { ...headers, MetadataDirective: "REPLACE" }
        : {
            MetadataDirective: "COPY",
            StorageClass: headers.StorageClass,
            ServerSideEncryption: headers.ServerSideEncryption,
            SSEKMSKeyId: headers.SSEKMSKeyId,
          }),
      ...(options.tags !== undefined ? { TaggingDirective: "REPLACE", Tagging: tagging(options.tags) } : { TaggingDirective: "COPY" }),
    }),
    { abortSignal: job.signal },
  );
  const etag = result.CopyObjectResult?.ETag;
  // To the second, as a HEAD's Last-Modified says it (Ceph RGW answers a copy in milliseconds).
  const lastModified = result.CopyObjectResult?.LastModified?.toISOString().replace(/\.\d+Z$/, ".000Z");
  return {
    result: { ...versionOf(result.VersionId), ...(etag ? { etag: normalizeEtag(etag) } : {}), ...(lastModified ? { lastModified } : {}) },
    ...(options.tags !== undefined ? { tags: options.tags } : {}),
  };
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
      return undefined;
    });
  const have = current && Object.fromEntries((current.TagSet ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
  if (have && sameTags(have, wanted)) return;
  // Unread (no s3:GetObjectTagging) or dropped: set them, so that they hold on every server.
  await dst.send(
    new PutObjectTaggingCommand({
      Bucket: destination.bucket,
      Key: destination.key,
      VersionId: versionId,
      Tagging: { TagSet: Object.entries(wanted).map(([Key, Value]) => ({ Key, Value })) },
    }),
    { abortSignal: signal },
  );
  job.log.warn(
    have
      ? `the server did not apply the requested tags to ${s3Uri(destination)}; they were set with PutObjectTagging`
      : `could not read back the tags of ${s3Uri(destination)} (no s3:GetObjectTagging) to check that the server applied them; ` +
          "they were set again with PutObjectTagging",
  );
}

function sameTags(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function verify(
  source: HeadObjectCommandOutput,
  destination: HeadObjectCommandOutput,
  strategy: string,
  from: S3Locator,
  to: S3Locator,
): void {
  if ((destination.ContentLength ?? 0) !== (source.ContentLength ?? 0)) {
    throw new CopyError(
      "CopyFailed",
      `verify: ${s3Uri(to)} is ${destination.ContentLength} bytes but ${s3Uri(from)} is ${source.ContentLength}`,
    );
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

/**
 * A raw failure of a copy request (CopyObject, UploadPartCopy, Complete), which the destination's server
 * answers about both objects: the side at fault is named from what the error means, not from who answered.
 */
export function copyError(e: unknown, source: S3Locator, destination: S3Locator): CopyError {
  const name = (e as { name?: string })?.name;
  const status = statusOf(e);
  const doing = `copying ${s3Uri(source, source.versionId)} to ${s3Uri(destination)}`;
  const base = s3Error(e, doing, "destination");
  // Its HEAD found the source, and a write needs no destination key: any other 404 (NoSuchKey on AWS; moto
  // answers a bare 404) means the source went while being copied. A missing bucket or upload says so itself.
  if (name === "NoSuchKey" || name === "NoSuchVersion" || (status === 404 && name !== "NoSuchBucket" && name !== "NoSuchUpload")) {
    return new CopyError("SourceChanged", `${base.detail}. The source was deleted while it was being copied; nothing was kept`, {
      cause: e,
    });
  }
  if (base.code === "AccessDenied") {
    const read = source.versionId ? "s3:GetObject and s3:GetObjectVersion" : "s3:GetObject";
    return new CopyError(
      "AccessDenied",
      `${base.detail}. The destination's credentials need ${read} on the source (${s3Uri(source)}, source.s3) and s3:PutObject ` +
        `on the destination (${s3Uri(destination)}, destination.s3): the copy runs with the destination's credentials`,
      { cause: e },
    );
  }
  return base;
}
