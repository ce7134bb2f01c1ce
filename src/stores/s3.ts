import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
  type HeadObjectCommandOutput,
} from "@aws-sdk/client-s3";
import type { Locator, S3Credentials, S3Locator } from "../locators";
import { normalizeEtag } from "../values";
import { CopyError } from "../errors";
import { abortReason, type Logger } from "../operation";
import { ambient } from "../ambient";
import { resolveS3Access } from "../awsAccess";
import { credentialsFor } from "./awsCredentials";
import { ClientCache } from "./clientCache";
import type { ObjectState, Store } from "./types";

/** The narrow part of the SDK client the S3 backend uses, so tests can fake it. */
export type S3Api = Pick<S3Client, "send">;

/** Builds clients inside provider calls only: SDK clients do not survive serialization. */
export type S3ClientFactory = (location: S3Locator, credentials?: S3Credentials) => S3Api;

const s3Clients = new ClientCache<S3Client>();
/** Sockets per cached client (per endpoint and credential): the SDK's default is 50. */
const MAX_SOCKETS = 256;

/**
 * One client per endpoint, region, path style and credential, reused by every call in this provider process
 * (see clientCache.ts). Built on first use, at run time: never serialized. awsAccess.ts decides what the
 * side uses (locator, stack config, environment), and identity.ts names the object by the same answer.
 */
export const newS3Client: S3ClientFactory = (location, credentials) => {
  const access = resolveS3Access(location, credentials, ambient());
  const profile = access.base.kind === "profile" ? access.base.profile : undefined;
  const config = {
    region: access.region ?? (access.fallbackRegion ? profileRegionOr(access.fallbackRegion, profile) : undefined),
    endpoint: access.endpoint,
    forcePathStyle: access.forcePathStyle,
    // The client reads a profile's region (when none is set above) from the default config file.
    profile,
  };
  return s3Clients.get({ ...config, access }, () => {
    const resolved = credentialsFor(access);
    return new S3Client({
      ...config,
      // Without credentials here the SDK's default chain runs, in the provider, at run time; the client keeps what it
      // resolved (and refreshes it before it expires), as the role providers do.
      ...(resolved ? { credentials: resolved } : {}),
      followRegionRedirects: true,
      // S3-compatible servers reject the newer default checksum trailers on some requests.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      // Shared by every resource in flight, each of which may run several part copies at once.
      requestHandler: { httpAgent: { maxSockets: MAX_SOCKETS }, httpsAgent: { maxSockets: MAX_SOCKETS } },
    });
  });
};

/** The profile's region as the SDK reads it (AWS_PROFILE when none is named), else `fallback`. */
function profileRegionOr(fallback: string, profile: string | undefined): () => Promise<string> {
  return async () => {
    try {
      return await new S3Client(profile ? { profile } : {}).config.region();
    } catch {
      return fallback;
    }
  };
}

export function s3Of(location: Locator): S3Locator {
  if (!("s3" in location)) throw new CopyError("Unsupported", "expected an s3 location");
  return location.s3;
}

export function s3Uri(location: S3Locator, versionId?: string): string {
  return `s3://${location.bucket}/${location.key}${versionId ? ` (version ${versionId})` : ""}`;
}

/** The x-amz-copy-source value: the key percent-encoded (so `+`, `?`, `#`, `%` survive), slashes kept. */
export function copySource(location: S3Locator, versionId?: string): string {
  const key = encodeURIComponent(location.key).replace(/%2F/g, "/");
  return `${location.bucket}/${key}${versionId ? `?versionId=${encodeURIComponent(versionId)}` : ""}`;
}

export function stateOf(head: Pick<HeadObjectCommandOutput, "ETag" | "VersionId" | "ContentLength" | "LastModified">): ObjectState {
  return {
    etag: normalizeEtag(head.ETag ?? ""),
    ...(head.VersionId && head.VersionId !== "null" ? { versionId: head.VersionId } : {}),
    contentLength: head.ContentLength ?? 0,
    ...(head.LastModified ? { lastModified: head.LastModified.toISOString() } : {}),
  };
}

