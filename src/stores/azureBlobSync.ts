import type { BlobGetPropertiesResponse } from "@azure/storage-blob";
import type { AzureBlobLocator, CopyOptions } from "../args";
import { CopyError } from "../errors";
import { abortReason, type Logger } from "../operation";
import { formatBytes } from "../plan";
import { blobUri, type BlobHandle } from "./azureBlob";

/** What the synchronous Azure paths share: both sides, the source as read, and a URL the service can read. */
export interface BlobJob {
  src: BlobHandle;
  dst: BlobHandle;
  source: AzureBlobLocator;
  destination: AzureBlobLocator;
  head: BlobGetPropertiesResponse;
  sourceUrl: string;
  tags: Record<string, string>;
  options: CopyOptions;
  signal: AbortSignal;
  log: Logger;
}

/** Copy Blob From URL: one request that returns when the copy is done (sources up to 256 MiB). */
export async function syncCopy(job: BlobJob): Promise<{ props: BlobGetPropertiesResponse; copyId?: string }> {
  const result = await job.dst.client.syncCopyFromURL(job.sourceUrl, {
    abortSignal: job.signal,
    metadata: job.options.metadata,
    tier: job.options.accessTier,
    tags: job.tags,
    sourceConditions: { ifMatch: job.head.etag },
  });
  return { props: await job.dst.client.getProperties({ abortSignal: job.signal }), copyId: result.copyId };
}

/**
 * Put Block From URL in parallel, then Put Block List. Nothing is visible until the commit,
 * which carries metadata, headers and tags explicitly. Put Block From URL has no source
 * if-match, so the source's ETag is read again before committing: ETags never repeat, so
 * any change during staging is caught there.
 */
export async function blockCopy(job: BlobJob, blockSizeBytes: number, blockCount: number, concurrency: number): Promise<BlobGetPropertiesResponse> {
  const { head, options, log } = job;
  const block = job.dst.client.getBlockBlobClient();
  const size = head.contentLength ?? 0;
  const ids = size === 0 ? [] : Array.from({ length: blockCount }, (_, i) => Buffer.from(`copied-object-${String(i).padStart(6, "0")}`).toString("base64"));
  const stop = new AbortController();
  const signal = AbortSignal.any([job.signal, stop.signal]);
  let next = 0;
  let staged = 0;
  const worker = async () => {
    for (let i = next++; i < ids.length && !signal.aborted; i = next++) {
      const offset = i * blockSizeBytes;
      await block.stageBlockFromURL(ids[i], job.sourceUrl, offset, Math.min(blockSizeBytes, size - offset), { abortSignal: signal });
      staged++;
      log.progress(`staged ${staged}/${ids.length} blocks (${formatBytes(Math.min(staged * blockSizeBytes, size))} of ${formatBytes(size)})`);
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
  await block.commitBlockList(ids, {
    abortSignal: job.signal,
    metadata: options.metadata ?? head.metadata,
    tags: job.tags,
    tier: options.accessTier,
    blobHTTPHeaders: {
      blobContentType: options.contentType ?? head.contentType,
      blobCacheControl: options.cacheControl ?? head.cacheControl,
      blobContentDisposition: options.contentDisposition ?? head.contentDisposition,
      blobContentEncoding: options.contentEncoding ?? head.contentEncoding,
      blobContentLanguage: options.contentLanguage ?? head.contentLanguage,
      blobContentMD5: head.contentMD5,
    },
  });
  return job.dst.client.getProperties({ abortSignal: job.signal });
}

async function assertSourceUnchanged(job: BlobJob, cause?: unknown): Promise<void> {
  const now = await job.src.client.getProperties({ abortSignal: job.signal }).catch(() => undefined);
  if (now?.etag === job.head.etag) return;
  throw new CopyError("SourceChanged", `${blobUri(job.source)} changed while its blocks were being copied (ETag ${now?.etag ?? "gone"}, was ${job.head.etag}); nothing was committed`, { cause });
}

function stagedSoFar(reason: CopyError, staged: number, total: number): CopyError {
  return new CopyError(reason.code, `${reason.detail}; ${staged} of ${total} blocks had been staged and none was committed (Azure discards uncommitted blocks after 7 days)`, { cause: reason });
}
