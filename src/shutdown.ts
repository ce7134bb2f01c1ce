/**
 * The engine cannot cancel a provider call: on shutdown it sends SIGINT to the provider's
 * process group and SIGKILL 5 s later. So this process aborts its own in-flight copies
 * on the first signal, gives their remote cleanup about 4 s, then exits with an error.
 */
import { CopyError } from "./errors";

export const CLEANUP_BUDGET_MS = 4000;

const controller = new AbortController();
const inflight = new Set<Promise<unknown>>();
let installed = false;

/** Fires on SIGINT/SIGTERM. Every remote wait in the provider listens to it. */
export function shutdownSignal(): AbortSignal {
  install();
  return controller.signal;
}

/**
 * Runs `work` as an in-flight operation: on shutdown the process waits (bounded) for it
 * to settle, so that its abort of the remote copy is sent before the process exits.
 */
export async function trackInflight<T>(work: () => Promise<T>): Promise<T> {
  install();
  const running = work();
  const settled = running.then(
    () => undefined,
    () => undefined,
  );
  inflight.add(settled);
  try {
    return await running;
  } finally {
    inflight.delete(settled);
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => onSignal(signal));
}

function onSignal(signal: NodeJS.Signals): void {
  const exitCode = signal === "SIGINT" ? 130 : 143;
  if (controller.signal.aborted) process.exit(exitCode); // a second signal: stop at once
  controller.abort(new CopyError("CopyAborted", `the provider received ${signal}; the remote copy was aborted`));
  const budget = setTimeout(() => process.exit(exitCode), CLEANUP_BUDGET_MS);
  budget.unref();
  void Promise.allSettled([...inflight]).then(() => {
    // A moment for the error responses of the aborted calls to reach the engine.
    setTimeout(() => process.exit(exitCode), 200).unref();
  });
}
