/**
 * What a copy does, and in what order: the one sequence every pair shares. Read and pin the source,
 * plan, sweep what a killed run left, start, wait, finish, describe the result, verify it; on failure,
 * explain it, clean up, and keep what was written in partial state. Each store supplies only its own
 * steps (stores/types.ts, CopyDriver); which pair runs which copier is plan.ts's table. Delete and
 * refresh are here too: they are the other sequences that touch the stores.
 */
import { DEFAULT_TIMEOUT_SECONDS, type WireInputs } from "./args";
import type { SourceNow } from "./diff";
import { CopyError, isCopyError } from "./errors";
import { identityOf, objectId, sameService, serviceLabel } from "./identity";
import type { Ambient } from "./ambient";
import { locatorKind, type Locator } from "./locators";
import { abortReason, operationSignal, type Logger } from "./operation";
import { routeOrThrow } from "./plan";
import { shutdownSignal, trackInflight } from "./shutdown";
import { evidenceOf, jsonSafe, partialState, successState, type CopyOutcome, type CopyState } from "./state";
import {
  driverFor,
  storeFor,
  type CopyJob,
  type CopyOperation,
  type DriverFactory,
  type LeftBehind,
  type ObjectState,
  type Written,
} from "./stores";
import { normalizeEtag } from "./values";

/** Short calls (HEAD, DELETE, LIST) get this long, whatever timeoutSeconds says. */
const QUICK_CALL_SECONDS = 120;

/** How far a copy got, for the partial state of a failure. Filled in as the sequence runs. */
export interface CopyProgress {
  /** The first write to the destination was about to be sent. */
  started?: boolean;
  operation?: CopyOperation;
  /** What the destination holds that this copy wrote. */
  written?: Written;
  /** The remote copy may still be running (its abort failed): the state says `pending`. */
  running?: boolean;
  /** The destination was read back after the write. */
  described?: boolean;
}

function writtenOf(after: ObjectState): Written {
  return {
    etag: after.etag,
    ...(after.versionId ? { versionId: after.versionId } : {}),
    ...(after.lastModified ? { lastModified: after.lastModified } : {}),
  };
}

/** Runs one copy through a driver's steps, in the order every pair shares. */
export async function runCopy(job: CopyJob, makeDriver: DriverFactory, progress: CopyProgress = {}): Promise<CopyOutcome> {
  const driver = makeDriver(job);
  let source: Awaited<ReturnType<typeof driver.readSource>> | undefined;
  try {
    source = await driver.readSource();
    const pin = job.options.sourceEtag;
    if (pin !== undefined && normalizeEtag(pin) !== source.etag) {
      throw new CopyError(
        "SourceChanged",
        `${source.label} has ETag ${source.etag}, not the sourceEtag ${normalizeEtag(pin)} this copy is pinned to; update sourceEtag or ` +
          `remove it`,
      );
    }
    const plan = driver.plan(source);
    await driver.prepare(source, plan);
    progress.started = true;
    let operation = await driver.start(source, plan);
    for (;;) {
      progress.operation = operation;
      if (operation.status !== "pending") break;
      operation = await driver.wait(operation, source, plan);
    }
    switch (operation.status) {
      case "success":
        break;
      case "failed":
        throw new CopyError("CopyFailed", operation.reason);
      case "aborted":
        throw new CopyError("CopyAborted", operation.reason);
      default:
        throw new CopyError("CopyFailed", `unexpected operation ${JSON.stringify(operation satisfies never)}`);
    }
    progress.written = operation.written;
    await driver.finish(source, plan, operation.written);
    const after = await driver.describe(operation.written);
    if (!after) throw new CopyError("CopyFailed", "the destination is missing right after the copy reported success");
    progress.written = writtenOf(after);
    progress.described = true;
    if (job.options.verify !== false) await driver.verify(source, plan, after);
    return {
      ...after,
      sourceEtag: source.etag,
      ...(source.versionId ? { sourceVersionId: source.versionId } : {}),
      strategy: plan.strategy,
      ...(operation.copyId ? { copyId: operation.copyId } : {}),
    };
  } catch (e) {
    const error = await driver.explain(e, source);
    // Written, but failed before the destination was read back: some servers (Ceph RGW) name no version in the
    // copy's answer, so it is read now, that the partial state can name what was written and destroy remove it.
    if (progress.written && !progress.described && !progress.written.versionId) {
      const after = await driver.describe(progress.written).catch(() => undefined);
      if (after) progress.written = writtenOf(after);
    }
    // Cleanup is best effort: its own failure must not hide why the copy failed.
    const left = await driver.cleanUp(progress.started ? progress.operation : undefined, error).catch((cleanup: unknown) => {
      job.log.warn(`cleaning up after the failed copy failed too: ${(cleanup as Error).message}`);
      return {} as LeftBehind;
    });
    if (left.written) progress.written = left.written;
    if (left.running) progress.running = true;
    throw error;
  }
}

/**
 * Create or update: the copy with its deadline and the process's shutdown signal. A failure after the
 * first write carries partial state, so the engine keeps the resource: the next up copies again, and
 * destroy removes what was written. `why` says, for an update, what made it copy again.
 */
