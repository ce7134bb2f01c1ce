/**
 * The job of a batch run (prefixBatch.ts): its CSV manifest streamed to S3, the wait with DescribeJob (progress,
 * and UpdateJobStatus Cancelled on timeout or cancel), a job a killed run left, and what the job did for each key.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { PassThrough } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { compareKeys, type Listed, type ManifestEntry, type Peekable } from "./manifest";
import { abortReason, type Logger } from "./operation";
import { line as manifestLine, type ObjectResult } from "./prefixObjects";
import { cleanupSignal } from "./prefixRun";
import type { Current, JobView, S3ControlApi } from "./stores/s3Batch";

const jobs = () => require("./stores/s3Batch") as typeof import("./stores/s3Batch");
const PROGRESS_EVERY_MS = 10_000;

/** What the job did for one key: failed (the report says so), copied (the destination holds a write newer than the job), or not reached. */
export function jobResult(
  k: string,
  listed: Listed,
  previous: ManifestEntry | undefined,
  failed: { code: string; message: string } | undefined,
  now: Current | undefined,
  jobCreated: number,
  view: JobView,
  verify: boolean | undefined,
): ObjectResult {
  if (failed) return { outcome: "failed", failure: { ...failed, key: k }, ...(previous ? { entry: previous } : {}) };
  const written = now && now.lastModified && now.lastModified.getTime() >= jobCreated;
  if (written) {
    const entry = manifestLine(k, listed, previous, {
      etag: now.etag,
      versionId: now.versionId,
      lastModified: now.lastModified!.toISOString(),
    });
    if (verify !== false && now.size !== listed.size) {
      const message = `the copy holds ${now.size} bytes, the source ${listed.size}: the next up copies it again`;
      return { outcome: "failed", failure: { key: k, code: "CopyFailed", message }, entry: { ...entry, e: "" } };
    }
    return { outcome: "copied", entry };
  }
  if (view.status === "Complete") {
    const message = `job reported no failure, yet the destination holds no copy newer than the job (status ${view.status})`;
    return { outcome: "failed", failure: { key: k, code: "CopyFailed", message }, ...(previous ? { entry: previous } : {}) };
  }
  // The job stopped (cancelled, failed) before this key: the next up copies it.
  return { outcome: "kept", ...(previous ? { entry: previous } : {}) };
}

/** The destination's current version of `k`, if any; `current` moves forward only (both are in key order). */
export async function currentAt(current: Peekable<Current>, k: string): Promise<Current | undefined> {
  for (let c = await current.peek(); c && compareKeys(c.key, k) < 0; c = await current.peek()) await current.take();
  const c = await current.peek();
  return c && c.key === k ? c : undefined;
}

/** Waits for the job to end; on abort (timeout, cancel) cancels it, and waits a little for the tasks in flight. */
export async function waitForJob(api: S3ControlApi, account: string, jobId: string, signal: AbortSignal, log: Logger): Promise<JobView> {
  let view: JobView | undefined;
  let delay = 1000;
  let said = 0;
  while (!signal.aborted) {
    view = await jobs()
      .describeJob(api, account, jobId, signal)
      .catch((e: unknown) => {
        if (!signal.aborted) throw e;
        return view;
      });
    if (view && jobs().TERMINAL.has(view.status)) return view;
    if (view && Date.now() - said >= PROGRESS_EVERY_MS) {
      said = Date.now();
      log.progress(`job ${jobId}: ${view.status}; ${view.succeeded} succeeded, ${view.failed} failed of ${view.total} tasks`);
    }
    await sleep(delay, undefined, { signal }).catch(() => undefined);
    delay = Math.min(delay * 1.5, 15_000);
  }
  // Stopping our wait is not enough: the job would go on copying, billed, into a prefix nobody records.
  const reason = abortReason(signal).message;
  const cleanup = cleanupSignal(signal);
  await jobs().cancelJob(api, account, jobId, reason, cleanup);
  log.warn(`cancelled S3 Batch Operations job ${jobId}: ${reason}`);
  // Tasks in flight finish while it is Cancelling: what they write is recorded only if the job is Cancelled first.
  while (!cleanup.aborted) {
    view = await jobs()
      .describeJob(api, account, jobId, cleanup)
      .catch(() => view);
    if (!view || jobs().TERMINAL.has(view.status)) break;
    await sleep(1000, undefined, { signal: cleanup }).catch(() => undefined);
  }
  return view ?? { status: "Cancelled", total: 0, succeeded: 0, failed: 0, reasons: [] };
}

/** A job a killed run left behind is cancelled (two jobs would write the same keys), and its files removed. */
export async function sweepJob(
  api: S3ControlApi,
  s3: S3Client,
  bucket: string,
  area: string,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  const record = await jobs().getText(s3, bucket, `${area}job.json`, signal);
  if (record) {
    const { jobId, account } = JSON.parse(record) as { jobId: string; account: string };
    const view = await jobs()
      .describeJob(api, account, jobId, signal)
      .catch(() => undefined);
    if (view && !jobs().TERMINAL.has(view.status)) {
      await jobs().cancelJob(api, account, jobId, "a later pulumi up replaces it", signal);
      log.warn(`cancelled S3 Batch Operations job ${jobId}, left running by an earlier run that did not finish`);
    }
  }
  await jobs().eraseUnder(s3, bucket, area, signal);
}

/** The job's CSV manifest, streamed to S3 as the listing goes: started on the first line, so an empty run writes none. */
export function csvWriter(s3: S3Client, bucket: string, key: string, signal: AbortSignal) {
  let body: PassThrough | undefined;
  let upload: Promise<string> | undefined;
  return {
    async write(line: string) {
      if (!body) {
        body = new PassThrough();
        upload = jobs().putObject(s3, bucket, key, body, signal);
        upload.catch(() => undefined);
      }
      if (!body.write(line)) await Promise.race([new Promise((resolve) => body!.once("drain", resolve)), upload]);
    },
    async end(): Promise<string> {
      body!.end();
      return upload!;
    },
    discard() {
      body?.destroy();
    },
  };
}
