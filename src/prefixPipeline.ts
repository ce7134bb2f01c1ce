/**
 * What a CopiedPrefix run does, in order: mark the run, read the old manifest, sweep what a killed run left, list
 * the source and merge it with the manifest in one pass (copy what is new or changed, skip the rest, prune what is
 * gone), write the new manifest as it goes, and clear the mark. Memory stays flat: the listing, the manifest and
 * the copies in flight are streams and bounded windows, never whole lists. Each object goes through prefixObjects.ts.
 */
import { Readable } from "node:stream";
import type { Ambient } from "./ambient";
import { DEFAULT_TIMEOUT_SECONDS } from "./args";
import { CopyError } from "./errors";
import { ManifestWriter, merge, Peekable, unchanged, type ManifestEntry } from "./manifest";
import { abortReason, operationSignal, type Logger } from "./operation";
import type { PrefixWireInputs } from "./prefixOptions";
import { MANIFEST_NAME, prefixKind, RUNNING_NAME, selected } from "./prefixLocators";
import { copyOne, Limiter, removeOne, type ObjectResult } from "./prefixObjects";
import { prefixState, type PrefixState, type RunCounts } from "./prefixState";
import {
  asCopyError,
  cleanupSignal,
  failedObjects,
  headerOf,
  objectContext,
  previousManifest,
  selectedOnly,
  tallier,
  DEFAULT_PREFIX_CONCURRENCY,
} from "./prefixRun";
import { shutdownSignal, trackInflight } from "./shutdown";
import { prefixStoreFor } from "./stores";
import { formatBytes } from "./values";

/** Results waiting for an earlier key before they can be written: bounds memory when one object is slow. */
const WINDOW = 2048;
const PROGRESS_EVERY_MS = 10_000;

