/**
 * What is in a CopiedPrefix's state: its arguments, the manifest's counts and digest (the manifest itself lives
 * beside the data, so the state stays the same size at any count), and what the last run did. Pure, JSON-safe,
 * and versioned like CopiedObject's: every layout a release wrote is read here, and only here.
 */
import { isPlainObject } from "./checks";
import { CopyError } from "./errors";
import type { ManifestSummary } from "./manifest";
import type { PrefixWireInputs } from "./prefixOptions";
import type { CopyStatus } from "./state";

/** The layout this release writes for CopiedPrefix (its first). */
export const PREFIX_STATE_VERSION = 1;

export type StoredPrefixArgs = Omit<PrefixWireInputs, "sourceCredentials" | "destinationCredentials">;

export interface PrefixState {
  stateVersion: number;
  args: StoredPrefixArgs;
  sourceCredentials?: PrefixWireInputs["sourceCredentials"];
  destinationCredentials?: PrefixWireInputs["destinationCredentials"];
  /** Objects this resource holds at the destination, and their bytes (the manifest's count and sum). */
  objectCount: number;
  totalBytes: number;
  /** The last run: objects copied, selected but unchanged, and removed by prune. */
  copiedCount: number;
  skippedCount: number;
  removedCount: number;
  /** sha256 of the manifest's entries. */
  manifestDigest: string;
  /** `success`, or for a run kept as a partial result `failed` or `aborted`: the next up resumes from the manifest. */
  copyStatus: CopyStatus;
  /** Which engine ran the last copy: `provider` or `s3-batch`. */
  engine: string;
  durationMs: number;
}

export interface RunCounts {
  copied: number;
  skipped: number;
  removed: number;
}

export function prefixState(
  inputs: PrefixWireInputs,
  manifest: ManifestSummary,
  counts: RunCounts,
  extra: { copyStatus: CopyStatus; engine: string; durationMs: number },
): PrefixState {
  const { sourceCredentials, destinationCredentials, ...args } = inputs;
  return strip({
    stateVersion: PREFIX_STATE_VERSION,
    args: strip(args as unknown as Record<string, unknown>) as unknown as StoredPrefixArgs,
    ...(sourceCredentials ? { sourceCredentials } : {}),
    ...(destinationCredentials ? { destinationCredentials } : {}),
    objectCount: manifest.count,
    totalBytes: manifest.bytes,
    copiedCount: counts.copied,
    skippedCount: counts.skipped,
    removedCount: counts.removed,
    manifestDigest: manifest.digest,
    ...extra,
  }) as unknown as PrefixState;
}

/** A tuning-only update: new arguments, the same copies, nothing written. */
export function retunedPrefix(olds: PrefixState, inputs: PrefixWireInputs): PrefixState {
  const { sourceCredentials, destinationCredentials, ...args } = inputs;
  const { sourceCredentials: _s, destinationCredentials: _d, ...rest } = olds;
  return strip({
    ...rest,
    args: strip(args as unknown as Record<string, unknown>),
    ...(sourceCredentials ? { sourceCredentials } : {}),
    ...(destinationCredentials ? { destinationCredentials } : {}),
    copiedCount: 0,
    skippedCount: 0,
    removedCount: 0,
  }) as unknown as PrefixState;
}

/** Reads a CopiedPrefix state of any release; anything else is a clear error. */
export function upgradePrefixState(props: Record<string, unknown>): PrefixState {
  if (!isPlainObject(props.args) || typeof props.stateVersion !== "number")
    throw new CopyError(
      "InvalidInput",
      "this CopiedPrefix state has no arguments or layout version (edited by hand?); it cannot be acted on",
    );
  if (props.stateVersion > PREFIX_STATE_VERSION)
    throw new CopyError(
      "InvalidInput",
      `this state was written by a newer pulumi-copied-object (layout ${props.stateVersion}; this one reads up to ` +
        `${PREFIX_STATE_VERSION}): upgrade the package`,
    );
  const { __provider: _p, ...rest } = props;
  return rest as unknown as PrefixState;
}

/** No undefined anywhere: the host's Struct conversion rejects it. */
function strip(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}
