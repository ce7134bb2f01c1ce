import { setTimeout as sleep } from "node:timers/promises";
import type { CopyOptions } from "../args";
import { CopyError } from "../errors";
import { abortReason, type Logger } from "../operation";
import { DEFAULT_POLL_SCHEDULE, nextPollDelayMs, parseCopyProgress, type ProgressReading } from "./pollSchedule";
import { formatBytes } from "../values";
import { azureFailure, codeOf, statusOf, type AzureKind } from "./azure";
import type { CopySource } from "./types";

/** What Get Blob Properties and Get File Properties both say of a copy. */
export interface CopyProperties {
  copyId?: string;
  copyStatus?: string;
  copyProgress?: string;
  copyStatusDescription?: string;
}

/**
 * Polls the destination's properties until its async copy ends, with progress-driven backoff.
 * (The Blob SDK's poller never ends on `aborted`, so it is not used.)
 */
export async function waitForCopy<T extends CopyProperties>(
  client: { getProperties(options: { abortSignal: AbortSignal }): Promise<T> },
  copyId: string,
  options: CopyOptions,
  signal: AbortSignal,
  log: Logger,
): Promise<T> {
  const schedule = { ...DEFAULT_POLL_SCHEDULE, ...(options.pollIntervalSeconds ? { fixedMs: options.pollIntervalSeconds * 1000 } : {}) };
  let previous: ProgressReading | undefined;
  let latest: ProgressReading | undefined;
  try {
    return await poll();
  } catch (e) {
    if (!signal.aborted) throw e;
    const reason = abortReason(signal);
    const sofar = latest ? `${formatBytes(latest.bytes)} of ${formatBytes(latest.total)}` : "no progress reported yet";
    throw new CopyError(reason.code, `${reason.detail}; the copy ${copyId} had got to ${sofar}, and is aborted`, { cause: reason });
  }

  async function poll(): Promise<T> {
    for (let polls = 0; ; polls++) {
      const props = await client.getProperties({ abortSignal: signal });
      if (props.copyId && props.copyId !== copyId) {
        throw new CopyError("CopyFailed", `another copy (${props.copyId}) replaced this one (${copyId}) on the destination`);
      }
      switch (props.copyStatus) {
        case "success":
        case undefined:
          return props;
        case "failed":
          throw new CopyError("CopyFailed", `the service failed the copy ${copyId}: ${props.copyStatusDescription ?? "no description"}`);
        case "aborted":
          throw new CopyError(
            "CopyAborted",
            `the copy ${copyId} was aborted outside this resource: ${props.copyStatusDescription ?? "no description"}`,
          );
        case "pending": {
          const reading = parseCopyProgress(props.copyProgress, Date.now());
          if (reading && reading.bytes !== latest?.bytes) {
            log.progress(`copy ${copyId}: ${formatBytes(reading.bytes)} of ${formatBytes(reading.total)}`);
            [previous, latest] = [latest, reading];
          }
          await sleep(nextPollDelayMs(schedule, polls, previous, latest), undefined, { signal });
          break;
        }
        default:
          throw new CopyError("CopyFailed", `unexpected copy status ${String(props.copyStatus)}`);
      }
    }
  }
}

interface PropertiesClient<T> {
  getProperties(options: { abortSignal: AbortSignal }): Promise<T>;
}

/** A destination's properties, or undefined while it does not exist. */
export function propertiesOrNone<T>(
  client: PropertiesClient<T>,
  signal: AbortSignal,
  doing: string,
  kind: AzureKind,
): Promise<T | undefined> {
  return client.getProperties({ abortSignal: signal }).catch((e: unknown) => {
    if (statusOf(e) === 404) return undefined;
    throw azureFailure(e, signal, doing, "destination", kind);
  });
}

/**
 * Starts Copy Blob / Copy File. The SDK retries a start whose answer was lost (a reset, a 500);
 * when the first attempt did reach the service, the retry meets that copy (409
 * PendingCopyOperation): it is ours when it copies from this source, so it is adopted.
 */
export async function startCopy(
  start: () => Promise<string>,
  client: PropertiesClient<CopyProperties & { copySource?: string }>,
  sourceUrl: string,
  signal: AbortSignal,
  log: Logger,
  where: string,
  kind: AzureKind,
): Promise<string> {
  try {
    return await start();
  } catch (e) {
    if (codeOf(e) !== "PendingCopyOperation" || signal.aborted) throw e;
    const props = await propertiesOrNone(client, signal, `Get Properties on ${where}`, kind);
    if (props?.copyStatus !== "pending" || !props.copyId || withoutQuery(props.copySource) !== withoutQuery(sourceUrl)) throw e;
    log.info(`${where} is already copying from this source (copy ${props.copyId}, started by a retried request); waiting for it`);
    return props.copyId;
  }
}

export function withoutQuery(url: string | undefined): string {
  return (url ?? "").split("?")[0];
}

/** Aborts a copy a killed run left pending on the destination; returns how many (0 or 1). */
export async function abortLeftoverCopy<T extends CopyProperties>(
  client: PropertiesClient<T>,
  abort: (copyId: string) => Promise<void>,
  signal: AbortSignal,
  where: string,
  kind: AzureKind,
): Promise<number> {
  const props = await propertiesOrNone(client, signal, `Get Properties on ${where}`, kind);
  if (props?.copyStatus !== "pending" || !props.copyId) return 0;
  await abort(props.copyId);
  return 1;
}

/**
 * Abort Copy Blob / Abort Copy File, within the shutdown budget. "No pending copy" (409) means it
 * already ended, which is fine; any other failure is left for the next create or delete.
 */
export async function abortRemoteCopy(
  client: { abortCopyFromURL(copyId: string, options: { abortSignal: AbortSignal }): Promise<unknown> },
  copyId: string,
  log: Logger,
  where: string,
): Promise<void> {
  try {
    await client.abortCopyFromURL(copyId, { abortSignal: AbortSignal.timeout(3500) });
    log.info(`aborted the pending copy ${copyId} on ${where}`);
  } catch (e) {
    if (codeOf(e) === "NoPendingCopyOperation") return void log.info(`the copy ${copyId} on ${where} had already ended`);
    log.warn(
      `could not abort the copy ${copyId} on ${where} (${(e as Error).message}); the next create or delete of this resource aborts it`,
    );
  }
}

/**
 * Azure fails a copy whose source is modified while it runs, and its description wording varies:
 * a failed copy whose source ETag has since moved is reported as what it is, SourceChanged.
 */
export async function explainFailure(error: CopyError, source: CopySource | undefined): Promise<CopyError> {
  if (error.code !== "CopyFailed" || !source?.etag) return error;
  const now = await source.etagNow().catch(() => source.etag);
  if (now === source.etag) return error;
  return new CopyError(
    "SourceChanged",
    `${source.label} changed while it was being copied (ETag ${source.etag}, now ${now || "gone"}); ${error.detail}`,
    { cause: error },
  );
}