/** Create or update. `recopy`: copy every selected object again (the source or a content option changed). */
export async function copyPrefix(
  inputs: PrefixWireInputs,
  olds: PrefixState | undefined,
  id: string,
  ambient: Ambient,
  log: Logger,
  recopy: boolean,
): Promise<PrefixState> {
  const started = Date.now();
  const operation = operationSignal(inputs.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS, shutdownSignal());
  const signal = operation.signal;
  const { source, destination, sourceCredentials, destinationCredentials } = inputs;
  const store = prefixStoreFor(prefixKind(destination));
  const counts: RunCounts = { copied: 0, skipped: 0, removed: 0 };
  const failures: NonNullable<ObjectResult["failure"]>[] = [];
  const header = headerOf(inputs, ambient);
  let writer: ManifestWriter | undefined;
  try {
    return await trackInflight(async () => {
      // A mark left by a run that never finished means the destination may hold copies no manifest names.
      const interrupted = (await store.read(destination, destinationCredentials, RUNNING_NAME, signal)) !== undefined;
      const previous = await previousManifest(store, inputs, olds, header, signal, log);
      if (previous.sourceMoved) recopy = true;
      // Without a manifest, objects already there are looked at before they are copied (and recorded, not copied, on S3).
      const adopt = interrupted || (!!olds && olds.objectCount > 0 && !previous.found);
      if (interrupted) log.info("the last run here did not finish: objects the destination already holds are recorded, not copied again");
      await store.write(destination, destinationCredentials, RUNNING_NAME, Readable.from([new Date().toISOString()]), signal);
      const include = inputs.include;
      const exclude = inputs.exclude;
      await store.abandonUploads(destination, destinationCredentials, (k) => selected(k, include, exclude), signal, log);

      // A listing that fails part way stops the copies too; what was done is kept, and named in the manifest.
      const stop = new AbortController();
      const runSignal = AbortSignal.any([signal, stop.signal]);
      const ctx = objectContext(inputs, ambient, adopt, runSignal, log);
      const manifest = new Peekable(previous.entries);
      const w = (writer = new ManifestWriter(header));
      const uploading = store.write(destination, destinationCredentials, MANIFEST_NAME, w.body, cleanupSignal(signal));
      const stalled = uploading.then(() => {
        throw new CopyError("CopyFailed", "the manifest's upload ended before the manifest did");
      });
      stalled.catch(() => undefined);
      const write = async (entry: ManifestEntry | undefined) => void (entry && (await Promise.race([w.add(entry), stalled])));
      const limiter = new Limiter(inputs.concurrency ?? DEFAULT_PREFIX_CONCURRENCY);
      const window: Array<Promise<ObjectResult>> = [];
      const tally = tallier(counts, failures);
      const later = (entry: ManifestEntry | undefined, work: () => Promise<ObjectResult>) =>
        limiter.run(() => (runSignal.aborted ? Promise.resolve<ObjectResult>({ outcome: "kept", entry }) : work()));
      const progress = reporter(log, counts, failures);
      let listingError: unknown;
      try {
        const listing = selectedOnly(
          prefixStoreFor(prefixKind(source)).list(source, sourceCredentials, runSignal, "source"),
          include,
          exclude,
        );
        for await (const item of merge(listing, manifest)) {
          const { listed, entry } = item;
          let work: Promise<ObjectResult>;
          if (listed && entry && !recopy && unchanged(entry, listed)) {
            counts.skipped++;
            work = Promise.resolve({ outcome: "kept", entry });
          } else if (listed) work = later(entry, () => copyOne(ctx, item.key, listed, entry));
          else if (inputs.prune) work = later(entry, () => removeOne(ctx, entry!));
          else work = Promise.resolve({ outcome: "kept", entry });
          window.push(work);
          progress.seen(listed?.size ?? 0);
          while (window.length > WINDOW) await write(tally(await window.shift()!));
          if (signal.aborted) break;
        }
      } catch (e) {
        if (!signal.aborted) listingError = e;
        stop.abort(e);
      } finally {
        progress.stop();
      }
      for (const work of window.splice(0)) await write(tally(await work));
      // Cut off: the entries not reached still describe the destination.
      for await (const entry of manifest.rest()) await write(entry);
      const summary = w.end();
      await uploading;
      const nothing = !previous.found && !olds && summary.count === 0;
      if (listingError && nothing) {
        // A first run that wrote nothing leaves nothing behind: no manifest, no mark.
        for (const name of [MANIFEST_NAME, RUNNING_NAME])
          await store.erase(destination, destinationCredentials, name, cleanupSignal(signal));
        throw listingError;
      }
      if (!signal.aborted && !listingError) await store.erase(destination, destinationCredentials, RUNNING_NAME, cleanupSignal(signal));
      const state = prefixState(inputs, summary, counts, {
        copyStatus: signal.aborted ? "aborted" : failures.length || listingError ? "failed" : "success",
        engine: "provider",
        durationMs: Date.now() - started,
      });
      log.info(`${id}: ${counts.copied} copied, ${counts.skipped} unchanged, ${counts.removed} removed; ${summary.count} objects held`);
      if (signal.aborted) throw Object.assign(abortReason(signal), { id, properties: state });
      if (listingError) throw Object.assign(asCopyError(listingError), { id, properties: state });
      if (failures.length) throw Object.assign(failedObjects(failures, counts), { id, properties: state });
      return state;
    });
  } catch (e) {
    writer?.destroy(e as Error);
    if (signal.aborted && !(e as { properties?: unknown }).properties) throw abortReason(signal);
    throw asCopyError(e);
  } finally {
    operation.dispose();
  }
}

function reporter(log: Logger, counts: RunCounts, failures: unknown[]) {
  const started = Date.now();
  let listed = 0;
  let bytes = 0;
  const timer = setInterval(() => {
    const done = counts.copied + counts.skipped + counts.removed + failures.length;
    const seconds = (Date.now() - started) / 1000;
    const rate = done / seconds;
    log.progress(
      `${done} of ${listed} listed so far (${counts.copied} copied, ${counts.skipped} unchanged, ${counts.removed} removed` +
        `${failures.length ? `, ${failures.length} failed` : ""}); ${formatBytes(bytes)} listed; ${rate.toFixed(0)} objects/s` +
        `${rate > 0 && listed > done ? `, about ${Math.ceil((listed - done) / rate)} s left for those listed` : ""}`,
    );
  }, PROGRESS_EVERY_MS);
  timer.unref();
  return {
    seen(size: number) {
      listed++;
      bytes += size;
    },
    stop: () => clearInterval(timer),
  };
}