export async function copy(
  inputs: WireInputs,
  olds: CopyState | undefined,
  id: string,
  ambient: Ambient,
  log: Logger,
  why: string[] = [],
): Promise<CopyState> {
  const started = Date.now();
  const timeoutSeconds = inputs.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  const operation = operationSignal(timeoutSeconds, shutdownSignal());
  const progress: CopyProgress = {};
  try {
    const from = identityOf(inputs.source, inputs.sourceCredentials, ambient);
    const to = identityOf(inputs.destination, inputs.destinationCredentials, ambient);
    const services = from && to ? { same: sameService(from, to), source: serviceLabel(from), destination: serviceLabel(to) } : undefined;
    const route = routeOrThrow(locatorKind(inputs.source), locatorKind(inputs.destination), inputs.strategy, services);
    const job: CopyJob = { ...inputs, options: inputs, signal: operation.signal, log };
    const outcome = await trackInflight(() => runCopy(job, driverFor(route.driver, locatorKind(inputs.source)), progress));
    return successState(inputs, olds, outcome, Date.now() - started);
  } catch (e) {
    const error = isCopyError(e)
      ? e
      : operation.signal.aborted
        ? abortReason(operation.signal)
        : new CopyError("CopyFailed", (e as Error).message ?? String(e), { cause: e });
    if (!progress.started && olds && error.code === "SourceNotFound" && why.length) {
      throw new CopyError(
        "SourceNotFound",
        `${error.detail}. This update copies again because ${why.join("; ")}; the copy already there is left as it was. Restore the ` +
          `source, or undo that change`,
        { cause: error },
      );
    }
    // A destination that does not exist was never written: nothing to keep.
    if (!progress.started || error.code === "DestinationNotFound") throw error;
    const status = progress.running ? "pending" : error.code === "CopyAborted" || error.code === "CopyTimedOut" ? "aborted" : "failed";
    const copyId = progress.operation?.copyId;
    const partial = partialState(inputs, olds, {
      status,
      ...(copyId ? { copyId } : {}),
      ...(progress.written ? { written: progress.written } : {}),
      durationMs: Date.now() - started,
    });
    throw Object.assign(error, { id, properties: partial, reasons: [error.message] });
  } finally {
    operation.dispose();
  }
}

/** The resource id of a destination: identity.ts's canonical name for it. */
export function idOf(inputs: WireInputs, ambient: Ambient): string {
  const identity = identityOf(inputs.destination, inputs.destinationCredentials, ambient);
  if (!identity) throw new CopyError("InvalidInput", "the destination is not known yet");
  return objectId(identity);
}

/** Delete: leftovers aborted, then exactly what this resource wrote, and only while the destination still holds it. */
export async function remove(state: CopyState, log: Logger): Promise<void> {
  const { destination } = state.args;
  const store = storeFor(locatorKind(destination));
  const evidence = evidenceOf(state);
  await quick(async (signal) => {
    await store.abandonLeftovers(destination, state.destinationCredentials, signal, log);
    // A pending copy was this resource's: once aborted above, what it left is removed too.
    if (state.copyStatus === "success" || state.copyStatus === "pending" || evidence.versionIds.length || evidence.etag) {
      await store.remove(destination, state.destinationCredentials, evidence, signal, log);
    } else {
      log.info("this resource is not known to have written its destination, so it is left as it is");
    }
  });
}

/** Refresh: the destination as it is now, with drift flagged; undefined when it is gone. */
export async function refresh(state: CopyState, ambient: Ambient, log: Logger, readSource: boolean): Promise<CopyState | undefined> {
  const { destination } = state.args;
  const now = await quick((signal) =>
    storeFor(locatorKind(destination)).head(destination, state.destinationCredentials, signal, "destination"),
  );
  if (!now) return undefined;
  if (readSource && (await readSourceNow(state.args.source, state.sourceCredentials, log)) === "missing") {
    log.warn(`the source ${named(state.args.source, state.sourceCredentials, ambient)} no longer exists; the copy is kept as it was`);
  }
  const drift =
    state.versionId && now.versionId && now.versionId !== state.versionId
      ? `the destination's current version is ${now.versionId}, not ${state.versionId} written by this resource`
      : state.etag && now.etag !== state.etag
        ? `the destination's content changed outside Pulumi (ETag ${now.etag}, wrote ${state.etag})`
        : undefined;
  const { destinationDrift: _previous, ...rest } = state;
  return jsonSafe({
    ...rest,
    ...(drift ? { destinationDrift: drift } : {}),
    contentLength: now.contentLength,
    lastModified: now.lastModified,
  });
}

/** The source as it is now, for trackSource; undefined when it cannot be read (assumed unchanged, and said). */
export async function readSourceNow(source: Locator, credentials: unknown, log: Logger): Promise<SourceNow | undefined> {
  try {
    const now = await quick((signal) => storeFor(locatorKind(source)).head(source, credentials, signal, "source"));
    return now ? { etag: now.etag, ...(now.versionId ? { versionId: now.versionId } : {}) } : "missing";
  } catch (e) {
    log.warn(`could not read the source to see whether it changed (${(e as Error).message}); assuming it did not`);
    return undefined;
  }
}

function named(locator: Locator, credentials: unknown, ambient: Ambient): string {
  const identity = identityOf(locator, credentials, ambient);
  return identity ? objectId(identity) : locatorKind(locator);
}

async function quick<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const operation = operationSignal(QUICK_CALL_SECONDS, shutdownSignal());
  try {
    return await trackInflight(() => work(operation.signal));
  } finally {
    operation.dispose();
  }
}
