/**
 * `engine: "s3-batch"`: a CopiedPrefix run handed to S3 Batch Operations. The decisions are the provider engine's
 * (the same merge of listing and manifest, the same `unchanged` and selection rules); only who copies differs:
 *   1. list and merge, writing the job's CSV manifest (what to copy) and a local plan (every key's decision);
 *   2. CreateJob (S3PutObjectCopy), then wait with DescribeJob, logging progress; on timeout or cancel, UpdateJobStatus
 *      Cancelled. Objects over 5 GiB, which a job cannot copy, go through the provider's multipart path meanwhile;
 *   3. read the completion report's failed tasks, and the destination's current versions (what the job wrote: the
 *      report does not say), then write the manifest in key order, pruning as the provider engine does.
 * The job's files live under the destination prefix (BATCH_AREA) and are removed at the end of the run.
 */
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { Ambient } from "./ambient";
import { DEFAULT_TIMEOUT_SECONDS } from "./args";
import { CopyError } from "./errors";
import { ManifestWriter, merge, Peekable, unchanged, type ManifestEntry } from "./manifest";
import { abortReason, operationSignal, type Logger } from "./operation";
import type { PrefixWireInputs } from "./prefixOptions";
import {
  BATCH_AUTO_THRESHOLD,
  BATCH_MAX_OBJECT_BYTES,
  batchCopyOperation,
  batchObstacles,
  batchTargetPrefix,
  chooseEngine,
  csvLine,
  roleAccount,
  taskFailure,
} from "./prefixBatchRules";
import { csvWriter, currentAt, jobResult, sweepJob, waitForJob } from "./prefixBatchJob";
import { countToCopy, PlanFile } from "./prefixBatchPlan";
import { BATCH_AREA, MANIFEST_NAME, RUNNING_NAME, selected, type S3PrefixLocator } from "./prefixLocators";
import { copyOne, Limiter, removeOne, type ObjectResult } from "./prefixObjects";
import {
  asCopyError,
  cleanupSignal,
  DEFAULT_PREFIX_CONCURRENCY,
  failedObjects,
  headerOf,
  objectContext,
  previousManifest,
  selectedOnly,
  tallier,
} from "./prefixRun";
import { prefixState, type PrefixState, type RunCounts } from "./prefixState";
import { shutdownSignal, trackInflight } from "./shutdown";
import { prefixStoreFor } from "./stores";
import type { Current, JobView } from "./stores/s3Batch";
import type { S3Credentials } from "./locators";

const jobs = () => require("./stores/s3Batch") as typeof import("./stores/s3Batch");
const WINDOW = 2048;

/** Whether this run goes to S3 Batch Operations: `"s3-batch"` always (check vetted it), `"auto"` above the threshold. */
export async function batchChosen(inputs: PrefixWireInputs, recopy: boolean, ambient: Ambient, log: Logger): Promise<boolean> {
  const engine = inputs.engine ?? "auto";
  if (engine !== "auto") return engine === "s3-batch";
  if (!inputs.batchRoleArn || !("s3" in inputs.source) || !("s3" in inputs.destination)) return false;
  const obstacles = batchObstacles(inputs.source.s3, inputs.destination.s3, inputs);
  if (obstacles.length) {
    log.info(`engine "auto" stays on the provider: ${obstacles[0].property}: ${obstacles[0].reason}`);
    return false;
  }
  const operation = operationSignal(inputs.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS, shutdownSignal());
  try {
    const count = await countToCopy(inputs, recopy, ambient, BATCH_AUTO_THRESHOLD + 1, operation.signal);
    const engineNow = chooseEngine("auto", true, true, count);
    log.info(
      `engine "auto": ${count > BATCH_AUTO_THRESHOLD ? `more than ${BATCH_AUTO_THRESHOLD}` : count} objects to copy, so ` +
        `${engineNow === "s3-batch" ? "an S3 Batch Operations job copies them" : "the provider copies them"}`,
    );
    return engineNow === "s3-batch";
  } finally {
    operation.dispose();
  }
}

