import type { WireInputs } from "./args";
import { CopyError, isCopyError } from "./errors";

export type CopyStatus = "success" | "pending" | "failed" | "aborted";

/**
 * The resource's outputs, which are also everything a later diff, read, update or delete
 * knows: those calls receive old outputs only. JSON-safe, with no undefined values.
 */
export interface CopyOutputs {
  /** The inputs the copy was made with, less credentials (those are kept in their own secret fields). */
  args: Omit<WireInputs, "sourceCredentials" | "destinationCredentials">;
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

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  /** Short-lived progress lines (Pulumi shows them as ephemeral). */
  progress(message: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, progress() {} };

/**
 * One signal for one operation: fires when the timeout passes or the parent (process
 * shutdown) fires, with a CopyError as its reason so callers can report which.
 */
export function operationSignal(timeoutSeconds: number, parent: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new CopyError("CopyTimedOut", `the copy did not finish within timeoutSeconds (${timeoutSeconds} s)`));
  }, timeoutSeconds * 1000);
  const onParent = () => controller.abort(parent.reason);
  if (parent.aborted) onParent();
  else parent.addEventListener("abort", onParent, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener("abort", onParent);
    },
  };
}

/** The CopyError that explains why `signal` fired. */
export function abortReason(signal: AbortSignal): CopyError {
  const reason: unknown = signal.reason;
  if (isCopyError(reason)) return reason;
  return new CopyError("CopyAborted", `the copy was aborted (${reason instanceof Error ? reason.message : String(reason)})`);
}

/** Drops undefined values, which the provider host cannot send (Struct.fromJavaScript rejects them). */
export function withoutUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
