import http from "node:http";
import https from "node:https";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { GetObjectCommand, GetObjectTaggingCommand, type StorageClass, type ServerSideEncryption } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { CopyError, isCopyError } from "../errors";
import type { S3Credentials } from "../locators";
import { abortReason } from "../operation";
import { S3_LIMITS } from "../plan";
import { formatBytes, MiB, normalizeEtag } from "../values";
import { abortLeftoverUploads, headS3, newS3Client, s3Error, s3Failure, s3Of, s3Uri, stateOf, statusOf, type S3ClientFactory } from "./s3";
import type { CopyDriver, DriverFactory, OpenedSource, SourceOpener } from "./types";
import { fullUrl, redactedUrl, resolveRedirects, sizeOf } from "./url";

/**
 * Part size: 8 MiB, grown so 10,000 parts cover a stream of known size. Memory is parts × concurrency.
 * A stream of unknown size (a URL that does not say it) keeps 8 MiB: up to 78 GiB, or partSizeBytes × 10,000.
 */
export function streamPartSize(sizeBytes: number, requested?: number): number {
  const covering = Number.isFinite(sizeBytes) ? Math.ceil(sizeBytes / S3_LIMITS.maxParts / MiB) * MiB : 0;
  return Math.max(requested ?? 8 * MiB, covering, S3_LIMITS.minPartBytes);
}

/** Counts what passes, so that a stream of unknown size can still be verified. */
class Counted extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

interface StreamPlan {
  strategy: "stream";
  partSize: number;
  queueSize: number;
}

/**
 * strategy "stream": the bytes pass through the provider into an S3 multipart upload, with at
 * most `concurrency` parts in memory, no temporary files, and the upload aborted on failure or signal.
 */
export function streamToS3(open: SourceOpener, clientFor: S3ClientFactory = newS3Client): DriverFactory {
  return (request) => {
    const destination = s3Of(request.destination);
    const { options, signal, log } = request;
    const client = clientFor(destination, request.destinationCredentials as S3Credentials | undefined);
    let opened: OpenedSource | undefined;
    const counted = new Counted();
    let upload: Upload | undefined;
    const onAbort = () => void upload?.abort();
    const driver: CopyDriver<OpenedSource, StreamPlan> = {
      async readSource() {
        opened = await open(request.source, request.sourceCredentials, signal);
        return opened;
      },
      plan: (source) => ({
        strategy: "stream",
        partSize: streamPartSize(source.contentLength, options.partSizeBytes),
        queueSize: options.concurrency ?? 4,
      }),
      async prepare() {
        await abortLeftoverUploads(client, destination, signal, log);
      },
      async start(source, plan) {
        const tags = options.tags ?? source.tags;
        upload = new Upload({
          client: client as never,
          queueSize: plan.queueSize,
          partSize: plan.partSize,
          leavePartsOnError: false,
          params: {
            Bucket: destination.bucket,
            Key: destination.key,
            Body: source.body.pipe(counted),
            ContentType: options.contentType ?? source.contentType,
            CacheControl: options.cacheControl ?? source.cacheControl,
            ContentDisposition: options.contentDisposition ?? source.contentDisposition,
            ContentEncoding: options.contentEncoding ?? source.contentEncoding,
            ContentLanguage: options.contentLanguage ?? source.contentLanguage,
            Metadata: options.metadata ?? source.metadata,
            ...(tags && Object.keys(tags).length ? { Tagging: new URLSearchParams(Object.entries(tags)).toString() } : {}),
            StorageClass: options.storageClass as StorageClass | undefined,
            ServerSideEncryption: options.serverSideEncryption as ServerSideEncryption | undefined,
            SSEKMSKeyId: options.kmsKeyId,
          },
        });
        signal.addEventListener("abort", onAbort, { once: true });
        upload.on("httpUploadProgress", (p) =>
          log.progress(`streamed ${formatBytes(p.loaded ?? 0)} of ${sizeLabel(source.contentLength)}`),
        );
        log.info(
          `streaming ${source.label} to ${s3Uri(destination)} through this process: ${sizeLabel(source.contentLength)}, ` +
            `${formatBytes(plan.partSize)} parts, ${plan.queueSize} at a time (at most ${formatBytes(plan.partSize * plan.queueSize)} in ` +
            `memory)`,
        );
        try {
          const done = await upload.done();
          // An unversioned bucket reports version "null", which HeadObject would reject.
          const versionId = done.VersionId && done.VersionId !== "null" ? done.VersionId : undefined;
          return {
            status: "success",
            written: { ...(versionId ? { versionId } : {}), ...(done.ETag ? { etag: normalizeEtag(done.ETag) } : {}) },
          };
        } finally {
          signal.removeEventListener("abort", onAbort);
        }
      },
      async wait() {
        throw new CopyError("CopyFailed", "a streamed copy has nothing to wait for");
      },
      async finish() {},
      async describe(written) {
        const head = await headS3(client, destination, written.versionId, signal, "destination");
        return head && stateOf(head);
      },
      verify(source, _plan, after) {
        // What passed through is counted, so that a source that did not say its size is checked too.
        if (Number.isFinite(source.contentLength) && counted.bytes !== source.contentLength) {
          throw new CopyError(
            "CopyFailed",
            `verify: ${counted.bytes} bytes were read from ${source.label}, which said ${source.contentLength}`,
          );
        }
        if (after.contentLength !== counted.bytes) {
          throw new CopyError(
            "CopyFailed",
            `verify: ${s3Uri(destination)} is ${after.contentLength} bytes, but ${counted.bytes} were read from ${source.label}`,
          );
        }
      },
      async explain(e) {
        if (signal.aborted) return abortReason(signal);
        if (isCopyError(e)) return e;
        return s3Error(e, `streaming ${opened?.label ?? "the source"} to ${s3Uri(destination)}`, "destination");
      },
      async cleanUp() {
        opened?.body.destroy();
        return {};
      },
    };
    return driver as unknown as CopyDriver;
  };
}

