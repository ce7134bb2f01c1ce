/**
 * One object of a CopiedPrefix: copied by the same per-object pipeline as CopiedObject (runCopy, with the driver
 * plan.ts's table names), adopted after an interrupted run when the destination already holds it, or removed
 * exactly as CopiedObject's delete removes (only what this resource wrote, only while it is still there).
 */
import { CopyError, isCopyError } from "./errors";
import type { Listed, ManifestEntry } from "./manifest";
import type { Logger } from "./operation";
import { runCopy, type CopyProgress } from "./pipeline";
import { objectAt, type PrefixLocator } from "./prefixLocators";
import type { DriverFactory, Store } from "./stores";
import type { CopyOptions } from "./options";

export interface ObjectContext {
  source: PrefixLocator;
  destination: PrefixLocator;
  sourceCredentials?: unknown;
  destinationCredentials?: unknown;
  options: CopyOptions;
  driver: DriverFactory;
  destinationStore: Store;
  /** After an interrupted run: a destination that already holds the source's bytes is recorded, not copied again. */
  adopt: boolean;
  signal: AbortSignal;
  log: Logger;
}

export interface ObjectResult {
  /** The manifest line for the key after this run; undefined when the key is no longer held. */
  entry?: ManifestEntry;
  outcome: "copied" | "adopted" | "removed" | "failed" | "kept";
  failure?: { key: string; code: string; message: string };
}

/** Copies one object (or adopts it), returning its new manifest line; a failure keeps what is known to be there. */
export async function copyOne(ctx: ObjectContext, key: string, listed: Listed, previous: ManifestEntry | undefined): Promise<ObjectResult> {
  const destination = objectAt(ctx.destination, key);
  if (ctx.adopt) {
    const there = await ctx.destinationStore
      .head(destination, ctx.destinationCredentials, ctx.signal, "destination")
      .catch(() => undefined);
    // An S3 server-side copy keeps a plain ETag: the same ETag and size are the same bytes.
    if (there && there.etag === listed.etag && there.contentLength === listed.size && /^[0-9a-f]{32}$/.test(listed.etag)) {
      return { outcome: "adopted", entry: line(key, listed, previous, there) };
    }
  }
  const progress: CopyProgress = {};
  try {
    const outcome = await runCopy(
      {
        source: objectAt(ctx.source, key),
        destination,
        sourceCredentials: ctx.sourceCredentials,
        destinationCredentials: ctx.destinationCredentials,
        options: ctx.options,
        signal: ctx.signal,
        log: ctx.log,
        listed: { etag: listed.etag, contentLength: listed.size },
      },
      ctx.driver,
      progress,
    );
    const copied: Listed = {
      ...listed,
      etag: outcome.sourceEtag,
      ...(outcome.sourceVersionId ? { versionId: outcome.sourceVersionId } : {}),
    };
    return { outcome: "copied", entry: line(key, copied, previous, outcome) };
  } catch (e) {
    const error = isCopyError(e) ? e : new CopyError("CopyFailed", (e as Error).message ?? String(e));
    const failure = { key, code: error.code, message: error.detail };
    // Written, then failed (a tag check, a verify): the version is ours, and the next run copies again ("e": "").
    if (progress.written) return { outcome: "failed", failure, entry: { ...line(key, listed, previous, progress.written), e: "" } };
    return { outcome: "failed", failure, ...(previous ? { entry: previous } : {}) };
  }
}

/** Removes what this resource wrote for a key whose source is gone (prune), or on destroy. */
export async function removeOne(
  ctx: Omit<ObjectContext, "driver" | "adopt" | "options" | "source">,
  entry: ManifestEntry,
): Promise<ObjectResult> {
  try {
    const evidence = {
      versionIds: entry.dv ?? [],
      ...(entry.de ? { etag: entry.de } : {}),
      ...(entry.dl ? { lastModified: entry.dl } : {}),
    };
    await ctx.destinationStore.remove(objectAt(ctx.destination, entry.k), ctx.destinationCredentials, evidence, ctx.signal, ctx.log);
    return { outcome: "removed" };
  } catch (e) {
    const error = isCopyError(e) ? e : new CopyError("CopyFailed", (e as Error).message ?? String(e));
    return { outcome: "failed", entry, failure: { key: entry.k, code: error.code, message: error.detail } };
  }
}

/** The manifest line for a key written now: the source as copied, and the write (its version added to the key's). */
export function line(
  key: string,
  source: Listed,
  previous: ManifestEntry | undefined,
  written: { etag?: string; versionId?: string; lastModified?: string },
): ManifestEntry {
  const versions = [...(previous?.dv ?? [])];
  if (written.versionId && !versions.includes(written.versionId)) versions.push(written.versionId);
  return {
    k: key,
    e: source.etag,
    s: source.size,
    ...(source.versionId ? { sv: source.versionId } : {}),
    ...(written.etag ? { de: written.etag } : {}),
    ...(written.lastModified ? { dl: written.lastModified } : {}),
    ...(versions.length ? { dv: versions } : {}),
  };
}

/** At most `max` at once; the rest wait their turn in order. */
export class Limiter {
  #active = 0;
  readonly #waiting: Array<() => void> = [];
  constructor(readonly max: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#active >= this.max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active++;
    try {
      return await work();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}

/**
 * A logger for the objects of a run: ten thousand "copying …" lines help nobody, so info is dropped; a warning is
 * said once per distinct text (with the first key it came from), at most 20 of them.
 */
export function objectLogger(parent: Logger): Logger & { key?: string } {
  const said = new Set<string>();
  return {
    info() {},
    progress() {},
    warn(message: string) {
      if (said.has(message) || said.size >= 20) return;
      said.add(message);
      parent.warn(message);
    },
  };
}
