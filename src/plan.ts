/**
 * How a copy is made: which pairs of stores and which strategies exist (one table, which check,
 * the planner and dispatch all read), and for each path its strategy and part layout. Pure.
 */
import { CopyError } from "./errors";
import type { LocatorKind } from "./locators";
import { formatBytes, GiB, MiB } from "./values";

export { formatBytes };

/**
 * How to copy. `auto` picks by pair and size; `copy` is one CopyObject / async Copy Blob / Copy File; `multipart` is S3
 * UploadPartCopy; `blocks` is Azure Put Block From URL; `sync` is Copy Blob From URL; `stream` goes through the provider.
 */
export type Strategy = "auto" | "copy" | "multipart" | "blocks" | "sync" | "stream";
export const STRATEGIES: readonly Strategy[] = ["auto", "copy", "multipart", "blocks", "sync", "stream"];

/** The copiers, by name; stores/index.ts loads each on first use. */
export type Driver = "s3ToS3" | "toAzureBlob" | "toAzureFile" | "streamToS3";

interface PairRule {
  /** The server-side path's strategies, `auto` first; none when the destination cannot read this source. */
  server: readonly Strategy[];
  driver?: Driver;
  /** `strategy: "stream"` (through the provider) is allowed: always, or only when the two sides are on different services. */
  stream: "always" | "acrossServices" | "never";
}

const INTO_BLOB: PairRule = { server: ["auto", "copy", "sync", "blocks"], driver: "toAzureBlob", stream: "never" };
const STREAM_ONLY: PairRule = { server: [], stream: "always" };

/** Every pair this release copies. A pair that is not here is refused at check. */
export const PAIRS: Readonly<Partial<Record<`${LocatorKind}->${LocatorKind}`, PairRule>>> = {
  "s3->s3": { server: ["auto", "copy", "multipart"], driver: "s3ToS3", stream: "acrossServices" },
  "azureBlob->azureBlob": INTO_BLOB,
  "url->azureBlob": INTO_BLOB,
  "s3->azureBlob": INTO_BLOB,
  // Only async Copy Blob is known to read a file source.
  "azureFile->azureBlob": { server: ["auto", "copy"], driver: "toAzureBlob", stream: "never" },
  "azureFile->azureFile": { server: ["auto", "copy"], driver: "toAzureFile", stream: "never" },
  "azureBlob->azureFile": { server: ["auto", "copy"], driver: "toAzureFile", stream: "never" },
  // No server-side path into S3 exists from these: only through the provider, when the user opts in.
  "azureBlob->s3": STREAM_ONLY,
  "azureFile->s3": STREAM_ONLY,
  "url->s3": STREAM_ONLY,
};

export interface Route {
  driver: Driver;
  path: "server" | "stream";
}

export interface Refusal {
  property: string;
  reason: string;
}

/** Both sides' services, when known; S3 to S3 server-side needs one service. */
export interface Services {
  same: boolean;
  source: string;
  destination: string;
}

/** Which copier runs a pair with a strategy, or why it cannot. */
export function routeOf(from: LocatorKind, to: LocatorKind, strategy: Strategy = "auto", services?: Services): Route | Refusal {
  const rule = PAIRS[`${from}->${to}`];
  if (!rule) return { property: "destination", reason: `copying ${from} to ${to} is not supported: ${unsupportedWhy(to)}` };
  const across = services !== undefined && !services.same;
  if (strategy === "stream") {
    if (rule.stream === "always" || (rule.stream === "acrossServices" && across)) return { driver: "streamToS3", path: "stream" };
    return { property: "strategy", reason: refuseStrategy(from, to, strategy) };
  }
  if (!rule.driver) return { property: "strategy", reason: streamOnlyWhy(from) };
  if (from === "s3" && to === "s3" && across) {
    return {
      property: "destination.s3.endpoint",
      reason:
        `is ${services.destination}, but the source is on ${services.source}: a server-side copy needs both objects on one S3 service ` +
        `(CopyObject runs on the destination's server and reads the source there). Set strategy: "stream" to copy through the machine ` +
        `running Pulumi with bounded memory, or copy within one service.`,
    };
  }
  if (!rule.server.includes(strategy)) return { property: "strategy", reason: refuseStrategy(from, to, strategy) };
  return { driver: rule.driver, path: "server" };
}

export function isRefusal(route: Route | Refusal): route is Refusal {
  return "reason" in route;
}

/** The route, or an InvalidInput error naming the field: for callers past check. */
export function routeOrThrow(from: LocatorKind, to: LocatorKind, strategy: Strategy | undefined, services?: Services): Route {
  const route = routeOf(from, to, strategy, services);
  if (isRefusal(route)) throw new CopyError("InvalidInput", `${route.property} ${route.reason}`);
  return route;
}

function unsupportedWhy(to: LocatorKind): string {
  return to === "azureFile"
    ? "Copy File reads only Azure Files and Azure Blob sources; copy into a blob instead, or stage the object in Azure Blob first."
    : "it copies S3 to S3; Azure Blob, Azure Files, S3 or a URL to Azure Blob; Azure Blob or Files to Azure Files; and, streamed, Azure, " +
        "a URL or another S3 service to S3.";
}

