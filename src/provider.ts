/**
 * The dynamic provider's methods. The serialized shim in copiedObject.ts requires this
 * file by package name inside each call, so every call runs the installed version.
 * Thin: rules live in args/diff/plan, remote work in stores/.
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_TIMEOUT_SECONDS, containsUnknown, validateInputs, type WireInputs } from "./args";
import { CREDENTIALS_ONLY, decideDiff, deepEqual, sourceDrift, type SourceNow } from "./diff";
import { CopyError, isCopyError } from "./errors";
import { abortReason, operationSignal, withoutUndefined, type CopyOutputs, type CopyStatus, type Logger } from "./operation";
import { shutdownSignal, trackInflight } from "./shutdown";
import { copierFor, storeFor, type CopyOutcome } from "./stores";

const log: Logger = {
  info: (message) => void pulumi.log.info(message),
  warn: (message) => void pulumi.log.warn(message),
  progress: (message) => void pulumi.log.info(message, undefined, undefined, true),
};

/** Short calls (HEAD, DELETE, LIST) get this long, whatever timeoutSeconds says. */
const QUICK_CALL_SECONDS = 120;

export async function check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
  return { inputs: withoutUndefined(news), failures: validateInputs(news) };
}

export async function diff(_id: string, olds: CopyOutputs, news: WireInputs): Promise<pulumi.dynamic.DiffResult> {
  if (!olds.args) return { changes: true };
  const decision = decideDiff(olds, news, await trackedSource(olds, news));
  // DiffResult has no room for reasons, and "why is this re-copying?" is the first question.
  if (decision.changes) log.info(`${decision.replaces.length ? "replace" : "update"}: ${decision.reasons.join("; ")}`);
  return { changes: decision.changes, replaces: decision.replaces, deleteBeforeReplace: false };
}

export async function create(inputs: WireInputs): Promise<pulumi.dynamic.CreateResult> {
  const id = storeFor(inputs.destination).describe(inputs.destination);
  const outs = await copy(inputs, id, undefined);
  return { id, outs };
}

export async function update(id: string, olds: CopyOutputs, news: WireInputs): Promise<pulumi.dynamic.UpdateResult> {
  const decision = decideDiff(olds, news);
  if (decision.reasons.length === 1 && decision.reasons[0] === CREDENTIALS_ONLY) {
    const now = await trackedSource(olds, news);
    if (!now || !sourceDrift(olds, now)) {
      log.info("only credentials changed; the destination is left as it is");
      return { outs: withoutUndefined({ ...olds, sourceCredentials: news.sourceCredentials, destinationCredentials: news.destinationCredentials }) };
    }
  }
  return { outs: await copy(news, id, olds) };
}

export async function read(id: string, props: CopyOutputs): Promise<pulumi.dynamic.ReadResult> {
  if (!props.args) return { id, props };
  const { destination } = props.args;
  const now = await quick((signal) => storeFor(destination).head(destination, props.destinationCredentials, signal, "destination"));
  if (!now) return {};
  const drift =
    props.versionId && now.versionId && now.versionId !== props.versionId
      ? `the destination's current version is ${now.versionId}, not ${props.versionId} written by this resource`
      : props.etag && now.etag !== props.etag
        ? `the destination's content changed outside Pulumi (ETag ${now.etag}, wrote ${props.etag})`
        : undefined;
  const { destinationDrift: _previous, ...rest } = props;
  return { id, props: withoutUndefined({ ...rest, ...(drift ? { destinationDrift: drift } : {}), contentLength: now.contentLength, lastModified: now.lastModified }) };
}

async function remove(_id: string, props: CopyOutputs): Promise<void> {
  if (!props.args) return;
  const { destination } = props.args;
  const store = storeFor(destination);
  const versionIds = [props.versionId, ...(props.priorVersionIds ?? [])].filter((v): v is string => !!v);
  await quick(async (signal) => {
    await store.abandonLeftovers(destination, props.destinationCredentials, signal, log);
    if (props.copyStatus === "success" || props.etag) {
      await store.remove(destination, props.destinationCredentials, versionIds, signal, log);
    }
  });
}
export { remove as delete };

