/**
 * The live suite's cleanup: lists and removes everything under a prefix of the live root, on S3 (every object
 * version and delete marker, by id; every multipart upload) and Azure Blob (every blob with its snapshots and
 * versions; blobs holding only uncommitted blocks). Used by each live test file (its own area), by the live
 * project's globalTeardown (the whole run), and by the local launcher's final check. No jest import here.
 */
import { AbortMultipartUploadCommand, DeleteObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, ListObjectVersionsCommand, type S3Client } from "@aws-sdk/client-s3";
import type { ContainerClient } from "@azure/storage-blob";
import { LIVE_ROOT, type LiveS3Target } from "./liveTargets.ts";

const CONCURRENCY = 8;

export interface S3Leftovers {
  versions: Array<{ key: string; versionId?: string; deleteMarker: boolean }>;
  uploads: Array<{ key: string; uploadId: string }>;
}

/** Every object version, delete marker and multipart upload whose key starts with `prefix` ("" for the whole bucket). */
export async function listS3(client: S3Client, target: LiveS3Target, prefix: string): Promise<S3Leftovers> {
  const found: S3Leftovers = { versions: [], uploads: [] };
  if (target.versioning === "Off") {
    // Never versioned: one version per key, and ListObjectsV2 needs no s3:ListBucketVersions.
    let ContinuationToken: string | undefined;
    do {
      const out = await client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: prefix, ContinuationToken }));
      for (const o of out.Contents ?? []) found.versions.push({ key: o.Key!, deleteMarker: false });
      ContinuationToken = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (ContinuationToken);
  } else {
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    do {
      const out = await client.send(new ListObjectVersionsCommand({ Bucket: target.bucket, Prefix: prefix, KeyMarker, VersionIdMarker }));
      for (const v of out.Versions ?? []) found.versions.push({ key: v.Key!, versionId: v.VersionId, deleteMarker: false });
      for (const m of out.DeleteMarkers ?? []) found.versions.push({ key: m.Key!, versionId: m.VersionId, deleteMarker: true });
      [KeyMarker, VersionIdMarker] = out.IsTruncated ? [out.NextKeyMarker, out.NextVersionIdMarker] : [undefined, undefined];
    } while (KeyMarker);
  }
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  do {
    const out = await client.send(new ListMultipartUploadsCommand({ Bucket: target.bucket, Prefix: prefix, KeyMarker, UploadIdMarker }));
    for (const u of out.Uploads ?? []) found.uploads.push({ key: u.Key!, uploadId: u.UploadId! });
    [KeyMarker, UploadIdMarker] = out.IsTruncated ? [out.NextKeyMarker, out.NextUploadIdMarker] : [undefined, undefined];
  } while (KeyMarker);
  return found;
}

/**
 * Removes everything under `prefix` for good (versions and delete markers by id, uploads aborted), then lists
 * again and throws if anything is left. Refuses a prefix outside the live root. Returns how many it removed.
 */
export async function sweepS3(client: S3Client, target: LiveS3Target, prefix: string): Promise<number> {
  guardPrefix(prefix);
  let removed = 0;
  for (let pass = 0; pass < 3; pass++) {
    const found = await listS3(client, target, prefix);
    if (!found.versions.length && !found.uploads.length) return removed;
    await inParallel(found.uploads, (u) => client.send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: u.key, UploadId: u.uploadId })).catch(ignoreNotFound));
    await inParallel(found.versions, (v) =>
      client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: v.key, ...(v.versionId ? { VersionId: v.versionId } : {}) })).catch(ignoreNotFound),
    );
    removed += found.versions.length + found.uploads.length;
  }
  const left = await listS3(client, target, prefix);
  if (left.versions.length || left.uploads.length) {
    throw new Error(`the sweep left ${left.versions.length} object version(s) and ${left.uploads.length} upload(s) under s3://${target.bucket}/${prefix}: ${JSON.stringify(left).slice(0, 600)}`);
  }
  return removed;
}

export interface BlobLeftover {
  name: string;
  snapshot?: string;
  versionId?: string;
  isCurrentVersion?: boolean;
}

/** Every blob under `prefix` ("" for the container): base blobs, snapshots, versions where the account keeps them, uncommitted blobs. */
export async function listBlobs(container: ContainerClient, prefix: string): Promise<BlobLeftover[]> {
  const list = async (includeVersions: boolean) => {
    const found: BlobLeftover[] = [];
    for await (const item of container.listBlobsFlat({ prefix, includeSnapshots: true, includeVersions, includeUncommitedBlobs: true })) {
      found.push({
        name: item.name,
        ...(item.snapshot ? { snapshot: item.snapshot } : {}),
        ...(item.versionId ? { versionId: item.versionId, isCurrentVersion: item.isCurrentVersion } : {}),
      });
    }
    return found;
  };
  try {
    return await list(true);
  } catch (e) {
    // An endpoint that keeps no versions (Azurite) may refuse include=versions.
    if ((e as { statusCode?: number }).statusCode !== 400) throw e;
    return list(false);
  }
}

/**
 * Removes every blob under `prefix` with its snapshots and versions; a blob holding only uncommitted blocks is
 * put empty (which discards them) and deleted. Lists again and throws if anything is left. An account's
 * soft-delete policy keeps deleted blobs for its retention days: that is the account's setting, not a leftover.
 */
export async function sweepAzure(container: ContainerClient, prefix: string): Promise<number> {
  guardPrefix(prefix);
  let removed = 0;
  for (let pass = 0; pass < 3; pass++) {
    const found = await listBlobs(container, prefix);
    if (!found.length) return removed;
    const names = [...new Set(found.map((b) => b.name))];
    await inParallel(names, async (name) => {
      const blob = container.getBlockBlobClient(name);
      const deleted = await blob.deleteIfExists({ deleteSnapshots: "include" });
      if (!deleted.succeeded && found.some((b) => b.name === name && !b.snapshot && !b.versionId)) {
        // Listed, yet no blob to delete: only uncommitted blocks. Putting the blob discards them.
        await blob.upload("", 0);
        await blob.deleteIfExists({ deleteSnapshots: "include" });
      }
    });
    const versions = found.filter((b) => b.versionId && !b.isCurrentVersion);
    await inParallel(versions, (b) => container.getBlobClient(b.name).withVersion(b.versionId!).deleteIfExists());
    removed += found.length;
  }
  const left = await listBlobs(container, prefix);
  if (left.length) throw new Error(`the sweep left ${left.length} blob(s) under ${container.url}/${prefix}: ${JSON.stringify(left).slice(0, 600)}`);
  return removed;
}

/** Sweeps only ever run under the live root: a wrong prefix must never empty a bucket. */
function guardPrefix(prefix: string): void {
  if (!prefix.startsWith(LIVE_ROOT) || !/^[^/]+\/[^/]+\/(.+\/)?$/.test(prefix)) {
    throw new Error(`refusing to sweep ${JSON.stringify(prefix)}: not a run's prefix under ${LIVE_ROOT}`);
  }
}

function ignoreNotFound(e: unknown): void {
  if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw e;
}

async function inParallel<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++];
        await fn(item).catch((e: unknown) => errors.push(e));
      }
    }),
  );
  if (errors.length) throw errors[0];
}
