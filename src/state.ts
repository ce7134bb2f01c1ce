/**
 * What is in the state: the resource's outputs, which are also all that a later diff, read, update
 * or delete knows (those calls receive old outputs only). The state is a contract: the installed
 * release runs against state written by every older one, so every layout is read here, and only
 * here. Pure, JSON-safe, with no undefined values (the host's Struct conversion rejects them).
 */
import type { WireInputs } from "./args";
import { CopyError } from "./errors";
import { isPlainObject } from "./checks";
import type { ObjectState, WriteEvidence, Written } from "./stores/types";

/**
 * The layout this release writes. 1 is 0.1.0's (no `stateVersion` field); 2 adds the field itself.
 * A change of meaning or shape takes the next number and an upgrade in `upgradeState`.
 */
export const STATE_VERSION = 2;

/**
 * How the last copy ended: `success`; or, for a copy kept as a partial result, `failed`, `aborted`, or `pending`
 * when the remote copy could not be aborted and may still be running.
 */
export type CopyStatus = "success" | "pending" | "failed" | "aborted";

/** The inputs a copy was made with, less credentials (kept in their own secret fields). */
export type StoredArgs = Omit<WireInputs, "sourceCredentials" | "destinationCredentials">;

export interface CopyState {
  /** The layout of this state; absent in 0.1.0's. */
  stateVersion?: number;
  args: StoredArgs;
  sourceCredentials?: WireInputs["sourceCredentials"];
  destinationCredentials?: WireInputs["destinationCredentials"];
  etag?: string;
  versionId?: string;
  /** Versions this resource wrote before the current one; delete removes these too, and no others. */
  priorVersionIds?: string[];
  sourceEtag?: string;
  sourceVersionId?: string;
  contentLength?: number;
  lastModified?: string;
  copyId?: string;
  copyStatus: CopyStatus;
  strategy?: string;
  durationMs?: number;
  /** Set by refresh when the destination no longer holds what this resource wrote. */
  destinationDrift?: string;
}

/** What a finished copy reports: the destination as written, and what was copied. */
export interface CopyOutcome extends ObjectState {
  sourceEtag: string;
  sourceVersionId?: string;
  strategy: string;
  copyId?: string;
}

/**
 * Reads a state of any release into this release's layout. A state without `args` cannot be acted
 * on (it was edited by hand, or made by an import this package does not support): that is a clear
 * error, never a silent no-op.
 */
export function upgradeState(raw: Record<string, unknown>): CopyState {
  const args = raw.args;
  if (!isPlainObject(args) || !isPlainObject(args.source) || !isPlainObject(args.destination)) {
    throw new CopyError(
      "InvalidInput",
      "this resource's state has no args with a source and a destination, so the package cannot tell what it copied. " +
        "It was not written by pulumi-copied-object (an edited state, or an import, which is not supported). " +
        "Remove it from the state with `pulumi state delete <urn>` and declare it again; the object itself is left as it is",
    );
  }
  const version = raw.stateVersion ?? 1;
  if (typeof version !== "number" || version > STATE_VERSION) {
    throw new CopyError(
      "Unsupported",
      `this resource's state was written by a newer release of pulumi-copied-object (state version ${String(version)}; this one reads up ` +
        `to ${STATE_VERSION}). Upgrade the package`,
    );
  }
  // 1 → 2: the same fields; a state without a status is read by what it holds.
  const copyStatus = (raw.copyStatus as CopyStatus | undefined) ?? (raw.etag ? "success" : "failed");
  const { __provider: _provider, ...rest } = raw;
  return { ...(rest as unknown as CopyState), copyStatus, stateVersion: STATE_VERSION };
}

/** What delete may remove: the versions written, or the last write's ETag and Last-Modified. */
export function evidenceOf(state: CopyState): WriteEvidence {
  const versionIds = [state.versionId, ...(state.priorVersionIds ?? [])].filter((v): v is string => !!v);
  return { versionIds, ...(state.etag ? { etag: state.etag } : {}), ...(state.lastModified ? { lastModified: state.lastModified } : {}) };
}

export function splitInputs(inputs: WireInputs): Pick<CopyState, "args" | "sourceCredentials" | "destinationCredentials"> {
  const { sourceCredentials, destinationCredentials, ...args } = inputs as WireInputs & { __provider?: unknown };
  delete (args as { __provider?: unknown }).__provider;
  return { args, sourceCredentials, destinationCredentials };
}

/** After a copy that finished. `olds` (an update of the same object) carry the versions written before. */
export function successState(inputs: WireInputs, olds: CopyState | undefined, outcome: CopyOutcome, durationMs: number): CopyState {
  const prior = priorVersions(olds, outcome.versionId);
  return jsonSafe({
    stateVersion: STATE_VERSION,
    ...splitInputs(inputs),
    etag: outcome.etag,
    versionId: outcome.versionId,
    ...(prior.length ? { priorVersionIds: prior } : {}),
    sourceEtag: outcome.sourceEtag,
    sourceVersionId: outcome.sourceVersionId,
    contentLength: outcome.contentLength,
    lastModified: outcome.lastModified,
    copyId: outcome.copyId,
    copyStatus: "success",
    strategy: outcome.strategy,
    durationMs,
  });
}

/**
 * After a copy that failed once writing began. The engine keeps it as the resource's outputs, so the
 * next up copies again, and delete removes what this copy wrote (its version, or its ETag) and what
 * earlier copies wrote. `__provider` is kept: a later delete loads its provider from it.
 */
export function partialState(
  inputs: WireInputs,
  olds: CopyState | undefined,
  failure: { status: "failed" | "aborted" | "pending"; copyId?: string; written?: Written; durationMs: number },
): Record<string, unknown> {
  const { written } = failure;
  const versionId = written?.versionId ?? olds?.versionId;
  const prior = priorVersions(olds, versionId);
  return jsonSafe({
    ...(olds ?? {}),
    stateVersion: STATE_VERSION,
    ...splitInputs(inputs),
    ...(written?.etag ? { etag: written.etag, lastModified: written.lastModified } : {}),
    versionId,
    priorVersionIds: prior.length ? prior : undefined,
    copyStatus: failure.status,
    copyId: failure.copyId ?? olds?.copyId,
    durationMs: failure.durationMs,
    __provider: (inputs as { __provider?: string }).__provider,
  });
}

/** An update that writes nothing: the new arguments, and everything known of the copy kept. */
export function tunedState(olds: CopyState, inputs: WireInputs): CopyState {
  return jsonSafe({ ...olds, stateVersion: STATE_VERSION, ...splitInputs(inputs) });
}

function priorVersions(olds: CopyState | undefined, current: string | undefined): string[] {
  if (!olds) return [];
  return [olds.versionId, ...(olds.priorVersionIds ?? [])].filter((v, i, all): v is string => !!v && v !== current && all.indexOf(v) === i);
}

/** Drops undefined values, which the provider host cannot send (Struct.fromJavaScript rejects them). */
export function jsonSafe<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
