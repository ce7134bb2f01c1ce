/** When to look again at an asynchronous Azure copy (Copy Blob, Copy File). Pure. */

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
