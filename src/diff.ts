/**
 * What a change of inputs does to a copy that exists. Pure. The rule: copy again only when the stored
 * result would differ. A different destination object is a replace; a different source object or
 * pinned version, a content option, an unfinished copy, drift or a changed source is an in-place
 * re-copy; everything else (tuning, respellings of the same objects, credentials) is an update that
 * stores the new arguments and writes nothing.
 */
import { OPTION_EFFECT, OPTION_KEYS, type WireInputs } from "./args";
import { identityOf, objectId, sameObject, type ObjectIdentity } from "./identity";
import type { Ambient } from "./ambient";
import type { CopyState } from "./state";
import { normalizeEtag } from "./values";

/** The source as it is now, read by the provider for `trackSource`. */
export type SourceNow = { etag: string; versionId?: string } | "missing";

export interface DiffDecision {
  changes: boolean;
  /** Input paths whose change needs a new destination; empty for an in-place update. */
  replaces: string[];
  /** Why the object must be copied again. Empty: the update writes nothing. */
  recopy: string[];
  /** Changes that write nothing. */
  tuning: string[];
  /** Worth saying, though no reason to change (a source that is gone). */
  warnings: string[];
}

export function decideDiff(olds: CopyState, news: WireInputs, ambient: Ambient, sourceNow?: SourceNow): DiffDecision {
  const was = olds.args;
  const decision: DiffDecision = { changes: false, replaces: [], recopy: [], tuning: [], warnings: [] };
  const { replaces, recopy, tuning } = decision;

  const oldDestination = identityOf(was.destination, olds.destinationCredentials, ambient);
  const newDestination = identityOf(news.destination, news.destinationCredentials, ambient);
  if (!sameObject(oldDestination, newDestination)) {
    replaces.push("destination");
    recopy.push(`the destination changed (${named(oldDestination)} → ${named(newDestination)})`);
  } else if (!deepEqual(was.destination, news.destination)) {
    tuning.push(`the destination is spelt differently (the same object, ${named(newDestination)})`);
  }

  const oldSource = identityOf(was.source, olds.sourceCredentials, ambient);
  const newSource = identityOf(news.source, news.sourceCredentials, ambient);
  if (!sameObject(oldSource, newSource)) recopy.push(`the source changed (${named(oldSource)} → ${named(newSource)})`);
  else if (!deepEqual(was.source, news.source)) tuning.push(`the source is spelt differently (the same object, ${named(newSource)})`);

  for (const key of OPTION_KEYS) {
    const before = (was as Record<string, unknown>)[key];
    const after = (news as unknown as Record<string, unknown>)[key];
    if (deepEqual(before, after)) continue;
    const effect: string = OPTION_EFFECT[key];
    // A new pin asks for content not yet copied only when it names another ETag than the one copied.
    const askedAnew = effect === "guard" && typeof after === "string" && normalizeEtag(after) !== normalizeEtag(olds.sourceEtag ?? "");
    (effect === "content" || askedAnew ? recopy : tuning).push(`${key} changed`);
  }
  if (!deepEqual(olds.sourceCredentials, news.sourceCredentials) || !deepEqual(olds.destinationCredentials, news.destinationCredentials)) {
    tuning.push("credentials changed");
  }
  if (olds.copyStatus !== "success") recopy.push(`the last copy did not finish (${olds.copyStatus})`);
  if (olds.destinationDrift) recopy.push(olds.destinationDrift);
  if (sourceNow === "missing") {
    decision.warnings.push(`the source ${named(newSource)} no longer exists; the copy is kept as it was`);
    if (recopy.length) decision.warnings.push(`copying again (${recopy.join("; ")}) needs the source: restore it, or undo the change`);
  } else if (sourceNow && news.trackSource !== false) {
    const drift = sourceDrift(olds, sourceNow);
    if (drift) recopy.push(drift);
  }
  decision.changes = replaces.length + recopy.length + tuning.length > 0;
  return decision;
}

/** Whether the source read now differs from the one copied. A source that is gone is not drift. */
export function sourceDrift(olds: CopyState, now: SourceNow): string | undefined {
  if (now === "missing") return undefined;
  if (olds.sourceVersionId && now.versionId && olds.sourceVersionId !== now.versionId) {
    return `the source has a new version (${now.versionId}, copied ${olds.sourceVersionId})`;
  }
  if (olds.sourceEtag && normalizeEtag(olds.sourceEtag) !== normalizeEtag(now.etag)) {
    return `the source's content changed (ETag ${normalizeEtag(now.etag)}, copied ${normalizeEtag(olds.sourceEtag)})`;
  }
  return undefined;
}

/** Whether trackSource asks for the source to be read: unchanged source object, not pinned to a version. */
export function shouldReadSource(olds: CopyState, news: WireInputs, ambient: Ambient): boolean {
  if (news.trackSource === false) return false;
  const now = identityOf(news.source, news.sourceCredentials, ambient);
  return !!now && !now.version && sameObject(identityOf(olds.args.source, olds.sourceCredentials, ambient), now);
}

function named(id: ObjectIdentity | undefined): string {
  return id ? objectId(id) : "not known until apply";
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bKeys = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