/**
 * Any http(s) URL, read as stored. Node's fetch decodes a Content-Encoding (gzip, br) as the Fetch standard
 * says, which would store decompressed bytes under `Content-Encoding: gzip`: the body is read with node:http.
 */
export function openUrl(fetchImpl: typeof fetch = fetch): SourceOpener {
  return async (location, credentials, signal) => {
    const { url, response: head } = await resolveRedirects(fullUrl(location, credentials), fetchImpl, signal);
    const body = await getRaw(url, signal);
    return {
      label: redactedUrl(url),
      etag: normalizeEtag(head.headers.get("etag") ?? ""),
      contentLength: sizeOf(head),
      ...headersOf((name) => head.headers.get(name) ?? undefined),
      body,
    };
  };
}

function getRaw(url: string, signal: AbortSignal): Promise<Readable> {
  return new Promise((resolve, reject) => {
    const request = (url.startsWith("https:") ? https : http).get(url, { signal }, (response) => {
      if (response.statusCode === 200) return resolve(response);
      response.resume();
      reject(new CopyError("CopyFailed", `${redactedUrl(url)} answered ${response.statusCode} to GET`));
    });
    request.on("error", (e) =>
      reject(signal.aborted ? abortReason(signal) : new CopyError("SourceNotFound", `${redactedUrl(url)} could not be read: ${e.message}`)),
    );
  });
}

/** An object on another S3 service (or read with other credentials), downloaded pinned to the ETag and version first read. */
export function openS3(clientFor: S3ClientFactory = newS3Client): SourceOpener {
  return async (location, credentials, signal) => {
    const s3 = s3Of(location);
    const client = clientFor(s3, credentials as S3Credentials | undefined);
    const head = await headS3(client, s3, s3.versionId, signal, "source");
    if (!head)
      throw new CopyError("SourceNotFound", `${s3Uri(s3, s3.versionId)} does not exist (no such bucket, key or version); check source.s3`);
    const versionId = head.VersionId && head.VersionId !== "null" ? head.VersionId : undefined;
    const tags = await client
      .send(new GetObjectTaggingCommand({ Bucket: s3.bucket, Key: s3.key, VersionId: versionId }), { abortSignal: signal })
      .then(
        (t) => Object.fromEntries((t.TagSet ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""])),
        (e: unknown) => {
          if (statusOf(e) !== 403 || signal.aborted) throw s3Failure(e, signal, `GetObjectTagging on the source ${s3Uri(s3)}`, "source");
          return undefined;
        },
      );
    const got = await client
      .send(new GetObjectCommand({ Bucket: s3.bucket, Key: s3.key, VersionId: versionId, IfMatch: head.ETag }), { abortSignal: signal })
      .catch((e: unknown) => {
        throw s3Failure(e, signal, `GetObject on the source ${s3Uri(s3, versionId)}`, "source");
      });
    return {
      label: s3Uri(s3, versionId),
      etag: normalizeEtag(head.ETag ?? ""),
      ...(versionId ? { versionId } : {}),
      contentLength: head.ContentLength ?? 0,
      contentType: head.ContentType,
      cacheControl: head.CacheControl,
      contentDisposition: head.ContentDisposition,
      contentEncoding: head.ContentEncoding,
      contentLanguage: head.ContentLanguage,
      metadata: head.Metadata,
      tags,
      body: got.Body as Readable,
    };
  };
}

/** The content headers a source answered with. */
export function headersOf(
  get: (name: string) => string | undefined,
): Pick<OpenedSource, "contentType" | "cacheControl" | "contentDisposition" | "contentEncoding" | "contentLanguage"> {
  return {
    contentType: get("content-type"),
    cacheControl: get("cache-control"),
    contentDisposition: get("content-disposition"),
    contentEncoding: get("content-encoding"),
    contentLanguage: get("content-language"),
  };
}

function sizeLabel(bytes: number): string {
  return Number.isFinite(bytes) ? formatBytes(bytes) : "size unknown (the source did not say it)";
}
