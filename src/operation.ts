import type { WireInputs } from "./args";
import { CopyError, isCopyError } from "./errors";

export type CopyStatus = "success" | "pending" | "failed" | "aborted";

/**
 * The resource's outputs, which are also everything a later diff, read, update or delete
 * knows: those calls receive old outputs only. JSON-safe, with no undefined values.
 */
export interface CopyOutputs {
  /** The inputs the copy was made with, less credentials (those are kept in their own secret fields). */
  args: Omit<WireInputs, "sourceCredentials" | "destinationCredentials">;
  sourceCredentials?: WireInputs["sourceCredentials"];
  destinationCredentials?: WireInputs["destinationCredentials"];
  etag?: string;
  versionId?: string;
  /** Versions this resource wrote before the current one; delete removes these too, and no others. */
  priorVersionIds?: string[];
  sourceEtag?: string;
  sourceVersionId?: string;
  contentLength?: number;
  lastModified?: string;
  copyId?: string;
  copyStatus: CopyStatus;
  strategy?: string;
  durationMs?: number;
  /** Set by refresh when the destination no longer holds what this resource wrote. */
  destinationDrift?: string;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  /** Short-lived progress lines (Pulumi shows them as ephemeral). */
  progress(message: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, progress() {} };

/**
 * One signal for one operation: fires when the timeout passes or the parent (process
 * shutdown) fires, with a CopyError as its reason so callers can report which.
 */
export function operationSignal(timeoutSeconds: number, parent: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new CopyError("CopyTimedOut", `the copy did not finish within timeoutSeconds (${timeoutSeconds} s)`));
  }, timeoutSeconds * 1000);
  const onParent = () => controller.abort(parent.reason);
  if (parent.aborted) onParent();
  else parent.addEventListener("abort", onParent, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener("abort", onParent);
    },
  };
}

/** The CopyError that explains why `signal` fired. */
export function abortReason(signal: AbortSignal): CopyError {
  const reason: unknown = signal.reason;
  if (isCopyError(reason)) return reason;
  return new CopyError("CopyAborted", `the copy was aborted (${reason instanceof Error ? reason.message : String(reason)})`);
}

/** Drops undefined values, which the provider host cannot send (Struct.fromJavaScript rejects them). */
export function withoutUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** One reading of an asynchronous copy's progress (`x-ms-copy-progress: bytes/total`). */
export interface ProgressReading {
  atMs: number;
  bytes: number;
  total: number;
}

export interface PollSchedule {
  /** A fixed interval chosen by the user (pollIntervalSeconds); no estimate then. */
  fixedMs?: number;
  minMs: number;
  /** The longest wait while backing off blind. */
  maxMs: number;
  /** The longest wait on an estimate: halving the time left already bounds how late we notice. */
  maxEstimatedMs: number;
}

export const DEFAULT_POLL_SCHEDULE: PollSchedule = { minMs: 500, maxMs: 30_000, maxEstimatedMs: 300_000 };

/**
 * When to look again. From two progress readings it estimates the time left and waits half
 * of it, so a long copy is polled rarely and its end is noticed within about `minMs`.
 * Without a usable rate it backs off exponentially from `minMs`.
 * The rate is not trusted beyond what it saw: a reading at 0 bytes may predate a queued copy's
 * start (its rate would be too low, and the wait minutes too long: bench P3 measured 110–160 s
 * late on a 2-minute copy), and no wait exceeds twice the interval the rate was measured over.
 * Once bytes move without a rate, it looks again after 4 × `minMs` for a second reading.
 */
export function nextPollDelayMs(schedule: PollSchedule, polls: number, previous?: ProgressReading, latest?: ProgressReading): number {
  if (schedule.fixedMs !== undefined) return schedule.fixedMs;
  const clamp = (ms: number, max: number) => Math.min(max, Math.max(schedule.minMs, Math.round(ms)));
  if (previous && latest && previous.bytes > 0 && latest.total > 0 && latest.bytes > previous.bytes && latest.atMs > previous.atMs) {
    const spanMs = latest.atMs - previous.atMs;
    const remainingMs = (latest.total - latest.bytes) / ((latest.bytes - previous.bytes) / spanMs);
    return clamp(Math.min(remainingMs / 2, 2 * spanMs), schedule.maxEstimatedMs);
  }
  // Moving, with no rate yet (it was queued, or this is the first reading): look again soon for one.
  if (latest && latest.bytes > 0) return clamp(4 * schedule.minMs, schedule.maxMs);
  return clamp(schedule.minMs * 2 ** Math.min(polls, 10), schedule.maxMs);
}

/** Parses `x-ms-copy-progress` ("bytes/total"); undefined when absent or malformed. */
export function parseCopyProgress(value: string | undefined, atMs: number): ProgressReading | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(value ?? "");
  return match ? { atMs, bytes: Number(match[1]), total: Number(match[2]) } : undefined;
}
