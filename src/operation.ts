/** One operation's plumbing: its logger, and the signal that ends it on timeout or shutdown. */
import { CopyError, isCopyError } from "./errors";

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
