/**
 * What every CopiedPrefix run shares, whichever engine runs it (prefixPipeline.ts, prefixBatch.ts): the resource id,
 * the manifest's header, the per-object context and options, the selection of a listing, and how failures read.
 */
import type { Ambient } from "./ambient";
import { CopyError, isCopyError } from "./errors";
import { identityOf, objectId, sameService, serviceLabel } from "./identity";
import { none, readManifest, type Listed, type ManifestEntry, type ManifestHeader } from "./manifest";
import type { Logger } from "./operation";
import { routeOrThrow } from "./plan";
import type { PerObjectOptions, PrefixWireInputs } from "./prefixOptions";
import { MANIFEST_NAME, objectAt, prefixKind, selected, type PrefixLocator } from "./prefixLocators";
import { objectLogger, type ObjectContext, type ObjectResult } from "./prefixObjects";
import type { PrefixState, RunCounts } from "./prefixState";
import type { PrefixStore } from "./stores";
import { CLEANUP_BUDGET_MS, shutdownSignal } from "./shutdown";
import { driverFor, storeFor } from "./stores";

/** Objects copied at once unless `concurrency` says otherwise (bench P6). */
export const DEFAULT_PREFIX_CONCURRENCY = 32;

/** The resource id: the destination prefix as identity.ts names it. */
export function prefixId(inputs: Pick<PrefixWireInputs, "destination" | "destinationCredentials">, ambient: Ambient): string {
  const identity = identityOf(objectAt(inputs.destination, ""), inputs.destinationCredentials, ambient);
  if (!identity) throw new CopyError("InvalidInput", "the destination is not known yet");
  return objectId(identity);
}

/** The manifest's header: which source and destination it belongs to, as identity.ts names them. */
export function headerOf(inputs: PrefixWireInputs, ambient: Ambient): ManifestHeader {
  const name = (l: PrefixLocator, c: unknown) => {
    const id = identityOf(objectAt(l, ""), c, ambient);
    return id ? objectId(id) : JSON.stringify(l);
  };
  return {
    v: 1,
    source: name(inputs.source, inputs.sourceCredentials),
    destination: name(inputs.destination, inputs.destinationCredentials),
  };
}

/** Any failure as a CopyError, its code kept. */
export function asCopyError(e: unknown): CopyError {
  return isCopyError(e) ? e : new CopyError("CopyFailed", (e as Error).message ?? String(e), { cause: e });
}

/** What each object of a run shares: the sides, the per-object options, the route plan.ts names for the pair. */
export function objectContext(inputs: PrefixWireInputs, ambient: Ambient, adopt: boolean, signal: AbortSignal, log: Logger): ObjectContext {
  const { source, destination, sourceCredentials, destinationCredentials } = inputs;
  const from = identityOf(objectAt(source, ""), sourceCredentials, ambient);
  const to = identityOf(objectAt(destination, ""), destinationCredentials, ambient);
  const services = from && to ? { same: sameService(from, to), source: serviceLabel(from), destination: serviceLabel(to) } : undefined;
  const route = routeOrThrow(prefixKind(source), prefixKind(destination), inputs.strategy, services);
  return {
    source,
    destination,
    sourceCredentials,
    destinationCredentials,
    options: perObjectOptions(inputs),
    driver: driverFor(route.driver, prefixKind(source)),
    destinationStore: storeFor(prefixKind(destination)),
    adopt: adopt && route.driver === "s3ToS3",
    signal,
    log: objectLogger(log),
  };
}

function perObjectOptions(inputs: PrefixWireInputs): PerObjectOptions {
  const { source: _s, destination: _d, sourceCredentials: _sc, destinationCredentials: _dc, include: _i, exclude: _e, ...rest } = inputs;
  const { prune: _p, concurrency: _c, engine: _g, batchRoleArn: _b, ...perObject } = rest;
  // Every object shares the run's deadline, not one of its own.
  return { ...perObject, timeoutSeconds: undefined };
}

/** The listing less what the selection leaves out (and this resource's own files). */
export async function* selectedOnly(listing: AsyncIterable<Listed>, include?: string[], exclude?: string[]): AsyncGenerator<Listed> {
  for await (const listed of listing) if (selected(listed.key, include, exclude)) yield listed;
}

/** A failed run's error: how many objects failed, and the first few keys with their codes. */
export function failedObjects(failures: NonNullable<ObjectResult["failure"]>[], counts: RunCounts): CopyError {
  const first = failures.slice(0, 5).map((f) => `${f.key} (${f.code}: ${f.message.slice(0, 160)})`);
  return new CopyError(
    failures.every((f) => f.code === failures[0].code) ? (failures[0].code as CopyError["code"]) : "CopyFailed",
    `${failures.length} object(s) failed (${counts.copied} copied, ${counts.skipped} unchanged): ${first.join("; ")}` +
      `${failures.length > 5 ? `; and ${failures.length - 5} more` : ""}. The next up copies them again; the others are kept`,
  );
}

/** After an abort, writing the manifest still gets a little time: 3 s on shutdown, a minute after a timeout. */
export function cleanupSignal(signal: AbortSignal): AbortSignal {
  if (!signal.aborted) return AbortSignal.timeout(10 * 60_000);
  return AbortSignal.timeout(shutdownSignal().aborted ? CLEANUP_BUDGET_MS - 1000 : 60_000);
}

/**
 * The manifest a run starts from, read as a stream: its entries (none without one), and whether it names another
 * source (then every object is copied again, and its lines still say what to prune). Another resource's is refused.
 */
export async function previousManifest(
  store: PrefixStore,
  inputs: PrefixWireInputs,
  olds: PrefixState | undefined,
  header: ManifestHeader,
  signal: AbortSignal,
  log: Logger,
): Promise<{ found: boolean; entries: AsyncIterable<ManifestEntry>; sourceMoved: boolean }> {
  const body = await store.read(inputs.destination, inputs.destinationCredentials, MANIFEST_NAME, signal);
  if (!body) {
    if (olds && olds.objectCount > 0) log.warn(`the manifest of ${header.destination} is gone (deleted outside Pulumi?)`);
    return { found: false, entries: none(), sourceMoved: false };
  }
  const read = await readManifest(body);
  if (read.header.destination !== header.destination || (!olds && read.header.source !== header.source)) {
    body.destroy();
    throw new CopyError(
      "InvalidInput",
      `${header.destination} already holds the manifest of another CopiedPrefix (copying from ${read.header.source}): two ` +
        "resources cannot share a destination prefix. Choose another destination.prefix, or remove that resource",
    );
  }
  return { found: true, entries: read.entries, sourceMoved: read.header.source !== header.source };
}

/** Counts each object's result into the run's tallies, and hands on its manifest line. */
export function tallier(counts: RunCounts, failures: NonNullable<ObjectResult["failure"]>[]) {
  return (r: ObjectResult): ManifestEntry | undefined => {
    if (r.outcome === "copied" || r.outcome === "adopted") counts.copied++;
    if (r.outcome === "removed") counts.removed++;
    if (r.failure) failures.push(r.failure);
    return r.entry;
  };
}
