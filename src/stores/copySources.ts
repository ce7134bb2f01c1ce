import { GetObjectCommand, GetObjectTaggingCommand, HeadBucketCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { DEFAULT_TIMEOUT_SECONDS, type CopyOptions } from "../args";
import { CopyError } from "../errors";
import type { AzureBlobLocator, AzureCredentials, S3Credentials } from "../locators";
import { abortReason, type Logger } from "../operation";
import { normalizeEtag } from "../values";
import { codeOf, statusOf } from "./azure";
import { blobFailure, blobHandle, blobOf, blobUri, type BlobHandle } from "./azureBlob";
import { readableUrl } from "./azureSas";
import { headS3, newS3Client, s3Failure, s3Uri, statusOf as s3StatusOf, type S3Api, type S3ClientFactory } from "./s3";
import type { CopySource, SourceReader } from "./types";
import { fullUrl, redactedUrl, resolveRedirects, sizeOf } from "./url";

export function azureBlobSource(handleFor = blobHandle): SourceReader {
  return async (location, { sourceCredentials, timeoutSeconds, signal, log }) => {
    const source = blobOf(location);
    const src: BlobHandle = handleFor(source, sourceCredentials as AzureCredentials | undefined);
    const head = await src.client.getProperties({ abortSignal: signal }).catch((e: unknown) => {
      throw statusOf(e) === 404
        ? new CopyError(
            "SourceNotFound",
            `${blobUri(source)} does not exist (no such container, blob, snapshot or version); check source.azureBlob`,
          )
        : blobFailure(e, signal, `Get Blob Properties on the source ${blobUri(source)}`, "source");
    });
    return {
      label: blobUri(source),
      etag: normalizeEtag(head.etag ?? ""),
      ...(head.versionId ? { versionId: head.versionId } : {}),
      contentLength: head.contentLength ?? 0,
      contentMD5: head.contentMD5,
      blockBlob: (head.blobType ?? "BlockBlob") === "BlockBlob",
      accountName: src.accountName,
      headers: {
        contentType: head.contentType,
        cacheControl: head.cacheControl,
        contentDisposition: head.contentDisposition,
        contentEncoding: head.contentEncoding,
        contentLanguage: head.contentLanguage,
      },
      metadata: head.metadata,
      serviceCopiesMetadata: true,
      url: await readableUrl(src, source, timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS, signal, log),
      ifMatch: head.etag,
      tags: () => blobTags(src, source, signal, log),
      etagNow: async () => normalizeEtag((await src.client.getProperties({ abortSignal: signal })).etag ?? ""),
    };
  };
}

/**
 * Copy Blob does not carry tags, so they are read and set. A credential that may read the blob
 * but not its tags (a SAS without `t`) is common: the copy then goes ahead untagged, and says so.
 */
async function blobTags(
  src: BlobHandle,
  location: AzureBlobLocator,
  signal: AbortSignal,
  log: Logger,
): Promise<Record<string, string> | undefined> {
  try {
    return (await src.client.getTags({ abortSignal: signal })).tags;
  } catch (e) {
    if (statusOf(e) === 403 && !signal.aborted) {
      log.warn(
        `the source's tags could not be read (${codeOf(e) ?? "403"}; a SAS needs the t permission), so the copy gets none; give tags ` +
          `explicitly to choose them`,
      );
      return undefined;
    }
    throw blobFailure(e, signal, `Get Blob Tags on the source ${blobUri(location)}`, "source");
  }
}

/**
 * Any http(s) URL. Azure does not follow redirects on a copy source, so they are resolved here
 * first. Nothing pins such a source: its ETag (when it has one) is compared again after the copy.
 */
export function urlSource(fetchImpl: typeof fetch = fetch): SourceReader {
  return async (location, { sourceCredentials, signal }) => {
    const { url, response } = await resolveRedirects(fullUrl(location, sourceCredentials), fetchImpl, signal);
    const label = redactedUrl(url);
    const header = (name: string) => response.headers.get(name) ?? undefined;
    const length = sizeOf(response);
    if (!Number.isFinite(length))
      throw new CopyError("CopyFailed", `${label} did not say its size (no Content-Length on HEAD); Azure needs it to copy`);
    return {
      label,
      etag: normalizeEtag(header("etag") ?? ""),
      contentLength: length,
      blockBlob: true,
      serviceCopiesMetadata: false,
      headers: {
        contentType: header("content-type"),
        cacheControl: header("cache-control"),
        contentDisposition: header("content-disposition"),
        contentEncoding: header("content-encoding"),
        contentLanguage: header("content-language"),
      },
      url,
      tags: async () => undefined,
      etagNow: async () => normalizeEtag((await resolveRedirects(url, fetchImpl, signal)).response.headers.get("etag") ?? ""),
    };
  };
}

/**
 * S3 read by Azure's service through a presigned GET, valid for the copy's timeout plus a
 * margin. A versioned source is presigned at the version read, so the copy is pinned to it.
 */
export function s3Source(clientFor: S3ClientFactory = newS3Client): SourceReader {
  return async (location, { sourceCredentials, timeoutSeconds, signal, log }) => {
    if (!("s3" in location)) throw new CopyError("Unsupported", "expected an s3 location");
    const s3 = location.s3;
    const client = clientFor(s3, sourceCredentials as S3Credentials | undefined);
    const head = await headS3(client, s3, s3.versionId, signal, "source");
    if (!head)
      throw new CopyError("SourceNotFound", `${s3Uri(s3, s3.versionId)} does not exist (no such bucket, key or version); check source.s3`);
    const versionId = s3.versionId ?? (head.VersionId && head.VersionId !== "null" ? head.VersionId : undefined);
    const expiresIn = Math.min(7 * 24 * 3600, (timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) + 15 * 60);
    // Presigned in the bucket's own region: the HEAD followed a redirect, but Azure's read of the URL will not.
    const region = await bucketRegion(client, s3.bucket, signal);
    const signer = region && region !== s3.region ? clientFor({ ...s3, region }, sourceCredentials as S3Credentials | undefined) : client;
    const url = await getSignedUrl(signer as never, new GetObjectCommand({ Bucket: s3.bucket, Key: s3.key, VersionId: versionId }), {
      expiresIn,
    });
    const metadata = Object.fromEntries(Object.entries(head.Metadata ?? {}).filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k)));
    const dropped = Object.keys(head.Metadata ?? {}).filter((k) => !(k in metadata));
    if (dropped.length)
      log.warn(
        `S3 metadata ${dropped.join(", ")} cannot be Azure metadata names (C# identifiers) and is not copied; give metadata explicitly ` +
          `to rename it`,
      );
    return {
      label: s3Uri(s3, versionId),
      etag: normalizeEtag(head.ETag ?? ""),
      ...(versionId ? { versionId } : {}),
      contentLength: head.ContentLength ?? 0,
      blockBlob: true,
      headers: {
        contentType: head.ContentType,
        cacheControl: head.CacheControl,
        contentDisposition: head.ContentDisposition,
        contentEncoding: head.ContentEncoding,
        contentLanguage: head.ContentLanguage,
      },
      metadata,
      serviceCopiesMetadata: false,
      url,
      tags: async () => {
        try {
          const out = await client.send(new GetObjectTaggingCommand({ Bucket: s3.bucket, Key: s3.key, VersionId: versionId }), {
            abortSignal: signal,
          });
          return Object.fromEntries((out.TagSet ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
        } catch (e) {
          if (s3StatusOf(e) === 403 && !signal.aborted)
            return void log.warn("the source's tags could not be read (no s3:GetObjectTagging), so the copy gets none");
          throw s3Failure(e, signal, `GetObjectTagging on the source ${s3Uri(s3)}`, "source");
        }
      },
      // A version never changes; an unversioned object is read again after the copy.
      etagNow: async () =>
        versionId ? normalizeEtag(head.ETag ?? "") : normalizeEtag((await headS3(client, s3, undefined, signal, "source"))?.ETag ?? ""),
    };
  };
}

type ContentHeaders = CopySource["headers"] & { contentMD5?: Uint8Array };

/** The destination's content headers: each one given replaces its own; the rest are kept from `current`. */
export function contentHeaders(options: CopyOptions, current: ContentHeaders): ContentHeaders & { changed: boolean } {
  const given = [options.contentType, options.cacheControl, options.contentDisposition, options.contentEncoding, options.contentLanguage];
  return {
    contentType: options.contentType ?? current.contentType,
    cacheControl: options.cacheControl ?? current.cacheControl,
    contentDisposition: options.contentDisposition ?? current.contentDisposition,
    contentEncoding: options.contentEncoding ?? current.contentEncoding,
    contentLanguage: options.contentLanguage ?? current.contentLanguage,
    contentMD5: current.contentMD5,
    changed: given.some((v) => v !== undefined),
  };
}

/** The bucket's region as S3 reports it (HeadBucket, s3:ListBucket); undefined when it cannot be read. */
async function bucketRegion(client: S3Api, bucket: string, signal: AbortSignal): Promise<string | undefined> {
  try {
    return (await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal })).BucketRegion;
  } catch (e) {
    if (signal.aborted) throw abortReason(signal);
    return undefined;
  }
}
