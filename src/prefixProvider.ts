/**
 * CopiedPrefix's dynamic provider methods, required by name by its serialized shim (copiedPrefix.ts), like
 * provider.ts for CopiedObject. Thin: inputs → check (prefixArgs) → diff (the rules below, and the source listed
 * against the manifest) → run (prefixPipeline) or destroy and refresh (prefixLifecycle) → outputs (prefixState).
 */
import * as pulumi from "@pulumi/pulumi";
import { ambient, setStackConfig } from "./ambient";
import { containsUnknown } from "./checks";
import { deepEqual } from "./diff";
import { identityOf, objectId, sameObject } from "./identity";
import type { Logger } from "./operation";
import { validatePrefixInputs } from "./prefixArgs";
import { PREFIX_OPTION_EFFECT, PREFIX_OPTION_KEYS, type PrefixWireInputs } from "./prefixOptions";
import { planPrefix, refreshPrefix, removePrefix } from "./prefixLifecycle";
import { objectAt } from "./prefixLocators";
import { copyPrefix } from "./prefixPipeline";
import { prefixId } from "./prefixRun";
import { retunedPrefix, upgradePrefixState, type PrefixState } from "./prefixState";
import { readStackConfig } from "./stackConfig";
import { jsonSafe } from "./state";

const log: Logger = {
  info: (message) => void pulumi.log.info(message),
  warn: (message) => void pulumi.log.warn(message),
  progress: (message) => void pulumi.log.info(message, undefined, undefined, true),
};

export async function configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
  setStackConfig(readStackConfig((key) => req.config.get(key)));
}

export async function check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
  return { inputs: jsonSafe(news), failures: validatePrefixInputs(news, ambient()) };
}

interface Decision {
  replaces: string[];
  /** Every selected object is copied again. */
  recopy: string[];
  /** The run decides per object (a selection change, an unfinished run, a changed source listing). */
  run: string[];
  tuning: string[];
}

function decide(olds: PrefixState, news: PrefixWireInputs): Decision {
  const d: Decision = { replaces: [], recopy: [], run: [], tuning: [] };
  const was = olds.args;
  const name = (l: PrefixWireInputs["source"], c: unknown) => identityOf(objectAt(l, ""), c, ambient());
  const [oldDst, newDst] = [name(was.destination, olds.destinationCredentials), name(news.destination, news.destinationCredentials)];
  if (!sameObject(oldDst, newDst)) d.replaces.push("destination");
  else if (!deepEqual(was.destination, news.destination)) d.tuning.push("the destination is spelt differently");
  const [oldSrc, newSrc] = [name(was.source, olds.sourceCredentials), name(news.source, news.sourceCredentials)];
  if (!sameObject(oldSrc, newSrc))
    d.recopy.push(`the source changed (${oldSrc ? objectId(oldSrc) : "?"} → ${newSrc ? objectId(newSrc) : "?"})`);
  else if (!deepEqual(was.source, news.source)) d.tuning.push("the source is spelt differently");
  for (const key of PREFIX_OPTION_KEYS) {
    if (deepEqual((was as Record<string, unknown>)[key], (news as unknown as Record<string, unknown>)[key])) continue;
    const effect: string = PREFIX_OPTION_EFFECT[key];
    (effect === "content" ? d.recopy : effect === "selection" ? d.run : d.tuning).push(`${key} changed`);
  }
  if (!deepEqual(olds.sourceCredentials, news.sourceCredentials) || !deepEqual(olds.destinationCredentials, news.destinationCredentials))
    d.tuning.push("credentials changed");
  if (olds.copyStatus !== "success") d.run.push(`the last run did not finish (${olds.copyStatus})`);
  return d;
}

export async function diff(_id: string, olds: Record<string, unknown>, news: PrefixWireInputs): Promise<pulumi.dynamic.DiffResult> {
  const state = upgradePrefixState(olds);
  const d = decide(state, news);
  if (!d.replaces.length && !d.recopy.length && news.trackSource !== false && !containsUnknown(news)) {
    const changes = await planPrefix(state, news);
    log.info(
      `${changes.added} new, ${changes.changed} changed, ${changes.removed} removed at the source${changes.manifestMissing ? " (no manifest)" : ""}`,
    );
    if (changes.added || changes.changed || (news.prune && changes.removed)) d.run.push("the source's objects changed");
  }
  const changes = d.replaces.length + d.recopy.length + d.run.length + d.tuning.length > 0;
  if (changes)
    log.info(
      `${d.replaces.length ? "replace" : d.recopy.length || d.run.length ? "update" : "update that writes nothing"}: ${[...d.recopy, ...d.run, ...d.tuning].join("; ")}`,
    );
  return { changes, replaces: d.replaces, deleteBeforeReplace: false };
}

export async function create(inputs: PrefixWireInputs): Promise<pulumi.dynamic.CreateResult> {
  const id = prefixId(inputs, ambient());
  return { id, outs: await runPrefix(inputs, undefined, id, false) };
}

export async function update(id: string, olds: Record<string, unknown>, news: PrefixWireInputs): Promise<pulumi.dynamic.UpdateResult> {
  const state = upgradePrefixState(olds);
  const d = decide(state, news);
  if (!d.recopy.length && !d.run.length && news.trackSource === false) {
    log.info(`update writes nothing (${d.tuning.join("; ") || "no change"})`);
    return { outs: retunedPrefix(state, news) };
  }
  // Nothing in the inputs changed: the engine updates because diff found the source's objects changed, so run (one
  // listing, not a second one to find that again). With tuning changes, look first: tuning alone writes nothing.
  if (!d.recopy.length && !d.run.length && d.tuning.length) {
    // Tuning, unless the source moved since the preview: the run then copies just that, and writes nothing otherwise.
    const changes = await planPrefix(state, news);
    if (!changes.added && !changes.changed && !(news.prune && changes.removed)) {
      log.info(`update writes nothing (${d.tuning.join("; ") || "no change"})`);
      return { outs: retunedPrefix(state, news) };
    }
  }
  return { outs: await runPrefix(news, state, id, d.recopy.length > 0) };
}

/**
 * A run, by the engine prefixBatch.ts chooses: S3 Batch Operations for "s3-batch" (or "auto" at scale), else this
 * provider (prefixPipeline.ts). The batch module loads its SDK only when a job runs.
 */
async function runPrefix(inputs: PrefixWireInputs, olds: PrefixState | undefined, id: string, recopy: boolean): Promise<PrefixState> {
  const batch = require("./prefixBatch") as typeof import("./prefixBatch");
  if (await batch.batchChosen(inputs, recopy, ambient(), log)) return batch.copyPrefixByBatch(inputs, olds, id, ambient(), log, recopy);
  return copyPrefix(inputs, olds, id, ambient(), log, recopy);
}

export async function read(id: string, props: Record<string, unknown>): Promise<pulumi.dynamic.ReadResult> {
  const refreshed = await refreshPrefix(upgradePrefixState(props), log);
  return refreshed ? { id, props: refreshed as unknown as Record<string, unknown> } : {};
}

async function remove_(_id: string, props: Record<string, unknown>): Promise<void> {
  await removePrefix(upgradePrefixState(props), log);
}
export { remove_ as delete };
