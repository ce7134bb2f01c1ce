import type { CopyOptions } from "../args";
import { CopyError, isCopyError } from "../errors";
import type { AzureCredentials, AzureFileLocator } from "../locators";
import { abortReason, type Logger } from "../operation";
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
import { azureState } from "./azure";
import { fileError, fileFailure, fileHandle, fileOf, fileUri, type FileHandle } from "./azureFile";
import { contentHeaders } from "./copySources";
import type { CopyDriver, CopySource, DriverFactory, SourceReader } from "./types";

/** Into an Azure file with async Copy File: directories made as needed, polled, aborted on signal. */
export function toAzureFile(readSource: SourceReader, handleFor = fileHandle): DriverFactory {
  return (request) => {
    const destination = fileOf(request.destination);
    const { options, signal, log } = request;
    const dst = handleFor(destination, request.destinationCredentials as AzureCredentials | undefined);
    const where = fileUri(destination);
    type Props = Awaited<ReturnType<FileHandle["client"]["getProperties"]>>;
    let before: Props | undefined;
    let final: Props | undefined;
    const driver: CopyDriver<CopySource> = {
      readSource: () =>
        readSource(request.source, { sourceCredentials: request.sourceCredentials, timeoutSeconds: options.timeoutSeconds, signal, log }),
      plan: () => ({ strategy: "copy" }),
      async prepare() {
        before = await propertiesOrNone(dst.client, signal, `Get File Properties on the destination ${where}`, "azureFile");
        if (!before) await makeDirectories(dst, destination, signal);
      },
      async start(source) {
        log.info(`copying ${source.label} to ${where}: ${formatBytes(source.contentLength)}, async Copy File`);
        return { status: "pending", copyId: await startOrAdopt(dst, before, source, options, signal, log, where) };
      },
      async wait(operation) {
        final = await waitForCopy(dst.client, operation.copyId!, options, signal, log);
        return { status: "success", copyId: operation.copyId, written: { etag: azureState(final).etag, ...lastModifiedOf(final) } };
      },
      async finish(source) {
        if (source.etag && (await source.etagNow()) !== source.etag) {
          throw new CopyError(
            "SourceChanged",
            `${source.label} changed while it was being copied; the copy may hold either content, so it is not kept`,
          );
        }
        // Copy File takes "no metadata given" as "copy the source's": `metadata: {}` is cleared after.
        if (options.metadata && Object.keys(options.metadata).length === 0) {
          await dst.client.setMetadata({}, { abortSignal: signal });
          final = await dst.client.getProperties({ abortSignal: signal });
        }
        final = await applyHeaders(dst, final!, options, signal);
      },
      describe: async () => final && azureState(final),
      verify(source, _plan, after) {
        if (source.contentLength !== after.contentLength)
          throw new CopyError(
            "CopyFailed",
            `verify: ${where} is ${after.contentLength} bytes but ${source.label} is ${source.contentLength}`,
          );
      },
      async explain(e, source) {
        if (isCopyError(e)) return explainFailure(e, source);
        return signal.aborted ? abortReason(signal) : fileError(e, `copying to ${where}`, "destination");
      },
      async cleanUp(operation, error) {
        if (!operation?.copyId) return {};
        return cleanUpAfter(dst.client, { copyId: operation.copyId, existed: before !== undefined, asyncCopy: true }, error, log, where);
      },
    };
    return driver as unknown as CopyDriver;
  };
}

function lastModifiedOf(props: { lastModified?: Date }): { lastModified?: string } {
  return props.lastModified ? { lastModified: props.lastModified.toISOString() } : {};
}

/** Copy File needs the file's directory; create each missing level. */
async function makeDirectories(dst: FileHandle, destination: AzureFileLocator, signal: AbortSignal): Promise<void> {
  const parts = destination.path.replace(/^\/+/, "").split("/").slice(0, -1).filter(Boolean);
  let directory = dst.service.getShareClient(destination.share).rootDirectoryClient;
  for (const part of parts) {
    directory = directory.getDirectoryClient(part);
    await directory.createIfNotExists({ abortSignal: signal }).catch((e: unknown) => {
      throw fileFailure(e, signal, `Create Directory ${part} in ${fileUri(destination)}`, "destination");
    });
  }
}

async function startOrAdopt(
  dst: FileHandle,
  before: { copyStatus?: string; copyId?: string; copySource?: string } | undefined,
  source: CopySource,
  options: CopyOptions,
  signal: AbortSignal,
  log: Logger,
  where: string,
): Promise<string> {
  if (before?.copyStatus === "pending" && before.copyId) {
    if (sameCopySource(before.copySource, source.url)) {
      log.info(`${where} is already copying from this source (copy ${before.copyId}); waiting for it`);
      return before.copyId;
    }
    log.warn(`${where} had a pending copy from ${withoutQuery(before.copySource)}; aborting it to copy from this resource's source`);
    await abortRemoteCopy(dst.client, before.copyId, log, where);
  }
  return startCopy(
    async () => {
      const started = await dst.client.startCopyFromURL(source.url, {
        abortSignal: signal,
        metadata: options.metadata ?? (source.serviceCopiesMetadata ? undefined : source.metadata),
      });
      if (!started.copyId) throw new CopyError("CopyFailed", `Copy File on ${where} returned no copy id`);
      return started.copyId;
    },
    dst.client,
    source.url,
    signal,
    log,
    where,
    "azureFile",
  );
}

async function applyHeaders<T extends Parameters<typeof contentHeaders>[1]>(
  dst: FileHandle,
  props: T,
  options: CopyOptions,
  signal: AbortSignal,
): Promise<T> {
  const h = contentHeaders(options, props);
  if (!h.changed) return props;
  await dst.client.setHttpHeaders(
    {
      fileContentType: h.contentType,
      fileCacheControl: h.cacheControl,
      fileContentDisposition: h.contentDisposition,
      fileContentEncoding: h.contentEncoding,
      fileContentLanguage: h.contentLanguage,
      fileContentMD5: h.contentMD5,
    },
    { abortSignal: signal },
  );
  return (await dst.client.getProperties({ abortSignal: signal })) as unknown as T;
}
