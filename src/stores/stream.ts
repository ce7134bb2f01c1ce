import { Readable } from "node:stream";
import { HeadObjectCommand, type StorageClass, type ServerSideEncryption } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { AzureCredentials, Locator, S3Credentials } from "../args";
import { MiB } from "../args";
import { normalizeEtag } from "../diff";
import { CopyError, isCopyError } from "../errors";
import { abortReason } from "../operation";
import { formatBytes, S3_LIMITS } from "../plan";
import { blobError, blobHandle, blobOf, blobUri, statusOf } from "./azureBlob";
import { fullUrl, redactedUrl, resolveRedirects, sizeOf } from "./copySources";
import { newS3Client, s3Error, s3Of, s3Uri, stateOf, type S3ClientFactory } from "./s3";
import type { CopyOutcome, CopyRequest } from "./types";

/** A source opened for reading through this process (only where no server-side path exists). */
export interface OpenedSource {
  label: string;
  etag: string;
  contentLength: number;
  contentType?: string;
  metadata?: Record<string, string>;
  tags?: Record<string, string>;
  body: Readable;
}

export type SourceOpener = (location: Locator, credentials: unknown, signal: AbortSignal) => Promise<OpenedSource>;

/** Part size for a stream of known size: 8 MiB, grown so 10,000 parts cover it. Memory is parts × concurrency. */
export function streamPartSize(sizeBytes: number, requested?: number): number {
  return Math.max(requested ?? 8 * MiB, Math.ceil(sizeBytes / S3_LIMITS.maxParts / MiB) * MiB, S3_LIMITS.minPartBytes);
}

/**
 * strategy "stream": the bytes pass through the provider into an S3 multipart upload, with at
 * most `concurrency` parts in memory, no temporary files, and the upload aborted on failure or signal.
 */
export function streamToS3(open: SourceOpener, clientFor: S3ClientFactory = newS3Client) {
  return async (request: CopyRequest): Promise<CopyOutcome> => {
    const destination = s3Of(request.destination);
    const { options, signal, log } = request;
    const client = clientFor(destination, request.destinationCredentials as S3Credentials | undefined);
    const source = await open(request.source, request.sourceCredentials, signal);
    if (options.sourceEtag !== undefined && normalizeEtag(options.sourceEtag) !== source.etag) {
      source.body.destroy();
      throw new CopyError("SourceChanged", `${source.label} has ETag ${source.etag}, not the sourceEtag ${normalizeEtag(options.sourceEtag)} this copy is pinned to`);
    }
    const partSize = streamPartSize(source.contentLength, options.partSizeBytes);
    const queueSize = options.concurrency ?? 4;
    const tags = options.tags ?? source.tags;
    const upload = new Upload({
      client: client as never,
      queueSize,
      partSize,
      leavePartsOnError: false,
      params: {
        Bucket: destination.bucket,
        Key: destination.key,
        Body: source.body,
        ContentType: options.contentType ?? source.contentType,
        CacheControl: options.cacheControl,
        ContentDisposition: options.contentDisposition,
        ContentEncoding: options.contentEncoding,
        ContentLanguage: options.contentLanguage,
        Metadata: options.metadata ?? source.metadata,
        ...(tags && Object.keys(tags).length ? { Tagging: new URLSearchParams(Object.entries(tags)).toString() } : {}),
        StorageClass: options.storageClass as StorageClass | undefined,
        ServerSideEncryption: options.serverSideEncryption as ServerSideEncryption | undefined,
        SSEKMSKeyId: options.kmsKeyId,
      },
    });
    const onAbort = () => void upload.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    upload.on("httpUploadProgress", (p) => log.progress(`streamed ${formatBytes(p.loaded ?? 0)} of ${formatBytes(source.contentLength)}`));
    request.onStarted();
    log.info(`streaming ${source.label} to ${s3Uri(destination)} through this process: ${formatBytes(source.contentLength)}, ${formatBytes(partSize)} parts, ${queueSize} at a time (at most ${formatBytes(partSize * queueSize)} in memory)`);
    try {
      const done = await upload.done();
      // An unversioned bucket reports version "null", which HeadObject would reject.
      const versionId = done.VersionId && done.VersionId !== "null" ? done.VersionId : undefined;
      const head = await client.send(new HeadObjectCommand({ Bucket: destination.bucket, Key: destination.key, VersionId: versionId }), { abortSignal: signal });
      if (options.verify !== false && (head.ContentLength ?? 0) !== source.contentLength) {
        throw new CopyError("CopyFailed", `verify: ${s3Uri(destination)} is ${head.ContentLength} bytes but ${source.label} is ${source.contentLength}`);
      }
      return { ...stateOf(head), sourceEtag: source.etag, strategy: "stream" };
    } catch (e) {
      source.body.destroy();
      if (signal.aborted) throw abortReason(signal);
      if (isCopyError(e)) throw e;
      throw s3Error(e, `streaming ${source.label} to ${s3Uri(destination)}`, "destination");
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  };
}

/** An Azure blob, downloaded pinned to the ETag read first. */
export function openBlob(handleFor = blobHandle): SourceOpener {
  return async (location, credentials, signal) => {
    const blob = blobOf(location);
    const { client } = handleFor(blob, credentials as AzureCredentials | undefined);
    try {
      const props = await client.getProperties({ abortSignal: signal });
      const tags = await client.getTags({ abortSignal: signal }).then((t) => t.tags, () => undefined);
      const download = await client.download(0, undefined, { abortSignal: signal, conditions: { ifMatch: props.etag } });
      return {
        label: blobUri(blob),
        etag: normalizeEtag(props.etag ?? ""),
        contentLength: props.contentLength ?? 0,
        contentType: props.contentType,
        metadata: props.metadata,
        tags,
        body: download.readableStreamBody as Readable,
      };
    } catch (e) {
      if (statusOf(e) === 404) throw new CopyError("SourceNotFound", `${blobUri(blob)} does not exist; check source.azureBlob`, { cause: e });
      throw signal.aborted ? abortReason(signal) : blobError(e, `reading the source ${blobUri(blob)}`, "source");
    }
  };
}

export function openUrl(fetchImpl: typeof fetch = fetch): SourceOpener {
  return async (location, credentials, signal) => {
    const { url, response: head } = await resolveRedirects(fullUrl(location, credentials), fetchImpl, signal);
    const response = await fetchImpl(url, { signal, redirect: "manual" });
    if (!response.ok || !response.body) throw new CopyError("CopyFailed", `${redactedUrl(url)} answered ${response.status} to GET`);
    return {
      label: redactedUrl(url),
      etag: normalizeEtag(head.headers.get("etag") ?? ""),
      contentLength: sizeOf(head),
      contentType: response.headers.get("content-type") ?? undefined,
      body: Readable.fromWeb(response.body as never),
    };
  };
}
