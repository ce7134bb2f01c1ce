import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_POLL_SCHEDULE, nextPollDelayMs, parseCopyProgress, type ProgressReading } from "pulumi-copied-object/dist/operation.js";

/** Polls a simulated copy that progresses linearly and ends at `durationMs`; returns requests and lateness. */
function simulate(durationMs: number, total = 10 * 1024 ** 3) {
  let now = 0;
  let polls = 0;
  let previous: ProgressReading | undefined;
  let latest: ProgressReading | undefined;
  for (;;) {
    polls++;
    if (now >= durationMs) return { requests: polls, lateMs: now - durationMs };
    previous = latest;
    latest = { atMs: now, bytes: Math.floor((total * now) / durationMs), total };
    now += nextPollDelayMs(DEFAULT_POLL_SCHEDULE, polls, previous, latest);
  }
}

test("a 10-minute copy with progress is noticed within 1 s of finishing, in at most 30 status requests", (t) => {
  const { requests, lateMs } = simulate(10 * 60_000);
  t.diagnostic(`10-minute copy: ${requests} status requests, noticed ${lateMs} ms after it finished`);
  assert.ok(requests <= 30, `${requests} requests`);
  assert.ok(lateMs <= 1000, `${lateMs} ms late`);
});

test("short and long copies alike are noticed within a second", (t) => {
  for (const duration of [2_000, 10_000, 120_000, 3_600_000]) {
    const { requests, lateMs } = simulate(duration);
    t.diagnostic(`${duration / 1000} s copy: ${requests} status requests, ${lateMs} ms late`);
    assert.ok(lateMs <= 1000, `${duration} ms copy: ${lateMs} ms late`);
    assert.ok(requests <= 40, `${duration} ms copy: ${requests} requests`);
  }
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
