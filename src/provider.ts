/**
 * The dynamic provider's methods. The serialized shim in copiedObject.ts requires this file by
 * package name inside each call, so every call runs the installed version, whatever release wrote
 * the state. Thin: inputs → check (args) → diff (diff) → copy, delete, refresh (pipeline) → outputs
 * (state). Every state is read through upgradeState first.
 */
import * as pulumi from "@pulumi/pulumi";
import { validateInputs, type WireInputs } from "./args";
import { decideDiff, shouldReadSource, sourceDrift, type DiffDecision } from "./diff";
import type { Logger } from "./operation";
import { copy, idOf, readSourceNow, refresh, remove } from "./pipeline";
import { jsonSafe, tunedState, upgradeState } from "./state";

const log: Logger = {
  info: (message) => void pulumi.log.info(message),
  warn: (message) => void pulumi.log.warn(message),
  progress: (message) => void pulumi.log.info(message, undefined, undefined, true),
};

/** Read at each call: the provider process's environment is the user's, and is never stored. */
const env = () => process.env;

export async function check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
  return { inputs: jsonSafe(news), failures: validateInputs(news, env()) };
}

export async function diff(_id: string, olds: Record<string, unknown>, news: WireInputs): Promise<pulumi.dynamic.DiffResult> {
  const state = upgradeState(olds);
  const now = shouldReadSource(state, news, env()) ? await readSourceNow(news.source, news.sourceCredentials, log) : undefined;
  const decision = decideDiff(state, news, env(), now);
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

function planned(decision: DiffDecision): string {
  if (decision.replaces.length) return "replace";
  return decision.recopy.length ? "update, copying again" : "update that writes nothing";
}
