import { setTimeout as sleep } from "node:timers/promises";
import type { CopyOptions } from "../args";
import { CopyError } from "../errors";
import { abortReason, type Logger } from "../operation";
import { DEFAULT_POLL_SCHEDULE, nextPollDelayMs, parseCopyProgress, type ProgressReading } from "./pollSchedule";
import { formatBytes } from "../values";
import { azureFailure, codeOf, statusOf, type AzureKind } from "./azure";
import type { CopySource, LeftBehind } from "./types";

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
    if (props?.copyStatus !== "pending" || !props.copyId || !sameCopySource(props.copySource, sourceUrl)) throw e;
    log.info(`${where} is already copying from this source (copy ${props.copyId}, started by a retried request); waiting for it`);
    return props.copyId;
  }
}

/** A URL's signature and SAS parameters: they differ per copy, and say nothing about which object is read. */
const SIGNATURE =
  /^(sig|se|st|sp|sv|sr|spr|sip|si|sdd|ses|srt|ss|skoid|sktid|skt|ske|sks|skv|saoid|suoid|scid|rscc|rscd|rsce|rscl|rsct|x-amz-.*)$/i;

/**
 * Whether a pending copy reads the same object as ours: the same URL, snapshot, version (Azure's `versionid`,
 * a presigned S3 URL's `versionId`) and share snapshot; only signatures may differ.
 */
export function sameCopySource(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && copySourceKey(a) === copySourceKey(b);
}

function copySourceKey(url: string): string {
  try {
    const parsed = new URL(url);
    const kept = [...parsed.searchParams].filter(([k]) => !SIGNATURE.test(k)).map(([k, v]) => `${k.toLowerCase()}=${v}`);
    return `${parsed.origin}${parsed.pathname}?${kept.sort().join("&")}`;
  } catch {
    return url;
  }
}

/** A URL fit for a log line: the query, which may carry a signature, is dropped. */
export function withoutQuery(url: string | undefined): string {
  return (url ?? "").split("?")[0];
}

/** Aborts a copy a killed run left pending on the destination; returns how many (0 or 1). */
export async function abortLeftoverCopy<T extends CopyProperties>(
  client: PropertiesClient<T>,
  abort: (copyId: string) => Promise<unknown>,
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
): Promise<boolean> {
  try {
    await client.abortCopyFromURL(copyId, { abortSignal: AbortSignal.timeout(3500) });
    log.info(`aborted the pending copy ${copyId} on ${where}`);
    return true;
  } catch (e) {
    if (codeOf(e) === "NoPendingCopyOperation") {
      log.info(`the copy ${copyId} on ${where} had already ended`);
      return true;
    }
    log.warn(
      `could not abort the copy ${copyId} on ${where} (${(e as Error).message}); it may still be running, and the next create or ` +
        `delete of this resource aborts it`,
    );
    return false;
  }
}

/**
 * After a failed or interrupted copy into Azure: abort the remote copy if it may still run, then remove the
 * destination when this copy created it, or say what an async copy left of one that existed (Azure empties it).
 */
export async function cleanUpAfter(
  client: {
    abortCopyFromURL(copyId: string, options: { abortSignal: AbortSignal }): Promise<unknown>;
    deleteIfExists(options: { abortSignal: AbortSignal }): Promise<{ succeeded: boolean }>;
  },
  how: { copyId?: string; existed: boolean; asyncCopy: boolean },
  error: CopyError,
  log: Logger,
  where: string,
): Promise<LeftBehind> {
  const interrupted = error.code === "CopyAborted" || error.code === "CopyTimedOut";
  const running = !!how.copyId && interrupted && !(await abortRemoteCopy(client, how.copyId, log, where));
  // A copy still running is left alone: the state says pending, and the next create or delete aborts it.
  if (running) return { running };
  if (!how.existed) {
    const removed = await client.deleteIfExists({ abortSignal: AbortSignal.timeout(3000) }).then(
      (r) => r.succeeded,
      (e: unknown) => {
        log.warn(`could not remove ${where}, which this copy had created (${codeOf(e) ?? (e as Error).message})`);
        return false;
      },
    );
    if (removed) log.info(`removed ${where}, which the unfinished copy had created`);
  } else if (how.asyncCopy && how.copyId) {
    log.warn(`${where} existed before and is now empty with its metadata, as Azure leaves an unfinished copy; the next up copies again`);
  }
  return { running };
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
