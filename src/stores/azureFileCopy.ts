import type { AzureCredentials, AzureFileLocator, CopyOptions } from "../args";
import { CopyError, isCopyError } from "../errors";
import { abortReason, type Logger } from "../operation";
import { formatBytes } from "../plan";
import { blobError, blobFailure, blobState, codeOf } from "./azureBlob";
import { fileHandle, fileOf, fileUri, type FileHandle } from "./azureFile";
import { abortRemoteCopy, explainFailure, propertiesOrNone, startCopy, waitForCopy, withoutQuery } from "./asyncCopy";
import { contentHeaders, readPinnedSource, type CopySource, type SourceReader } from "./copySources";
import type { CopyOutcome, CopyRequest } from "./types";

/** Into an Azure file with async Copy File: directories made as needed, polled, aborted on signal. */
export function toAzureFile(readSource: SourceReader, handleFor = fileHandle) {
  return async (request: CopyRequest): Promise<CopyOutcome> => {
    const destination = fileOf(request.destination);
    const { options, signal, log } = request;
    const dst = handleFor(destination, request.destinationCredentials as AzureCredentials | undefined);
    const where = fileUri(destination);
    let copyId: string | undefined;
    let source: CopySource | undefined;
    let existed = false;
    try {
      source = await readPinnedSource(readSource, request.source, options.sourceEtag, { sourceCredentials: request.sourceCredentials, timeoutSeconds: options.timeoutSeconds, signal, log });
      const before = await propertiesOrNone(dst.client, signal, `Get File Properties on the destination ${where}`);
      existed = before !== undefined;
      if (!existed) await makeDirectories(dst, destination, signal);
      request.onStarted();
      log.info(`copying ${source.label} to ${where}: ${formatBytes(source.contentLength)}, async Copy File`);
      copyId = await startOrAdopt(dst, before, source, options, signal, log, where);
      request.onStarted({ copyId });
      const done = await waitForCopy(dst.client, copyId, options, signal, log);
      if (source.etag && (await source.etagNow()) !== source.etag) {
        throw new CopyError("SourceChanged", `${source.label} changed while it was being copied; the copy may hold either content, so it is not kept`);
      }
      const final = await applyHeaders(dst, done, options, signal);
      if (options.verify !== false && source.contentLength !== (final.contentLength ?? 0)) {
        throw new CopyError("CopyFailed", `verify: ${where} is ${final.contentLength} bytes but ${source.label} is ${source.contentLength}`);
      }
      return { ...blobState(final), sourceEtag: source.etag, strategy: "copy", copyId };
    } catch (e) {
      const error = isCopyError(e) ? await explainFailure(e, source) : signal.aborted ? abortReason(signal) : blobError(e, `copying to ${where}`, "destination");
      if (copyId) await cleanUp(dst, copyId, existed, error, log, where);
      throw error;
    }
  };
}

/** Copy File needs the file's directory; create each missing level. */
async function makeDirectories(dst: FileHandle, destination: AzureFileLocator, signal: AbortSignal): Promise<void> {
  const parts = destination.path.replace(/^\/+/, "").split("/").slice(0, -1).filter(Boolean);
  let directory = dst.service.getShareClient(destination.share).rootDirectoryClient;
  for (const part of parts) {
    directory = directory.getDirectoryClient(part);
    await directory.createIfNotExists({ abortSignal: signal }).catch((e: unknown) => {
      throw blobFailure(e, signal, `Create Directory ${part} in ${fileUri(destination)}`, "destination");
    });
  }
}

async function startOrAdopt(dst: FileHandle, before: { copyStatus?: string; copyId?: string; copySource?: string } | undefined, source: CopySource, options: CopyOptions, signal: AbortSignal, log: Logger, where: string): Promise<string> {
  if (before?.copyStatus === "pending" && before.copyId) {
    if (withoutQuery(before.copySource) === withoutQuery(source.url)) {
      log.info(`${where} is already copying from this source (copy ${before.copyId}); waiting for it`);
      return before.copyId;
    }
    log.warn(`${where} had a pending copy from ${withoutQuery(before.copySource)}; aborting it to copy from this resource's source`);
    await abortRemoteCopy(dst.client, before.copyId, log, where);
  }
  return startCopy(async () => {
    const started = await dst.client.startCopyFromURL(source.url, { abortSignal: signal, metadata: options.metadata ?? (source.serviceCopiesMetadata ? undefined : source.metadata) });
    if (!started.copyId) throw new CopyError("CopyFailed", `Copy File on ${where} returned no copy id`);
    return started.copyId;
  }, dst.client, source.url, signal, log, where);
}

async function applyHeaders<T extends Parameters<typeof contentHeaders>[1]>(dst: FileHandle, props: T, options: CopyOptions, signal: AbortSignal): Promise<T> {
  const h = contentHeaders(options, props);
  if (!h.changed) return props;
  await dst.client.setHttpHeaders(
    { fileContentType: h.contentType, fileCacheControl: h.cacheControl, fileContentDisposition: h.contentDisposition, fileContentEncoding: h.contentEncoding, fileContentLanguage: h.contentLanguage, fileContentMD5: h.contentMD5 },
    { abortSignal: signal },
  );
  return (await dst.client.getProperties({ abortSignal: signal })) as unknown as T;
}

/** Abort a copy still pending, then remove the empty file it leaves if this copy created it, or report it. */
async function cleanUp(dst: FileHandle, copyId: string, existed: boolean, error: CopyError, log: Logger, where: string): Promise<void> {
  if (error.code === "CopyAborted" || error.code === "CopyTimedOut") await abortRemoteCopy(dst.client, copyId, log, where);
  if (!existed) {
    const removed = await dst.client.deleteIfExists({ abortSignal: AbortSignal.timeout(3000) }).then((r) => r.succeeded, (e: unknown) => {
      log.warn(`could not remove the empty ${where} (${codeOf(e) ?? (e as Error).message})`);
      return false;
    });
    if (removed) log.info(`removed the empty ${where} left by the unfinished copy`);
  } else {
    log.warn(`${where} existed before and is now empty with its metadata, as Azure leaves an unfinished copy; the next up copies again`);
  }
}
