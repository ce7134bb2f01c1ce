import { GiB, MiB, type Strategy } from "./args";
import { CopyError } from "./errors";

/** S3's documented limits. Enforced here because S3-compatible servers (Ceph RGW) do not. */
export const S3_LIMITS = {
  maxSingleCopyBytes: 5 * GiB,
  minPartBytes: 5 * MiB,
  maxPartBytes: 5 * GiB,
  maxParts: 10_000,
  maxObjectBytes: 5 * 1024 * GiB,
} as const;

/**
 * Defaults for S3 to S3. On AWS, above the threshold, parts copied in parallel finish sooner than
 * one CopyObject, whose time grows with size on a single server-side stream. S3-compatible servers
 * (a custom endpoint) copy in place: one CopyObject took 0.46 s for 1 GiB on Ceph RGW (a reference
 * count, no data moved) against 7.4 s as parts, and 3.1 s against 16.7 s on moto (bench P1), so
 * there a single copy is used up to S3's 5 GiB limit. Part size and concurrency: P1's sweep.
 */
export const S3_DEFAULTS = {
  singleCopyThresholdBytes: 1 * GiB,
  compatibleSingleCopyThresholdBytes: 5 * GiB,
  partSizeBytes: 128 * MiB,
  concurrency: 8,
} as const;

export type S3Plan =
  | { strategy: "copy" }
  | { strategy: "multipart"; partSizeBytes: number; partCount: number; concurrency: number };

export interface S3PlanInput {
  sizeBytes: number;
  /** The destination is an S3-compatible server (a custom endpoint that is not AWS). */
  compatibleServer?: boolean;
  strategy?: Strategy;
  partSizeBytes?: number;
  concurrency?: number;
}

/** Chooses single CopyObject or multipart UploadPartCopy, and the part layout, for one object. */
export function planS3Copy(input: S3PlanInput): S3Plan {
  const { sizeBytes } = input;
  const strategy = input.strategy ?? "auto";
  if (sizeBytes > S3_LIMITS.maxObjectBytes) {
    throw new CopyError("InvalidInput", `the source is ${formatBytes(sizeBytes)}; S3 objects are at most 5 TiB.`);
  }
  if (strategy === "copy") {
    if (sizeBytes > S3_LIMITS.maxSingleCopyBytes) {
      throw new CopyError("InvalidInput", `strategy "copy" cannot copy ${formatBytes(sizeBytes)}: a single S3 CopyObject is limited to 5 GiB. Use strategy "auto" or "multipart".`);
    }
    return { strategy: "copy" };
  }
  if (strategy !== "auto" && strategy !== "multipart") {
    throw new CopyError("InvalidInput", `strategy "${strategy}" does not apply to S3 to S3 copies; use "auto", "copy" or "multipart".`);
  }
  // An empty object has no byte range to copy as a part.
  if (sizeBytes === 0) return { strategy: "copy" };
  const threshold = input.compatibleServer ? S3_DEFAULTS.compatibleSingleCopyThresholdBytes : S3_DEFAULTS.singleCopyThresholdBytes;
  if (strategy === "auto" && sizeBytes <= threshold && input.partSizeBytes === undefined) {
    return { strategy: "copy" };
  }
  const partSizeBytes = input.partSizeBytes ?? defaultPartSize(sizeBytes);
  if (partSizeBytes < S3_LIMITS.minPartBytes || partSizeBytes > S3_LIMITS.maxPartBytes) {
    throw new CopyError("InvalidInput", `partSizeBytes must be from 5 MiB to 5 GiB (got ${partSizeBytes}).`);
  }
  const partCount = Math.ceil(sizeBytes / partSizeBytes);
  if (partCount > S3_LIMITS.maxParts) {
    const needed = Math.ceil(sizeBytes / S3_LIMITS.maxParts / MiB) * MiB;
    throw new CopyError("InvalidInput", `partSizeBytes ${partSizeBytes} splits ${formatBytes(sizeBytes)} into ${partCount} parts; S3 allows 10,000. Use partSizeBytes of at least ${needed}, or omit it.`);
  }
  const concurrency = Math.min(input.concurrency ?? S3_DEFAULTS.concurrency, partCount);
  return { strategy: "multipart", partSizeBytes, partCount, concurrency };
}

