/**
 * What an S3 copy of an object a prefix's listing described can skip: the HEAD of the source (the listing gave its
 * ETag and size) and, where the server names the version it wrote or the bucket holds none, the HEAD after.
 */
import { GetBucketVersioningCommand, type HeadObjectCommandOutput } from "@aws-sdk/client-s3";
import { ambient } from "../ambient";
import { resolveS3Access } from "../awsAccess";
import { isAwsService, s3Service } from "../identity";
import type { S3Credentials, S3Locator } from "../locators";
import { planS3Copy } from "../plan";
import type { S3Api } from "./s3";
import type { CopyJob } from "./types";

/**
 * The source as a listing described it, when one CopyObject will copy it (up to the single-copy threshold): then no
 * HEAD is needed, since the copy is pinned to the listed ETag and the server copies metadata and tags itself.
 */
export function fromListing(request: CopyJob, destination: S3Locator, options: CopyJob["options"]): HeadObjectCommandOutput | undefined {
  const listed = request.listed;
  if (!listed || ("s3" in request.source && request.source.s3.versionId)) return undefined;
  const compatibleServer = isCompatibleServer(destination, request.destinationCredentials as S3Credentials | undefined);
  const plan = planS3Copy({
    sizeBytes: listed.contentLength,
    compatibleServer,
    strategy: options.strategy,
    partSizeBytes: options.partSizeBytes,
  });
  return plan.strategy === "copy" ? { ETag: `"${listed.etag}"`, ContentLength: listed.contentLength, $metadata: {} } : undefined;
}

const versioning = new Map<string, { at: number; answer: Promise<boolean> }>();

/**
 * Whether a bucket may hold versions (versioning enabled or suspended), asked once a minute per bucket rather than a
 * HEAD per copied object. Refused or failed: assume it may.
 */
export function mayHoldVersions(dst: S3Api, destination: S3Locator, signal: AbortSignal): Promise<boolean> {
  const key = `${destination.endpoint ?? ""} ${destination.bucket}`;
  const known = versioning.get(key);
  if (known && Date.now() - known.at < 60_000) return known.answer;
  const answer = dst.send(new GetBucketVersioningCommand({ Bucket: destination.bucket }), { abortSignal: signal }).then(
    (r) => r.Status !== undefined,
    () => true,
  );
  versioning.set(key, { at: Date.now(), answer });
  return answer;
}

/** A custom endpoint that is not AWS's own (AWS endpoints can be given too: FIPS, dual-stack, VPC). */
export function isCompatibleServer(location: S3Locator, credentials?: S3Credentials): boolean {
  return !isAwsService(s3Service(resolveS3Access(location, credentials, ambient())));
}
