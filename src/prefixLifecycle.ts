/**
 * The other sequences of a CopiedPrefix: what `diff` sees (the source listed and merged with the manifest, counted,
 * nothing written), destroy (exactly the objects and versions the manifest names, then the manifest), and refresh.
 */
import { DEFAULT_TIMEOUT_SECONDS } from "./args";
import { CopyError } from "./errors";
import { merge, Peekable, readManifest, unchanged, none, type ManifestEntry } from "./manifest";
import { operationSignal, type Logger } from "./operation";
import type { PrefixWireInputs } from "./prefixOptions";
import { MANIFEST_NAME, objectAt, prefixKind, RUNNING_NAME, selected } from "./prefixLocators";
import { Limiter, objectLogger, removeOne, type ObjectResult } from "./prefixObjects";
import { DEFAULT_PREFIX_CONCURRENCY, selectedOnly } from "./prefixRun";
import type { PrefixState } from "./prefixState";
import { shutdownSignal, trackInflight } from "./shutdown";
import { prefixStoreFor, storeFor } from "./stores";

export interface PrefixChanges {
  added: number;
  changed: number;
  /** Sources gone: removed by the next run only with prune. */
  removed: number;
  /** The manifest could not be read: every object counts as new. */
  manifestMissing: boolean;
}

/** The source now against the manifest: what the next run would copy or prune. Reads only. */
export async function planPrefix(olds: PrefixState, news: PrefixWireInputs): Promise<PrefixChanges> {
  return run(news.timeoutSeconds, async (signal) => {
    const store = prefixStoreFor(prefixKind(olds.args.destination));
    const body = await store.read(olds.args.destination, olds.destinationCredentials, MANIFEST_NAME, signal);
    const entries = body ? (await readManifest(body)).entries : none();
    const changes: PrefixChanges = { added: 0, changed: 0, removed: 0, manifestMissing: !body && olds.objectCount > 0 };
    const listing = prefixStoreFor(prefixKind(news.source)).list(news.source, news.sourceCredentials, signal, "source");
    for await (const item of merge(selectedOnly(listing, news.include, news.exclude), new Peekable(entries))) {
      if (item.listed && !item.entry) changes.added++;
      else if (item.listed && item.entry && !unchanged(item.entry, item.listed)) changes.changed++;
      else if (!item.listed) changes.removed++;
    }
    return changes;
  });
}

/** Destroy: every object and version the manifest names, while each still holds what was written; then the manifest. */
export async function removePrefix(state: PrefixState, log: Logger): Promise<void> {
  const { destination, include, exclude } = state.args;
  const credentials = state.destinationCredentials;
  await run(state.args.timeoutSeconds, async (signal) => {
    const store = prefixStoreFor(prefixKind(destination));
    await store.abandonUploads(destination, credentials, (k) => selected(k, include, exclude), signal, log);
    // An S3 Batch Operations job a killed run left, and its files (prefixBatch.ts).
    await (require("./prefixBatch") as typeof import("./prefixBatch")).removeBatchLeftovers(state, signal, log);
    const body = await store.read(destination, credentials, MANIFEST_NAME, signal);
    if (!body) {
      if (state.objectCount > 0)
        log.warn(
          `the manifest of this CopiedPrefix is gone (deleted outside Pulumi?), so which objects it wrote is not known: the ` +
            `${state.objectCount} objects it held are kept. Remove them by hand, or restore the manifest and destroy again`,
        );
      await store.erase(destination, credentials, RUNNING_NAME, signal);
      return;
    }
    const ctx = {
      destination,
      destinationCredentials: credentials,
      destinationStore: storeFor(prefixKind(destination)),
      signal,
      log: objectLogger(log),
    };
    const limiter = new Limiter(state.args.concurrency ?? DEFAULT_PREFIX_CONCURRENCY);
    const running = new Set<Promise<ObjectResult>>();
    const failures: NonNullable<ObjectResult["failure"]>[] = [];
    let removed = 0;
    for await (const entry of (await readManifest(body)).entries) {
      const work = limiter.run(() => removeOne(ctx, entry));
      running.add(work);
      void work.then((r) => {
        running.delete(work);
        if (r.failure) failures.push(r.failure);
        else removed++;
      });
      if (running.size >= limiter.max * 4) await Promise.race(running);
    }
    await Promise.all(running);
    if (failures.length) {
      const first = failures.slice(0, 5).map((f) => `${f.key} (${f.code}: ${f.message.slice(0, 160)})`);
      throw new CopyError(
        "CopyFailed",
        `${failures.length} object(s) could not be removed (${removed} were): ${first.join("; ")}. The manifest is kept: destroy again`,
      );
    }
    for (const name of [MANIFEST_NAME, RUNNING_NAME]) await store.erase(destination, credentials, name, signal);
    log.info(`removed the ${removed} objects this CopiedPrefix wrote under ${describe(destination)}, and its manifest`);
  });
}

/** Refresh: the manifest's presence is checked; the counts stay the manifest's. Undefined: nothing of it is left. */
export async function refreshPrefix(state: PrefixState, log: Logger): Promise<PrefixState | undefined> {
  const { destination } = state.args;
  return run(state.args.timeoutSeconds, async (signal) => {
    const body = await prefixStoreFor(prefixKind(destination)).read(destination, state.destinationCredentials, MANIFEST_NAME, signal);
    if (body) {
      body.destroy();
      return state;
    }
    if (state.objectCount === 0) return state;
    log.warn(`the manifest of ${describe(destination)} is gone: the next up looks at each object again, and destroy keeps them`);
    return state;
  });
}

function describe(destination: PrefixWireInputs["destination"]): string {
  const at = objectAt(destination, "");
  if ("s3" in at) return `s3://${at.s3.bucket}/${at.s3.key}`;
  if ("azureBlob" in at) return `${at.azureBlob.accountUrl ?? at.azureBlob.account}/${at.azureBlob.container}/${at.azureBlob.blob}`;
  if ("azureFile" in at) return `${at.azureFile.accountUrl ?? at.azureFile.account}/${at.azureFile.share}/${at.azureFile.path}`;
  return "the destination";
}

async function run<T>(timeoutSeconds: number | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const operation = operationSignal(timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS, shutdownSignal());
  try {
    return await trackInflight(() => work(operation.signal));
  } finally {
    operation.dispose();
  }
}

export type { ManifestEntry };
