/**
 * The dynamic provider's methods. The serialized shim in copiedObject.ts requires this file by
 * package name inside each call, so every call runs the installed version, whatever release wrote
 * the state. Thin: inputs → check (args) → diff (diff) → copy, delete, refresh (pipeline) → outputs
 * (state). Every state is read through upgradeState first.
 */
import * as pulumi from "@pulumi/pulumi";
import { ambient, setStackConfig } from "./ambient";
import { validateInputs, type WireInputs } from "./args";
import { decideDiff, shouldReadSource, sourceDrift, type DiffDecision } from "./diff";
import type { Logger } from "./operation";
import { copy, idOf, readSourceNow, refresh, remove } from "./pipeline";
import { configures, readStackConfig } from "./stackConfig";
import { jsonSafe, tunedState, upgradeState } from "./state";

const log: Logger = {
  info: (message) => void pulumi.log.info(message),
  warn: (message) => void pulumi.log.warn(message),
  progress: (message) => void pulumi.log.info(message, undefined, undefined, true),
};

/** Read at each call: the provider process's environment and the stack's config are the user's, and never stored. */
const env = ambient;

/**
 * The stack's configuration (`aws:*`, `azure-native:*`), handed over by the engine once per provider process.
 * Kept in the process only; a malformed value fails `check` naming its key.
 */
export async function configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
  setStackConfig(readStackConfig((key) => req.config.get(key)));
}

export async function check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
  return { inputs: jsonSafe(news), failures: validateInputs(news, env()) };
}

export async function diff(_id: string, olds: Record<string, unknown>, news: WireInputs): Promise<pulumi.dynamic.DiffResult> {
  const state = upgradeState(olds);
  const now = shouldReadSource(state, news, env()) ? await readSourceNow(news.source, news.sourceCredentials, log) : undefined;
  const decision = decideDiff(state, news, env(), now);
  const shim = oldShim(olds, news);
  if (shim) decision.tuning.push(shim);
  decision.changes ||= !!shim;
  for (const warning of decision.warnings) log.warn(warning);
  // DiffResult has no room for reasons, and "why is this copying again?" is the first question.
  if (decision.changes) log.info(`${planned(decision)}: ${[...decision.recopy, ...decision.tuning].join("; ")}`);
  return { changes: decision.changes, replaces: decision.replaces, deleteBeforeReplace: false };
}

export async function create(inputs: WireInputs): Promise<pulumi.dynamic.CreateResult> {
  const id = idOf(inputs, env());
  return { id, outs: await copy(inputs, undefined, id, env(), log) };
}

export async function update(id: string, olds: Record<string, unknown>, news: WireInputs): Promise<pulumi.dynamic.UpdateResult> {
  const state = upgradeState(olds);
  const decision = decideDiff(state, news, env());
  const why = [...decision.recopy];
  if (!why.length && shouldReadSource(state, news, env())) {
    const now = await readSourceNow(news.source, news.sourceCredentials, log);
    const drift = now && sourceDrift(state, now);
    if (drift) why.push(drift);
  }
  if (!why.length) {
    log.info(`update writes nothing (${decision.tuning.join("; ") || "no change to the copy"}); the copy is kept as it is`);
    return { outs: tunedState(state, news) };
  }
  return { outs: await copy(news, state, id, env(), log, why) };
}

export async function read(id: string, props: Record<string, unknown>): Promise<pulumi.dynamic.ReadResult> {
  const state = upgradeState(props);
  const refreshed = await refresh(
    state,
    env(),
    log,
    shouldReadSource(state, { ...state.args, sourceCredentials: state.sourceCredentials }, env()),
  );
  return refreshed ? { id, props: refreshed } : {};
}

async function remove_(_id: string, props: Record<string, unknown>): Promise<void> {
  await remove(upgradeState(props), log);
}
export { remove_ as delete };

/**
 * A state written before 0.2.0 holds a serialized provider without `configure`, and the engine runs that one for
 * destroy and refresh: they would ignore the stack's config. When that config matters here, an update that writes
 * nothing stores the current provider.
 */
function oldShim(olds: Record<string, unknown>, news: WireInputs): string | undefined {
  const serialized = olds.__provider;
  if (typeof serialized !== "string" || serialized.includes("configure")) return undefined;
  const kinds = [news.source, news.destination].map((l) => Object.keys(l ?? {})[0]);
  const config = env().config;
  const matters =
    (kinds.includes("s3") && configures(config, "aws")) || kinds.some((k) => k?.startsWith("azure") && configures(config, "azure"));
  return matters
    ? "the state's serialized provider predates stack configuration, so destroy would not read it: storing the current one"
    : undefined;
}

function planned(decision: DiffDecision): string {
  if (decision.replaces.length) return "replace";
  return decision.recopy.length ? "update, copying again" : "update that writes nothing";
}
