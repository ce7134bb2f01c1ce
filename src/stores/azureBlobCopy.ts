import type { BlobClient, BlobGetPropertiesResponse } from "@azure/storage-blob";
import type { CopyOptions } from "../args";
import { CopyError, isCopyError } from "../errors";
import type { AzureBlobLocator, AzureCredentials } from "../locators";
import { abortReason, type Logger } from "../operation";
import { planBlobCopy, type BlobPlan } from "../plan";
import { formatBytes } from "../values";
import {
  abortRemoteCopy,
  cleanUpAfter,
  explainFailure,
  propertiesOrNone,
  sameCopySource,
  startCopy,
  waitForCopy,
  withoutQuery,
} from "./asyncCopy";
import { blobError, blobHandle, blobOf, blobState, blobUri } from "./azureBlob";
import { blockCopy, blockIds, syncCopy } from "./azureBlobSync";
import { contentHeaders } from "./copySources";
import type { CopyDriver, CopySource, DriverFactory, SourceReader, Written } from "./types";

/**
 * Any source to an Azure blob. The destination's service reads the source's URL: async Copy Blob
 * (polled with progress-driven backoff, aborted on signal), Copy Blob From URL, or Put Block From URL.
 */
export function toAzureBlob(readSource: SourceReader, handleFor = blobHandle): DriverFactory {
  return (request) => {
    const destination = blobOf(request.destination);
    const where = blobUri(destination);
    const { options, signal, log } = request;
    const dst = handleFor(destination, request.destinationCredentials as AzureCredentials | undefined);
    let before: BlobGetPropertiesResponse | undefined;
    let tags: Record<string, string> = {};
    let final: BlobGetPropertiesResponse | undefined;
    let started = false;
    let chosen: BlobPlan["strategy"] | undefined;
    const driver: CopyDriver<CopySource, BlobPlan> = {
      readSource: () =>
        readSource(request.source, { sourceCredentials: request.sourceCredentials, timeoutSeconds: options.timeoutSeconds, signal, log }),
      plan: (source) =>
        planBlobCopy({
          sizeBytes: source.contentLength,
          sameAccount: source.accountName === undefined || source.accountName === dst.accountName,
          blockBlob: source.blockBlob,
          strategy: options.strategy,
          partSizeBytes: options.partSizeBytes,
          concurrency: options.concurrency,
        }),
      async prepare(source, plan) {
        before = await propertiesOrNone(dst.client, signal, `Get Blob Properties on the destination ${where}`, "azureBlob");
        tags = options.tags ?? (await source.tags()) ?? {};
        // A pending async copy would block the synchronous paths (409 PendingCopyOperation); it is not ours to wait for.
        if (plan.strategy !== "copy" && before?.copyStatus === "pending" && before.copyId)
          await abortRemoteCopy(dst.client, before.copyId, log, where);
      },
      async start(source, plan) {
        started = true;
        chosen = plan.strategy;
        log.info(`copying ${source.label} to ${where}: ${formatBytes(source.contentLength)}, ${describePlan(plan)}`);
        const job = { dst, destination, source, tags, options, signal, log };
        switch (plan.strategy) {
          case "copy":
            return { status: "pending", copyId: await startOrAdopt(dst.client, before, source, options, tags, signal, log, where) };
          case "sync": {
            const { props, copyId } = await syncCopy(job);
            final = props;
            return { status: "success", ...(copyId ? { copyId } : {}), written: writtenOf(props) };
          }
          case "blocks":
            final = await blockCopy(job, plan.blockSizeBytes, plan.blockCount, plan.concurrency);
            return { status: "success", written: writtenOf(final) };
        }
      },
      async wait(operation) {
        final = await waitForCopy(dst.client, operation.copyId!, options, signal, log);
        return { status: "success", copyId: operation.copyId, written: writtenOf(final) };
      },
      async finish(source, plan) {
        // Azure pins only Azure sources; any other is checked again now that the copy is done.
        if (!source.ifMatch && plan.strategy !== "blocks" && source.etag && (await source.etagNow()) !== source.etag) {
          throw new CopyError(
            "SourceChanged",
            `${source.label} changed while it was being copied; the copy may hold either content, so it is not kept`,
          );
        }
        if (plan.strategy === "blocks") return;
        // Copy Blob and Copy Blob From URL take "no metadata given" as "copy the source's": `metadata: {}` is cleared after.
        if (isEmpty(options.metadata)) {
          await dst.client.setMetadata({}, { abortSignal: signal });
          final = await dst.client.getProperties({ abortSignal: signal });
        }
        final = await applyHeaders(dst.client, final!, options, signal);
      },
      describe: async () => final && blobState(final),
      async verify(source, plan) {
        verifyProperties(source, final!, destination, plan.strategy !== "blocks");
        // The commit carried the source's Content-MD5, so comparing it proves nothing: the committed blocks are checked instead.
        if (plan.strategy === "blocks") await verifyBlocks(dst.client, source, plan, destination, signal);
      },
      async explain(e, source) {
        if (isCopyError(e)) return explainFailure(e, source);
        return signal.aborted ? abortReason(signal) : blobError(e, `copying to ${where}`, "destination");
      },
      async cleanUp(operation, error) {
        if (!operation?.copyId && !started) return {};
        const how = { copyId: operation?.copyId, existed: before !== undefined, asyncCopy: chosen === "copy" };
        return cleanUpAfter(dst.client, how, error, log, where);
      },
    };
    return driver as unknown as CopyDriver;
  };
}