/** A run by S3 Batch Operations: the same contract as copyPrefix (partial state on timeout, cancel or failure). */
export async function copyPrefixByBatch(
  inputs: PrefixWireInputs,
  olds: PrefixState | undefined,
  id: string,
  ambient: Ambient,
  log: Logger,
  recopy: boolean,
): Promise<PrefixState> {
  const [src, dst] = [s3Side(inputs.source), s3Side(inputs.destination)];
  // check() refuses these for "s3-batch" and "auto" never picks a job for them; a state edited by hand is refused here.
  const obstacles = batchObstacles(src, dst, inputs).map((o) => `${o.property}: ${o.reason}`);
  if (!inputs.batchRoleArn) obstacles.push("batchRoleArn: is required");
  const keyPrefix = batchTargetPrefix(src.prefix, dst.prefix);
  if (obstacles.length || keyPrefix === undefined)
    throw new CopyError("InvalidInput", `S3 Batch Operations cannot do this copy: ${obstacles.join("; ")}`);
  const started = Date.now();
  const operation = operationSignal(inputs.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS, shutdownSignal());
  const signal = operation.signal;
  const { destinationCredentials: dc, include, exclude } = inputs;
  const store = prefixStoreFor("s3");
  const header = headerOf(inputs, ambient);
  const counts: RunCounts = { copied: 0, skipped: 0, removed: 0 };
  const failures: NonNullable<ObjectResult["failure"]>[] = [];
  const plan = PlanFile.create();
  const area = dst.prefix + BATCH_AREA;
  const s3 = jobs().s3For(dst, dc as S3Credentials | undefined);
  const api = jobs().s3ControlClient(dst, dc as S3Credentials | undefined);
  const { partition, account } = roleAccount(inputs.batchRoleArn!);
  let writer: ManifestWriter | undefined;
  let found = false;
  /** Set once anything may have been copied: a job created, or a large object started. */
  let job: { id: string; view: JobView } | undefined;
  let wrote = false;
  try {
    return await trackInflight(async () => {
      const previous = await previousManifest(store, inputs, olds, header, signal, log);
      found = previous.found;
      if (previous.sourceMoved) recopy = true;
      const entries = previous.entries;
      await store.write(inputs.destination, dc, RUNNING_NAME, Readable.from([new Date().toISOString()]), signal);
      await sweepJob(api, s3, dst.bucket, area, signal, log);
      await store.abandonUploads(inputs.destination, dc, (k) => selected(k, include, exclude), signal, log);

      // 1. The plan and the job's manifest, in one pass over the listing. Sources written from now on fail the job's pin.
      const since = new Date();
      const csv = csvWriter(s3, dst.bucket, `${area}manifest.csv`, signal);
      let toJob = 0;
      let big = 0;
      const listing = selectedOnly(prefixStoreFor("s3").list(inputs.source, inputs.sourceCredentials, signal, "source"), include, exclude);
      for await (const { key: k, listed: l, entry: e } of merge(listing, new Peekable(entries))) {
        if (l && e && !recopy && unchanged(e, l)) (counts.skipped++, await plan.add({ k, a: "keep", e }));
        else if (l && l.size > BATCH_MAX_OBJECT_BYTES) (big++, await plan.add({ k, a: "big", l, ...(e ? { e } : {}) }));
        else if (l)
          (toJob++, await plan.add({ k, a: "copy", l, ...(e ? { e } : {}) }), await csv.write(csvLine(src.bucket, src.prefix + k)));
        else await plan.add({ k, a: inputs.prune ? "prune" : "keep", e });
      }
      await plan.close();

      // 2. The job, and the objects too large for it, at the same time.
      const ctx = objectContext(inputs, ambient, false, signal, log);
      const limiter = new Limiter(inputs.concurrency ?? DEFAULT_PREFIX_CONCURRENCY);
      const bigDone = new Map<string, Promise<ObjectResult>>();
      if (toJob) {
        const etag = await csv.end();
        wrote = true;
        const jobId = await jobs().createJob(
          api,
          {
            account,
            roleArn: inputs.batchRoleArn!,
            operation: batchCopyOperation(inputs, { partition, bucket: dst.bucket, keyPrefix }, since),
            manifest: { arn: `arn:${partition}:s3:::${dst.bucket}/${area}manifest.csv`, etag },
            report: { bucketArn: `arn:${partition}:s3:::${dst.bucket}`, prefix: `${area}reports` },
            token: randomUUID(),
            description: `pulumi-copied-object ${id}`,
          },
          signal,
        );
        job = { id: jobId, view: { status: "New", total: toJob, succeeded: 0, failed: 0, reasons: [] } };
        // For a later run, should this one be killed: it cancels the job before starting its own.
        await jobs().putText(s3, dst.bucket, `${area}job.json`, JSON.stringify({ jobId, account }), signal);
        log.info(`S3 Batch Operations job ${jobId} copies ${toJob} objects (account ${account}, role ${inputs.batchRoleArn})`);
      } else csv.discard();
      if (big) {
        wrote = true;
        log.info(`${big} object(s) over 5 GiB are copied by the provider's multipart path (a job copies up to 5 GiB)`);
        for await (const p of plan.read())
          if (p.a === "big")
            bigDone.set(
              p.k,
              limiter.run(() => (signal.aborted ? kept(p.e) : copyOne(ctx, p.k, p.l!, p.e))),
            );
      }
      if (job) job.view = await waitForJob(api, account, job.id, signal, log);
      await Promise.all(bigDone.values());

      // 3. What the job did, from its report and the destination, written into the manifest in key order.
      const reported = new Map<string, { code: string; message: string }>();
      if (job)
        for await (const f of jobs().reportFailures(s3, dst.bucket, `${area}reports`, job.id, cleanupSignal(signal)))
          if (f.key.startsWith(src.prefix)) reported.set(f.key.slice(src.prefix.length), taskFailure(f));
      const after = cleanupSignal(signal);
      const current = new Peekable<Current>(job ? jobs().currentVersions(s3, dst.bucket, dst.prefix, after) : nothing());
      // S3's clock (the job's creation), to the second as listings give Last-Modified.
      const jobCreated = Math.floor((job?.view.created?.getTime() ?? started) / 1000) * 1000;
      const w = (writer = new ManifestWriter(header));
      const uploading = store.write(inputs.destination, dc, MANIFEST_NAME, w.body, after);
      const window: Array<Promise<ObjectResult>> = [];
      const tally = tallier(counts, failures);
      for await (const p of plan.read()) {
        if (p.a === "copy") {
          const now = await currentAt(current, p.k);
          window.push(Promise.resolve(jobResult(p.k, p.l!, p.e, reported.get(p.k), now, jobCreated, job!.view, inputs.verify)));
        } else if (p.a === "big") window.push(bigDone.get(p.k)!);
        else if (p.a === "prune" && p.e) window.push(limiter.run(() => (signal.aborted ? kept(p.e) : removeOne(ctx, p.e!))));
        else window.push(kept(p.e));
        while (window.length > WINDOW) await write(w, tally(await window.shift()!));
      }
      for (const r of window.splice(0)) await write(w, tally(await r));
      const summary = w.end();
      await uploading;
      await jobs().eraseUnder(s3, dst.bucket, area, cleanupSignal(signal));
      if (!signal.aborted) await store.erase(inputs.destination, dc, RUNNING_NAME, cleanupSignal(signal));
      const jobFailed = job && job.view.status === "Failed";
      const state = prefixState(inputs, summary, counts, {
        copyStatus: signal.aborted ? "aborted" : failures.length || jobFailed ? "failed" : "success",
        engine: "s3-batch",
        durationMs: Date.now() - started,
      });
      log.info(`${id}: ${counts.copied} copied, ${counts.skipped} unchanged, ${counts.removed} removed; ${summary.count} objects held`);
      if (signal.aborted) throw Object.assign(abortReason(signal), { id, properties: state });
      if (!failures.length && !jobFailed) return state;
      const said = jobFailed ? `S3 Batch Operations job ${job!.id} failed (${job!.view.reasons.join("; ") || "no reason given"})` : "";
      const each = failures.length ? failedObjects(failures, counts) : undefined;
      const error = !each
        ? new CopyError("CopyFailed", `${said}; ${counts.copied} copied. The next up copies the rest`)
        : said
          ? new CopyError(each.code, `${said}; ${each.detail}`)
          : each;
      throw Object.assign(error, { id, properties: state });
    });
  } catch (e) {
    writer?.destroy(e as Error);
    if (!(e as { properties?: unknown }).properties) {
      // Nothing recorded. A job still running is stopped (it would write what no manifest names), its files go, and a
      // first run that wrote nothing leaves nothing behind, as with the provider engine.
      const cleanup = cleanupSignal(signal);
      if (job && !jobs().TERMINAL.has(job.view.status))
        await jobs()
          .cancelJob(api, account, job.id, "the run that started it failed", cleanup)
          .catch(() => undefined);
      await jobs()
        .eraseUnder(s3, dst.bucket, area, cleanup)
        .catch(() => undefined);
      if (!wrote && !found && !olds) await store.erase(inputs.destination, dc, RUNNING_NAME, cleanup).catch(() => undefined);
      if (signal.aborted) throw abortReason(signal);
    }
    throw asCopyError(e);
  } finally {
    plan.dispose();
    operation.dispose();
  }
}