/** The default part size, raised in whole MiB only when 10,000 parts would not cover the object. */
export function defaultPartSize(sizeBytes: number): number {
  const smallestAllowed = Math.ceil(sizeBytes / S3_LIMITS.maxParts / MiB) * MiB;
  return Math.min(S3_LIMITS.maxPartBytes, Math.max(S3_DEFAULTS.partSizeBytes, smallestAllowed));
}

/** Inclusive byte ranges of each part, in order; the last part may be short. */
export function* partRanges(sizeBytes: number, partSizeBytes: number): Generator<{ partNumber: number; first: number; last: number }> {
  for (let first = 0, partNumber = 1; first < sizeBytes; first += partSizeBytes, partNumber++) {
    yield { partNumber, first, last: Math.min(first + partSizeBytes, sizeBytes) - 1 };
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(bytes % GiB ? 2 : 0)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(bytes % MiB ? 2 : 0)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(bytes % 1024 ? 1 : 0)} KiB`;
  return `${bytes} bytes`;
}

/** Azure Blob limits: Copy Blob From URL up to 256 MiB; block blobs of at most 50,000 blocks of 4000 MiB. */
export const BLOB_LIMITS = {
  maxSyncCopyBytes: 256 * MiB,
  maxBlockBytes: 4000 * MiB,
  maxBlocks: 50_000,
} as const;

export const BLOB_DEFAULTS = { blockSizeBytes: 64 * MiB, concurrency: 8 } as const;

export type BlobPlan =
  | { strategy: "copy" | "sync" }
  | { strategy: "blocks"; blockSizeBytes: number; blockCount: number; concurrency: number };

export interface BlobPlanInput {
  sizeBytes: number;
  sameAccount: boolean;
  blockBlob: boolean;
  strategy?: Strategy;
  partSizeBytes?: number;
  concurrency?: number;
}

/**
 * Within one account the service copies fast, so `auto` uses async Copy Blob. Across accounts
 * Azure schedules async copies without a deadline, so `auto` copies predictably instead: one
 * Copy Blob From URL up to 256 MiB, Put Block From URL in parallel above it.
 */
export function planBlobCopy(input: BlobPlanInput): BlobPlan {
  const strategy = input.strategy ?? "auto";
  if (strategy === "multipart" || strategy === "stream") {
    throw new CopyError("InvalidInput", `strategy "${strategy}" does not apply to Azure Blob to Azure Blob copies; use "auto", "copy", "sync" or "blocks".`);
  }
  if (strategy === "sync" && input.sizeBytes > BLOB_LIMITS.maxSyncCopyBytes) {
    throw new CopyError("InvalidInput", `strategy "sync" cannot copy ${formatBytes(input.sizeBytes)}: Copy Blob From URL is limited to 256 MiB. Use "auto", "copy" or "blocks".`);
  }
  if (strategy === "blocks" && !input.blockBlob) {
    throw new CopyError("InvalidInput", `strategy "blocks" needs a block blob source; this one is a page or append blob. Use "copy".`);
  }
  const chosen = strategy !== "auto" ? strategy : input.sameAccount || !input.blockBlob ? "copy" : input.sizeBytes <= BLOB_LIMITS.maxSyncCopyBytes ? "sync" : "blocks";
  if (chosen !== "blocks") return { strategy: chosen };
  const smallest = Math.ceil(input.sizeBytes / BLOB_LIMITS.maxBlocks / MiB) * MiB;
  const blockSizeBytes = input.partSizeBytes ?? Math.max(BLOB_DEFAULTS.blockSizeBytes, smallest);
  const blockCount = Math.max(1, Math.ceil(input.sizeBytes / blockSizeBytes));
  if (blockSizeBytes > BLOB_LIMITS.maxBlockBytes || blockCount > BLOB_LIMITS.maxBlocks) {
    throw new CopyError("InvalidInput", `partSizeBytes ${blockSizeBytes} gives ${blockCount} blocks of ${formatBytes(blockSizeBytes)}; Azure allows 50,000 blocks of at most 4000 MiB. Use partSizeBytes of at least ${smallest}, or omit it.`);
  }
  return { strategy: "blocks", blockSizeBytes, blockCount, concurrency: Math.min(input.concurrency ?? BLOB_DEFAULTS.concurrency, blockCount) };
}
