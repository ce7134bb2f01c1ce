import type { BlobGetPropertiesResponse } from "@azure/storage-blob";
import type { CopyOptions } from "../args";
import type { AzureBlobLocator } from "../locators";
import { CopyError } from "../errors";
import { abortReason, type Logger } from "../operation";
import { formatBytes } from "../values";
import { type BlobHandle } from "./azureBlob";
import { contentHeaders } from "./copySources";
import type { CopySource } from "./types";

/** What the synchronous Azure paths share: the destination, and the source as read. */
export interface BlobJob {
  dst: BlobHandle;
  destination: AzureBlobLocator;
  source: CopySource;
  tags: Record<string, string>;
  options: CopyOptions;
  signal: AbortSignal;
  log: Logger;
}

/** Copy Blob From URL: one request that returns when the copy is done (sources up to 256 MiB). */
export async function syncCopy(job: BlobJob): Promise<{ props: BlobGetPropertiesResponse; copyId?: string }> {
  const { source } = job;
  const result = await job.dst.client.syncCopyFromURL(source.url, {
    abortSignal: job.signal,
    metadata: job.options.metadata ?? (source.serviceCopiesMetadata ? undefined : source.metadata),
    tier: job.options.accessTier,
    tags: job.tags,
    ...(source.ifMatch ? { sourceConditions: { ifMatch: source.ifMatch } } : {}),
  });
  return { props: await job.dst.client.getProperties({ abortSignal: job.signal }), copyId: result.copyId };
}

/**
 * Put Block From URL in parallel, then Put Block List. Nothing is visible until the commit,
 * which carries metadata, headers and tags explicitly. Put Block From URL has no source
 * if-match, so the source's ETag is read again before committing: ETags never repeat, so
 * any change during staging is caught there.
 */
export async function blockCopy(
  job: BlobJob,
  blockSizeBytes: number,
  blockCount: number,
  concurrency: number,
): Promise<BlobGetPropertiesResponse> {
  const { source, options, log } = job;
  const block = job.dst.client.getBlockBlobClient();
  const size = source.contentLength;
  const ids = blockIds(size, blockCount);
  const stop = new AbortController();
  const signal = AbortSignal.any([job.signal, stop.signal]);
  let next = 0;
  let staged = 0;
  const worker = async () => {
    for (let i = next++; i < ids.length && !signal.aborted; i = next++) {
      const offset = i * blockSizeBytes;
      await block.stageBlockFromURL(ids[i], source.url, offset, Math.min(blockSizeBytes, size - offset), { abortSignal: signal });
      staged++;
      log.progress(
        `staged ${staged}/${ids.length} blocks (${formatBytes(Math.min(staged * blockSizeBytes, size))} of ${formatBytes(size)})`,
      );
    }
  };
  const workers = Array.from({ length: Math.max(1, concurrency) }, worker);
  try {
    await Promise.all(workers);
  } catch (e) {
    stop.abort();
    await Promise.allSettled(workers);
    if (job.signal.aborted) throw stagedSoFar(abortReason(job.signal), staged, ids.length);
    // A shrunken or replaced source fails a block's range first: report the cause, not the symptom.
    await assertSourceUnchanged(job, e);
    throw e;
  }
  if (job.signal.aborted) throw stagedSoFar(abortReason(job.signal), staged, ids.length);
  await assertSourceUnchanged(job);
  const h = contentHeaders(options, { ...source.headers, contentMD5: source.contentMD5 });
  await block.commitBlockList(ids, {
    abortSignal: job.signal,
    metadata: options.metadata ?? source.metadata,
    tags: job.tags,
    tier: options.accessTier,
    blobHTTPHeaders: {
      blobContentType: h.contentType,
      blobCacheControl: h.cacheControl,
      blobContentDisposition: h.contentDisposition,
      blobContentEncoding: h.contentEncoding,
      blobContentLanguage: h.contentLanguage,
      blobContentMD5: h.contentMD5,
    },
  });
  return job.dst.client.getProperties({ abortSignal: job.signal });
}

async function assertSourceUnchanged(job: BlobJob, cause?: unknown): Promise<void> {
  const now = await job.source.etagNow().catch(() => undefined);
  if (now === job.source.etag) return;
  throw new CopyError(
    "SourceChanged",
    `${job.source.label} changed while its blocks were being copied (ETag ${now ?? "gone"}, was ${job.source.etag}); nothing was committed`,
    { cause },
  );
}

function stagedSoFar(reason: CopyError, staged: number, total: number): CopyError {
  return new CopyError(
    reason.code,
    `${reason.detail}; ${staged} of ${total} blocks had been staged and none was committed (Azure discards uncommitted blocks after 7 ` +
      `days)`,
    { cause: reason },
  );
}

/** The block ids of a copy, in order: the same for every copy of a size, so a verify can name them. */
export function blockIds(size: number, blockCount: number): string[] {
  return size === 0
    ? []
    : Array.from({ length: blockCount }, (_, i) => Buffer.from(`copied-object-${String(i).padStart(6, "0")}`).toString("base64"));
}