function writtenOf(props: BlobGetPropertiesResponse): Written {
  const state = blobState(props);
  return {
    etag: state.etag,
    ...(state.versionId ? { versionId: state.versionId } : {}),
    ...(state.lastModified ? { lastModified: state.lastModified } : {}),
  };
}

function describePlan(plan: BlobPlan): string {
  switch (plan.strategy) {
    case "copy":
      return "async Copy Blob";
    case "sync":
      return "one Copy Blob From URL";
    case "blocks":
      return `${plan.blockCount} blocks of ${formatBytes(plan.blockSizeBytes)} by Put Block From URL, ${plan.concurrency} at a time`;
  }
}

/**
 * Starts Copy Blob, pinned to the source ETag that was read. A destination already copying
 * from this source (a crashed run) is adopted; one copying from elsewhere is aborted first.
 */
async function startOrAdopt(
  client: BlobClient,
  before: BlobGetPropertiesResponse | undefined,
  source: CopySource,
  options: CopyOptions,
  tags: Record<string, string>,
  signal: AbortSignal,
  log: Logger,
  where: string,
): Promise<string> {
  const sourceUrl = source.url;
  if (before?.copyStatus === "pending" && before.copyId) {
    if (sameCopySource(before.copySource, sourceUrl)) {
      log.info(`${where} is already copying from this source (copy ${before.copyId}); waiting for it`);
      return before.copyId;
    }
    log.warn(`${where} had a pending copy from ${withoutQuery(before.copySource)}; aborting it to copy from this resource's source`);
    await abortRemoteCopy(client, before.copyId, log, where);
  }
  return startCopy(
    async () => {
      const poller = await client.beginCopyFromURL(sourceUrl, {
        abortSignal: signal,
        metadata: options.metadata ?? (source.serviceCopiesMetadata ? undefined : source.metadata),
        tags,
        tier: options.accessTier,
        ...(source.ifMatch ? { sourceConditions: { ifMatch: source.ifMatch } } : {}),
      });
      // The state is a BlobBeginCopyFromUrlPollState at run time; its type hides copyId.
      const state = poller.getOperationState() as { copyId?: string; result?: { copyId?: string } };
      const copyId = state.copyId ?? state.result?.copyId;
      if (!copyId) throw new CopyError("CopyFailed", `Copy Blob on ${where} returned no copy id`);
      return copyId;
    },
    client,
    sourceUrl,
    signal,
    log,
    where,
    "azureBlob",
  );
}

/** Copy Blob cannot set content headers: apply the given ones afterwards, keeping the rest. */
async function applyHeaders(
  client: BlobClient,
  props: BlobGetPropertiesResponse,
  options: CopyOptions,
  signal: AbortSignal,
): Promise<BlobGetPropertiesResponse> {
  const h = contentHeaders(options, props);
  if (!h.changed) return props;
  await client.setHTTPHeaders(
    {
      blobContentType: h.contentType,
      blobCacheControl: h.cacheControl,
      blobContentDisposition: h.contentDisposition,
      blobContentEncoding: h.contentEncoding,
      blobContentLanguage: h.contentLanguage,
      blobContentMD5: h.contentMD5,
    },
    { abortSignal: signal },
  );
  return client.getProperties({ abortSignal: signal });
}

function verifyProperties(source: CopySource, destination: BlobGetPropertiesResponse, to: AzureBlobLocator, md5: boolean): void {
  if (source.contentLength !== (destination.contentLength ?? 0)) {
    throw new CopyError(
      "CopyFailed",
      `verify: ${blobUri(to)} is ${destination.contentLength} bytes but ${source.label} is ${source.contentLength}`,
    );
  }
  const a = source.contentMD5 && Buffer.from(source.contentMD5).toString("base64");
  const b = destination.contentMD5 && Buffer.from(destination.contentMD5).toString("base64");
  if (md5 && a && b && a !== b)
    throw new CopyError("CopyFailed", `verify: ${blobUri(to)} has Content-MD5 ${b} but ${source.label} has ${a}`);
}

/** A blocks copy: the committed block list must be the blocks staged, in order, each of its planned size. */
async function verifyBlocks(
  client: BlobClient,
  source: CopySource,
  plan: BlobPlan,
  to: AzureBlobLocator,
  signal: AbortSignal,
): Promise<void> {
  if (plan.strategy !== "blocks") return;
  const { committedBlocks = [] } = await client.getBlockBlobClient().getBlockList("committed", { abortSignal: signal });
  const expected = blockIds(source.contentLength, plan.blockCount);
  const sizes = committedBlocks.map((b) => b.size);
  const wanted = expected.map((_, i) => Math.min(plan.blockSizeBytes, source.contentLength - i * plan.blockSizeBytes));
  const same =
    committedBlocks.length === expected.length && committedBlocks.every((b, i) => b.name === expected[i] && sizes[i] === wanted[i]);
  if (!same) {
    throw new CopyError(
      "CopyFailed",
      `verify: ${blobUri(to)} holds ${committedBlocks.length} committed blocks (${sizes.reduce((a, b) => a + b, 0)} bytes), ` +
        `not the ${expected.length} blocks (${source.contentLength} bytes) staged from ${source.label}`,
    );
  }
}

export function isEmpty(map: Record<string, string> | undefined): boolean {
  return map !== undefined && Object.keys(map).length === 0;
}