export async function headS3(
  client: S3Api,
  location: S3Locator,
  versionId: string | undefined,
  signal: AbortSignal,
  side: "source" | "destination",
): Promise<HeadObjectCommandOutput | undefined> {
  try {
    return await client.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key, VersionId: versionId }), {
      abortSignal: signal,
    });
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw s3Failure(e, signal, `HeadObject on the ${side} ${s3Uri(location, versionId)}`, side);
  }
}

export function s3Store(clientFor: S3ClientFactory = newS3Client): Store {
  return {
    async head(location, credentials, signal, side): Promise<ObjectState | undefined> {
      const s3 = s3Of(location);
      const head = await headS3(clientFor(s3, credentials as S3Credentials | undefined), s3, s3.versionId, signal, side);
      return head && stateOf(head);
    },

    async remove(location, credentials, evidence, signal, log): Promise<void> {
      const s3 = s3Of(location);
      const client = clientFor(s3, credentials as S3Credentials | undefined);
      if (!evidence.versionIds.length) {
        // No version names the write: the object is removed only while it still has the write's ETag and Last-Modified.
        const head = await headS3(client, s3, undefined, signal, "destination");
        if (!head) return void log.info(`${s3Uri(s3)} was already gone`);
        const now = stateOf(head);
        const moved =
          (evidence.etag && now.etag !== evidence.etag) ||
          (evidence.lastModified && now.lastModified && toSecond(now.lastModified) !== toSecond(evidence.lastModified));
        if (moved) {
          return void log.warn(
            `${s3Uri(s3)} no longer holds what this resource wrote (ETag ${now.etag}, last modified ${now.lastModified ?? "?"}; ` +
              `it wrote ETag ${evidence.etag}, last modified ${evidence.lastModified ?? "?"}): someone else wrote it since, so it is kept`,
          );
        }
      }
      // Only the versions this resource wrote: other versions are someone else's history.
      for (const versionId of evidence.versionIds.length ? evidence.versionIds : [undefined]) {
        try {
          await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: s3.key, VersionId: versionId }), { abortSignal: signal });
          log.info(`deleted ${s3Uri(s3, versionId)}`);
        } catch (e) {
          if (isMissing(e)) {
            log.info(`${s3Uri(s3, versionId)} was already gone`);
            continue;
          }
          throw s3Failure(e, signal, `DeleteObject on ${s3Uri(s3, versionId)}`, "destination");
        }
      }
    },

    async abandonLeftovers(location, credentials, signal, log): Promise<number> {
      const s3 = s3Of(location);
      return abortLeftoverUploads(clientFor(s3, credentials as S3Credentials | undefined), s3, signal, log);
    },
  };
}

/**
 * Aborts unfinished multipart uploads on exactly this key: a killed provider cannot abort
 * its own, and each one keeps billing for its parts. The resource owns its destination key.
 */