function streamOnlyWhy(from: LocatorKind): string {
  const what = from === "url" ? "a URL" : `Azure ${from === "azureBlob" ? "Blob" : "Files"}`;
  return (
    `S3 cannot copy from ${what} server-side, so the bytes would pass through the machine running Pulumi. ` +
    `Set strategy: "stream" to accept that (memory stays within partSizeBytes × concurrency), or copy within one cloud.`
  );
}

function refuseStrategy(from: LocatorKind, to: LocatorKind, strategy: Strategy): string {
  if (to === "s3") {
    if (strategy === "stream")
      return (
        '"stream" sends the data through the machine running Pulumi; S3 to S3 on one service always has a server-side path. Use ' +
        '"auto", "copy" or "multipart".'
      );
    return `"${strategy}" is an Azure Blob strategy; for S3 to S3 use "auto", "copy" or "multipart".`;
  }
  if (to === "azureFile")
    return `"${strategy}" does not apply to copies into Azure Files, which only Copy File writes; use "auto" or "copy".`;
  if (from === "azureFile")
    return `"${strategy}" does not apply to an Azure Files source, which only async Copy Blob reads; use "auto" or "copy".`;
  if (from === "azureBlob") {
    return (
      `"${strategy}" does not apply to Azure Blob to Azure Blob; use "auto", "copy" (async Copy Blob), "blocks" (Put Block From ` +
      `URL) or "sync" (Copy Blob From URL, up to 256 MiB).`
    );
  }
  return (
    `"${strategy}" does not apply to copies into Azure Blob; use "auto" (async Copy Blob), "copy", "sync" (up to 256 MiB) ` + `or "blocks".`
  );
}
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

export type S3Plan = { strategy: "copy" } | { strategy: "multipart"; partSizeBytes: number; partCount: number; concurrency: number };

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
  if (strategy === "blocks" || strategy === "sync" || strategy === "stream")
    throw new CopyError("InvalidInput", `strategy "${strategy}" is not a server-side S3 strategy`);
  if (strategy === "copy") {
    if (sizeBytes > S3_LIMITS.maxSingleCopyBytes) {
      throw new CopyError(
        "InvalidInput",
        `strategy "copy" cannot copy ${formatBytes(sizeBytes)}: a single S3 CopyObject is limited to 5 GiB. Use strategy "auto" or ` +
          `"multipart".`,
      );
    }
    return { strategy: "copy" };
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
    throw new CopyError(
      "InvalidInput",
      `partSizeBytes ${partSizeBytes} splits ${formatBytes(sizeBytes)} into ${partCount} parts; S3 allows 10,000. Use partSizeBytes of ` +
        `at least ${needed}, or omit it.`,
    );
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

/** Azure Blob limits: Copy Blob From URL up to 256 MiB; block blobs of at most 50,000 blocks of 4000 MiB. */
export const BLOB_LIMITS = {
  maxSyncCopyBytes: 256 * MiB,
  maxBlockBytes: 4000 * MiB,
  maxBlocks: 50_000,
} as const;

export const BLOB_DEFAULTS = { blockSizeBytes: 64 * MiB, concurrency: 8 } as const;

export type BlobPlan =
  { strategy: "copy" | "sync" } | { strategy: "blocks"; blockSizeBytes: number; blockCount: number; concurrency: number };

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
  if (strategy === "sync" && input.sizeBytes > BLOB_LIMITS.maxSyncCopyBytes) {
    throw new CopyError(
      "InvalidInput",
      `strategy "sync" cannot copy ${formatBytes(input.sizeBytes)}: Copy Blob From URL is limited to 256 MiB. Use "auto", "copy" or ` +
        `"blocks".`,
    );
  }
  if (strategy === "blocks" && !input.blockBlob) {
    throw new CopyError("InvalidInput", `strategy "blocks" needs a block blob source; this one is a page or append blob. Use "copy".`);
  }
  if (strategy === "multipart" || strategy === "stream")
    throw new CopyError("InvalidInput", `strategy "${strategy}" does not apply to copies into Azure Blob`);
  const chosen =
    strategy !== "auto"
      ? strategy
      : input.sameAccount || !input.blockBlob
        ? "copy"
        : input.sizeBytes <= BLOB_LIMITS.maxSyncCopyBytes
          ? "sync"
          : "blocks";
  if (chosen !== "blocks") return { strategy: chosen };
  const smallest = Math.ceil(input.sizeBytes / BLOB_LIMITS.maxBlocks / MiB) * MiB;
  const blockSizeBytes = input.partSizeBytes ?? Math.max(BLOB_DEFAULTS.blockSizeBytes, smallest);
  const blockCount = Math.max(1, Math.ceil(input.sizeBytes / blockSizeBytes));
  if (blockSizeBytes > BLOB_LIMITS.maxBlockBytes || blockCount > BLOB_LIMITS.maxBlocks) {
    throw new CopyError(
      "InvalidInput",
      `partSizeBytes ${blockSizeBytes} gives ${blockCount} blocks of ${formatBytes(blockSizeBytes)}; Azure allows 50,000 blocks of at ` +
        `most 4000 MiB. Use partSizeBytes of at least ${smallest}, or omit it.`,
    );
  }
  return {
    strategy: "blocks",
    blockSizeBytes,
    blockCount,
    concurrency: Math.min(input.concurrency ?? BLOB_DEFAULTS.concurrency, blockCount),
  };
}
