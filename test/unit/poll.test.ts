import { diagnostic, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { DEFAULT_POLL_SCHEDULE, nextPollDelayMs, parseCopyProgress, type ProgressReading } from "../../dist/stores/pollSchedule.js";

/**
 * Polls a simulated copy that waits `queuedMs` at 0 bytes, then progresses linearly and ends at
 * `durationMs`; returns requests and lateness. Readings are kept as asyncCopy.ts keeps them: a new
 * one only when the bytes moved.
 */
function simulate(durationMs: number, total = 10 * 1024 ** 3, queuedMs = 0) {
  let now = 0;
  let polls = 0;
  let previous: ProgressReading | undefined;
  let latest: ProgressReading | undefined;
  for (;;) {
    polls++;
    if (now >= durationMs) return { requests: polls, lateMs: now - durationMs };
    const bytes = Math.floor((total * Math.max(0, now - queuedMs)) / (durationMs - queuedMs));
    if (bytes !== latest?.bytes) [previous, latest] = [latest, { atMs: now, bytes, total }];
    now += nextPollDelayMs(DEFAULT_POLL_SCHEDULE, polls, previous, latest);
  }
}

test("a 10-minute copy with progress is noticed within 1 s of finishing, in at most 30 status requests", () => {
  const { requests, lateMs } = simulate(10 * 60_000);
  diagnostic(`10-minute copy: ${requests} status requests, noticed ${lateMs} ms after it finished`);
  assert.ok(requests <= 30, `${requests} requests`);
  assert.ok(lateMs <= 1000, `${lateMs} ms late`);
});

test("short and long copies alike are noticed within a second", () => {
  for (const duration of [2_000, 10_000, 120_000, 3_600_000]) {
    const { requests, lateMs } = simulate(duration);
    diagnostic(`${duration / 1000} s copy: ${requests} status requests, ${lateMs} ms late`);
    assert.ok(lateMs <= 1000, `${duration} ms copy: ${lateMs} ms late`);
    assert.ok(requests <= 40, `${duration} ms copy: ${requests} requests`);
  }
});

test("a copy queued at 0 bytes before it progresses is still noticed within a second (bench P3 found minutes)", () => {
  for (const duration of [10_000, 120_000, 600_000]) {
    for (const queuedShare of [0.05, 0.5]) {
      const { requests, lateMs } = simulate(duration, 10 * 1024 ** 3, duration * queuedShare);
      diagnostic(`${duration / 1000} s copy, queued ${queuedShare * 100} %: ${requests} status requests, ${lateMs} ms late`);
      assert.ok(lateMs <= 1000, `${duration} ms copy queued ${queuedShare}: ${lateMs} ms late`);
      // Half the time spent queued is polled blind, up to every 30 s: a few more requests.
      assert.ok(requests <= (queuedShare > 0.1 ? 35 : 30), `${duration} ms copy queued ${queuedShare}: ${requests} requests`);
    }
  }
});

test("a rate is never taken from a 0-byte reading, and never trusted for more than twice its span", () => {
  const total = 1000;
  assert.equal(nextPollDelayMs(DEFAULT_POLL_SCHEDULE, 6, { atMs: 0, bytes: 0, total }, { atMs: 10_000, bytes: 10, total }), 2000, "from 0 bytes: no rate; moving, so 2 s for a second reading");
  assert.equal(nextPollDelayMs(DEFAULT_POLL_SCHEDULE, 2, { atMs: 0, bytes: 10, total }, { atMs: 1000, bytes: 20, total }), 2000, "98 s left, but the rate is 1 s old: 2 s");
  assert.equal(nextPollDelayMs(DEFAULT_POLL_SCHEDULE, 2, { atMs: 0, bytes: 10, total }, { atMs: 100_000, bytes: 900, total }), 5618, "half the time left");
});

test("without progress the delay backs off from 0.5 s to the 30 s ceiling", () => {
  const delays = Array.from({ length: 9 }, (_, polls) => nextPollDelayMs(DEFAULT_POLL_SCHEDULE, polls));
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.equal(nextPollDelayMs(DEFAULT_POLL_SCHEDULE, 3, { atMs: 0, bytes: 0, total: 100 }, { atMs: 1000, bytes: 0, total: 100 }), 4000, "no movement: back off");
});

test("pollIntervalSeconds fixes the interval", () => {
  assert.equal(nextPollDelayMs({ ...DEFAULT_POLL_SCHEDULE, fixedMs: 10_000 }, 5), 10_000);
});

test("x-ms-copy-progress parses, and junk does not", () => {
  assert.deepEqual(parseCopyProgress("512/1024", 7), { atMs: 7, bytes: 512, total: 1024 });
  assert.equal(parseCopyProgress("half", 7), undefined);
  assert.equal(parseCopyProgress(undefined, 7), undefined);
});