/** Runs the copy with its deadline; a failure after the first write carries partial state. */
async function copy(inputs: WireInputs, id: string, olds: CopyOutputs | undefined): Promise<CopyOutputs> {
  const started = Date.now();
  const timeoutSeconds = inputs.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  const operation = operationSignal(timeoutSeconds, shutdownSignal());
  let wrote = false;
  let copyId: string | undefined;
  try {
    const outcome = await trackInflight(() =>
      copierFor(inputs.source, inputs.destination)({
        source: inputs.source,
        destination: inputs.destination,
        sourceCredentials: inputs.sourceCredentials,
        destinationCredentials: inputs.destinationCredentials,
        options: inputs,
        signal: operation.signal,
        log,
        onStarted: (started) => {
          wrote = true;
          copyId = started?.copyId ?? copyId;
        },
      }),
    );
    return outputsOf(inputs, olds, outcome, Date.now() - started);
  } catch (e) {
    const error = isCopyError(e) ? e : operation.signal.aborted ? abortReason(operation.signal) : new CopyError("CopyFailed", (e as Error).message ?? String(e), { cause: e });
    // A destination that does not exist was never written: nothing to keep.
    if (!wrote || error.code === "DestinationNotFound") throw error;
    const status: CopyStatus = error.code === "CopyAborted" || error.code === "CopyTimedOut" ? "aborted" : "failed";
    // Kept by the engine as a partial result, so the next up re-copies and destroy cleans up.
    // The host sends these as they are, and the engine keeps them as the resource's outputs:
    // without __provider, a later delete could not load its provider.
    const partial = withoutUndefined({
      ...(olds ?? {}),
      ...argsAndCredentials(inputs),
      copyStatus: status,
      copyId: copyId ?? olds?.copyId,
      durationMs: Date.now() - started,
      __provider: (inputs as { __provider?: string }).__provider,
    });
    throw Object.assign(error, { id, properties: partial, reasons: [error.message] });
  } finally {
    operation.dispose();
  }
}

function outputsOf(inputs: WireInputs, olds: CopyOutputs | undefined, outcome: CopyOutcome, durationMs: number): CopyOutputs {
  // Versions this resource wrote before, kept so delete can remove them and only them.
  const sameObject = olds && storeFor(olds.args.destination).describe(olds.args.destination) === storeFor(inputs.destination).describe(inputs.destination);
  const prior = sameObject ? [olds.versionId, ...(olds.priorVersionIds ?? [])].filter((v): v is string => !!v && v !== outcome.versionId) : [];
  return withoutUndefined({
    ...argsAndCredentials(inputs),
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

function argsAndCredentials(inputs: WireInputs): Pick<CopyOutputs, "args" | "sourceCredentials" | "destinationCredentials"> {
  const { sourceCredentials, destinationCredentials, ...args } = inputs as WireInputs & { __provider?: unknown };
  delete (args as { __provider?: unknown }).__provider;
  return { args, sourceCredentials, destinationCredentials };
}

/** The source as it is now, when trackSource asks and a read can tell something new. */
async function trackedSource(olds: CopyOutputs, news: WireInputs): Promise<SourceNow | undefined> {
  if (news.trackSource === false || containsUnknown(news.source) || !deepEqual(olds.args.source, news.source)) return undefined;
  // A pinned version or snapshot never changes.
  if ("s3" in news.source && news.source.s3.versionId) return undefined;
  if ("azureBlob" in news.source && (news.source.azureBlob.versionId || news.source.azureBlob.snapshot)) return undefined;
  if ("azureFile" in news.source && news.source.azureFile.shareSnapshot) return undefined;
  try {
    const now = await quick((signal) => storeFor(news.source).head(news.source, news.sourceCredentials, signal, "source"));
    return now ? { etag: now.etag, versionId: now.versionId } : "missing";
  } catch (e) {
    log.warn(`could not read the source to see whether it changed (${(e as Error).message}); assuming it did not`);
    return undefined;
  }
}

async function quick<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const operation = operationSignal(QUICK_CALL_SECONDS, shutdownSignal());
  try {
    return await trackInflight(() => work(operation.signal));
  } finally {
    operation.dispose();
  }
}