async function* nothing(): AsyncGenerator<Current> {}

function kept(entry: ManifestEntry | undefined): Promise<ObjectResult> {
  return Promise.resolve({ outcome: "kept", ...(entry ? { entry } : {}) });
}

async function write(w: ManifestWriter, entry: ManifestEntry | undefined): Promise<void> {
  if (entry) await w.add(entry);
}

function s3Side(locator: PrefixWireInputs["source"]): S3PrefixLocator {
  if (!("s3" in locator)) throw new CopyError("Unsupported", 'engine "s3-batch" copies S3 to S3 only');
  return locator.s3;
}

/**
 * Destroy's part for a resource that may have run jobs: a job a killed run left is cancelled and the work area
 * removed (a finished run leaves none, so this is one GET and one listing).
 */
export async function removeBatchLeftovers(state: PrefixState, signal: AbortSignal, log: Logger): Promise<void> {
  if (!("s3" in state.args.destination) || !state.args.batchRoleArn) return;
  const dst = state.args.destination.s3;
  const credentials = state.destinationCredentials as S3Credentials | undefined;
  await sweepJob(
    jobs().s3ControlClient(dst, credentials),
    jobs().s3For(dst, credentials),
    dst.bucket,
    dst.prefix + BATCH_AREA,
    signal,
    log,
  );
}