export async function abortLeftoverUploads(client: S3Api, location: S3Locator, signal: AbortSignal, log: Logger): Promise<number> {
  let aborted = 0;
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  try {
    do {
      const page = await client.send(
        new ListMultipartUploadsCommand({ Bucket: location.bucket, Prefix: location.key, KeyMarker, UploadIdMarker }),
        { abortSignal: signal },
      );
      for (const upload of page.Uploads ?? []) {
        if (upload.Key !== location.key || !upload.UploadId) continue;
        await client.send(new AbortMultipartUploadCommand({ Bucket: location.bucket, Key: location.key, UploadId: upload.UploadId }), {
          abortSignal: signal,
        });
        aborted++;
        log.info(
          `aborted a leftover multipart upload on ${s3Uri(location)} (started ${upload.Initiated?.toISOString() ?? "at an unknown time"})`,
        );
      }
      KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      UploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (KeyMarker);
  } catch (e) {
    if (isMissing(e)) return aborted;
    // The sweep is housekeeping: without the permission the copy and the delete go on, and say what is lost.
    if (isDenied(e) && !signal.aborted) {
      warnOnce(
        log,
        `sweep:${location.bucket}`,
        `could not look for multipart uploads left on s3://${location.bucket} by a killed run (${(e as Error).name}): grant ` +
          `s3:ListBucketMultipartUploads and s3:AbortMultipartUpload on the bucket, or leftover parts keep being billed until a ` +
          `lifecycle rule (AbortIncompleteMultipartUpload) removes them`,
      );
      return aborted;
    }
    throw s3Failure(e, signal, `ListMultipartUploads on ${s3Uri(location)}`, "destination");
  }
  return aborted;
}

function isDenied(e: unknown): boolean {
  const name = (e as { name?: string })?.name;
  return statusOf(e) === 403 || name === "AccessDenied";
}

const warned = new Set<string>();

/** Some warnings are about a bucket's permissions, not a copy: said once per provider process. */
export function warnOnce(log: Logger, key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  log.warn(message);
}

export function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isMissing(e: unknown): boolean {
  const name = (e as { name?: string })?.name;
  return statusOf(e) === 404 || name === "NoSuchKey" || name === "NoSuchVersion" || name === "NoSuchBucket" || name === "NoSuchUpload";
}

/** Why a request failed: the operation's own timeout or abort when that fired, else the server's answer. */
export function s3Failure(e: unknown, signal: AbortSignal, doing: string, side: "source" | "destination"): CopyError {
  return signal.aborted ? abortReason(signal) : s3Error(e, doing, side);
}

/** Maps an SDK failure to a CopyError with a stable code and a message that says where. */
export function s3Error(e: unknown, doing: string, side: "source" | "destination"): CopyError {
  const name = (e as { name?: string })?.name ?? "Error";
  const status = statusOf(e);
  const detail = trimmed((e as Error)?.message ?? String(e));
  const what = `${doing} failed: ${name}${status ? ` (HTTP ${status})` : ""}: ${detail}`;
  if (/Region is missing/i.test(detail)) {
    return new CopyError(
      "InvalidInput",
      `no AWS region for the ${side}: set ${side}.s3.region, the stack's aws:region, or AWS_REGION where Pulumi runs`,
      { cause: e },
    );
  }
  if (name === "CredentialsProviderError" || /Could not load credentials|Could not resolve credentials/i.test(detail)) {
    // The SDK's message names the profile or source it tried, never a key.
    return new CopyError(
      "InvalidInput",
      `no AWS credentials for the ${side} (${detail}): set ${side}.s3.credentials (kept secret) or ${side}.s3.profile, the stack's ` +
        `aws:profile or aws:accessKey, or the AWS default chain (environment, profile, SSO, instance role) where Pulumi runs`,
      { cause: e },
    );
  }
  if (/sts:AssumeRole|AssumeRole/.test(detail) && (status === 403 || name === "AccessDenied")) {
    return new CopyError(
      "AccessDenied",
      `assuming the ${side}'s role failed: ${detail}. Check the role's trust policy (it must trust the credentials that assume it), ` +
        `its externalId, and sts:AssumeRole on the caller`,
      { cause: e },
    );
  }
  if (name === "InvalidObjectState") {
    return new CopyError("CopyFailed", `${what}. The source is archived (e.g. GLACIER); restore it before copying`, { cause: e });
  }
  if (name === "PreconditionFailed" || status === 412) {
    return new CopyError("SourceChanged", `${what}. The source changed while it was being copied; run again to copy its new content`, {
      cause: e,
    });
  }
  if (name === "NoSuchBucket") {
    return new CopyError(
      side === "source" ? "SourceNotFound" : "DestinationNotFound",
      `${what}. Create the bucket first, or fix ${side}.s3.bucket`,
      { cause: e },
    );
  }
  if (name === "NoSuchKey" || name === "NoSuchVersion" || status === 404) {
    return new CopyError(side === "source" ? "SourceNotFound" : "DestinationNotFound", what, { cause: e });
  }
  if (status === 403 || name === "AccessDenied" || name === "InvalidAccessKeyId" || name === "SignatureDoesNotMatch") {
    return new CopyError("AccessDenied", `${what}. Check the ${side}'s credentials and bucket policy`, { cause: e });
  }
  return new CopyError("CopyFailed", what, { cause: e });
}

/** Error bodies can be whole HTML pages (moto); keep logs and state readable. */
function trimmed(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}

/** An ISO time to the second: HTTP dates carry no more, and some servers answer a copy in milliseconds. */
function toSecond(iso: string): string {
  return iso.replace(/\.\d+Z$/, "Z");
}
