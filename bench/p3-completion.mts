/**
 * P3: noticing completion. How late after the service finishes an asynchronous Copy Blob do we
 * return, and how many status requests (Get Blob Properties) does it cost?
 *
 * SIMULATION: Azurite finishes every copy at once, so the scripted proxy (test/support/
 * azureCopyProxy.ts, timed mode) plays copies of 10 s, 2 min and 10 min: x-ms-copy-progress
 * growing at ~100 MiB/s in 8 MiB steps, then `success` at a fixed instant whether or not anyone
 * asks. A round's copies last the nominal duration ± up to half the longest fixed interval (the
 * same offset for every policy in that round), so completion does not fall in step with a fixed
 * poller by construction (10 s, 2 min and 10 min are multiples of both). Each duration runs twice: progressing from the start, and queued at 0 bytes for its
 * first 5 % (Azure schedules copies; how long they queue is undocumented, so both are shown). The copy goes through Pulumi's real provider host
 * (Check + Create of a same-account azureBlob CopiedObject, as blob-pending.test.ts does).
 * delay = the moment Create returned − the scripted completion instant, both performance.now()
 * in this process (the proxy runs here).
 *
 * Contenders are polling policies of the same resource: ours (the default, progress-driven
 * schedule in src/operation.ts) and two fixed intervals set with pollIntervalSeconds, emulating
 * azurerm (10 s) and an impatient poller (1 s). All rounds of all contenders of all durations run
 * at once, each on its own destination blob: polling costs no CPU, and each delay is measured
 * against its own copy's clock, so the whole benchmark takes about as long as the longest copy.
 * One provider host per contender, so a policy's polls never share an event loop with another's.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { CopiedObject, type CopiedObjectArgs } from "pulumi-copied-object";
import { startAzureCopyProxy, type AzureCopyProxy } from "../test/support/azureCopyProxy.ts";
import { blobService, startAzurite, type AzuriteAccount } from "../test/support/azurite.ts";
import { MiniEngine } from "../test/support/engine.ts";
import { ProviderHost, registerUnderMocks } from "../test/support/providerHost.ts";
import { repoRoot } from "../test/support/s3rig.ts";
import type { BenchOptions } from "./run.mts";
import { concurrentRounds } from "./lib/concurrentRounds.mts";
import { plotPng } from "./lib/plot.mts";
import { resultsDir, writeReport } from "./lib/report.mts";
import { fmt, type CaseResult, type Contender } from "./lib/sideBySide.mts";

const MiB = 1024 ** 2;
const RATE_BYTES_PER_S = 100 * MiB;
const STEP_BYTES = 8 * MiB;
/** Progress from the first moment, or a queued start at 0 bytes (5 % of the duration: an assumption). */
const SCENARIOS = [
  { key: "steady", queuedShare: 0, suffix: "" },
  { key: "queued", queuedShare: 0.05, suffix: ", queued 5 % first" },
];
type Scenario = (typeof SCENARIOS)[number];
const GOAL_DELAY_MS = 1000;
/** Round r's copies last nominal + span × (frac((r+1)/φ) − ½): a low-discrepancy spread of completion phases. */
const phaseOffsetMs = (round: number, spanMs: number) => Math.round(spanMs * ((((round + 1) * 0.6180339887) % 1) - 0.5));
const GOAL_REQUESTS = 30;

interface Policy { name: string; role: Contender["role"]; args: Partial<CopiedObjectArgs> }
const POLICIES: Policy[] = [
  { name: "CopiedObject (adaptive)", role: "ours", args: {} },
  { name: "fixed 10 s polling (azurerm)", role: "peer", args: { pollIntervalSeconds: 10 } },
  { name: "fixed 1 s polling", role: "peer", args: { pollIntervalSeconds: 1 } },
];

/** When each status request of one run came, in s since the copy started. */
interface Timeline { reads: number[]; completedS: number }

export async function run({ rounds, quick }: BenchOptions): Promise<void> {
  const durations = quick ? [2_000, 6_000, 20_000] : [10_000, 120_000, 600_000];
  const longest = durations[durations.length - 1];
  // Half the 10 s interval either way; in a quick run, no more than the shortest copy.
  const spanMs = Math.min(10_000, durations[0]);
  const azurite = await startAzurite();
  const hosts: ProviderHost[] = [];
  let proxy: AzureCopyProxy | undefined;
  try {
    const account = azurite.accounts.primary;
    proxy = await startAzureCopyProxy(azurite.endpoint);
    const env = { AZURE_STORAGE_ACCOUNT: account.name, AZURE_STORAGE_KEY: account.key, AZURE_STORAGE_CONNECTION_STRING: "" };
    for (const _ of POLICIES) {
      const host = await ProviderHost.start({ cwd: repoRoot, env, callTimeoutMs: longest + 300_000 });
      hosts.push(host);
      await host.configure();
    }
    const [src, dst] = [`p3src${randomBytes(4).toString("hex")}`, `p3dst${randomBytes(4).toString("hex")}`];
    await blobService(account).createContainer(src);
    await blobService(account).createContainer(dst);
    await blobService(account).getContainerClient(src).getBlockBlobClient("seed").upload("x".repeat(1024), 1024);

    const timelines = new Map<string, Timeline>(); // `${scenario}/${duration}/${policy}`, round 1 only
    const contenders = (durationMs: number, scenario: Scenario): Contender[] => POLICIES.map((policy, p) => ({
      name: policy.name, role: policy.role,
      run: (round) => measure({ proxy: proxy!, engine: new MiniEngine(hosts[p]), account, src, dst, nominalMs: durationMs, durationMs: durationMs + phaseOffsetMs(round, spanMs), scenario, policy, round, timelines }),
    }));
    const runs = SCENARIOS.length * durations.length * POLICIES.length * rounds;
    console.log(`[p3] ${runs} simulated copies (${durations.map(label).join(", ")}; ${SCENARIOS.map((s) => s.key).join(" and ")}; ${POLICIES.length} policies × ${rounds} rounds), all at once: about ${label(longest)}`);
    const cases = await Promise.all(SCENARIOS.flatMap((scenario) => durations.map(async (durationMs) => {
      const c = await concurrentRounds({
        bench: "p3", case: `${label(durationMs)} copy${scenario.suffix}`, rounds, metric: "delayMs", contenders: contenders(durationMs, scenario),
        notes: [`Simulated: rounds last ${Array.from({ length: rounds }, (_, r) => label(durationMs + phaseOffsetMs(r, spanMs))).join(", ")}; ${scenario.queuedShare ? "queued the first 5 % at 0 bytes, then " : ""}~100 MiB/s (${fmt(totalOf(durationMs), "totalBytes")} for ${label(durationMs)}), progress in 8 MiB steps.`],
      });
      const ours = timelines.get(`${scenario.key}/${durationMs}/${POLICIES[0].name}`);
      if (ours) c.notes.push(`Our status requests in round 1, in s after Copy Blob (completion at ${ours.completedS.toFixed(1)}): ${ours.reads.map((t) => t.toFixed(1)).join(", ")}.`);
      return c;
    })));

    const plots = SCENARIOS.map((scenario) => plotPng({
      file: path.join(resultsDir, scenario.key === "steady" ? "p3.png" : `p3-${scenario.key}.png`),
      title: `P3 (simulated ${label(longest)} copy${scenario.suffix}): status requests over time, round 1`,
      xLabel: "seconds since Copy Blob was accepted", yLabel: "status requests so far (log scale)", logY: true,
      series: POLICIES.map((policy) => ({ name: policy.name, style: "steps" as const, points: (timelines.get(`${scenario.key}/${longest}/${policy.name}`)?.reads ?? []).map((t, i): [number, number] => [t, i + 1]) })),
      markers: [{ x: timelines.get(`${scenario.key}/${longest}/${POLICIES[0].name}`)?.completedS ?? longest / 1000, label: "copy completes" }],
    }));
    for (const plot of plots) console.log(plot.png ? `[p3] wrote ${path.relative(process.cwd(), plot.png)}` : `[p3] no plot: ${plot.reason}`);

    const oursIn = (c: CaseResult) => c.contenders.find((x) => x.role === "ours")!;
    const quickly = quick ? " (quick run: a shorter copy stands in for the 10-minute one)" : "";
    const verdict = (c: CaseResult, what: string, metric: string, goal: number) => {
      const stats = oursIn(c).stats[metric];
      if (!stats) return `${what} on the ${c.case}: no successful run of ours.`;
      return `${what} on the ${c.case}: worst ${fmt(stats.max, metric)}, median ${fmt(stats.median, metric)} (goal ≤ ${fmt(goal, metric)}): ${stats.max <= goal ? "met" : stats.median <= goal ? "met by the median, not in every round" : "not met"}${quickly}.`;
    };
    const goalCases = cases.filter((c) => c.case.startsWith(`${label(longest)} copy`));
    const late = cases.filter((c) => (oursIn(c).stats.delayMs?.max ?? Infinity) > GOAL_DELAY_MS);
    writeReport({
      bench: "p3", title: "P3: noticing completion (simulated Azure Copy Blob)",
      about: [
        "SIMULATION: Azurite finishes copies at once, so a scripted proxy in front of it reports each Copy Blob `pending` until a fixed instant, with `x-ms-copy-progress` growing at ~100 MiB/s in 8 MiB steps, then `success`. Round r's copies last the nominal duration plus an offset within ±5 s (the same for every policy in the round), so completion is not in step with a fixed 1 s or 10 s poller by construction. Each duration is played twice: progressing from the start, and queued at 0 bytes for its first 5 % (the step size and the queueing are assumptions: Azure documents neither). It measures our polling policy, not Azure's timing.",
        "Each run is a Check + Create through Pulumi's real dynamic-provider host. **delay** = when Create returned − when the simulated copy completed (our final reads and the gRPC return included). **status requests** = Get Blob Properties on the destination from Copy Blob to return, including the provider's read after completion.",
        "Peers are emulated polling policies of the same resource (`pollIntervalSeconds`), not other tools: azurerm's blob copy (`source_uri`) waits with giovanni's `CopyAndWait`, which polls Get Blob Properties every 10 s (vendor/github.com/jackofallops/giovanni/storage/2023-11-03/blob/blobs/copy_and_wait.go in terraform-provider-azurerm); 1 s stands for an impatient fixed poller.",
        "All rounds and durations run concurrently (one provider host per policy, one destination blob per run): polling costs no CPU and each delay is measured against its own copy's clock.",
      ],
      cases,
      extraMarkdown: [requestsTable(cases), ...plots.map((plot, i) => plot.png ? `![status requests over time, ${SCENARIOS[i].key}](${path.basename(plot.png)})` : `(no plot: ${plot.reason})`)],
      verdicts: [
        ...goalCases.flatMap((c) => [verdict(c, "Delay", "delayMs", GOAL_DELAY_MS), verdict(c, "Status requests", "statusRequests", GOAL_REQUESTS)]),
        late.length
          ? `Delay above 1 s in some round of: ${late.map((c) => `${c.case} (worst ${fmt(oursIn(c).stats.delayMs?.max, "delayMs")})`).join("; ")}.`
          : "Delay within 1 s in every round of every copy.",
      ],
    });
  } finally {
    await proxy?.close();
    await Promise.all(hosts.map((h) => h.stop()));
    await azurite.stop();
  }
}

async function measure(o: {
  proxy: AzureCopyProxy; engine: MiniEngine; account: AzuriteAccount; src: string; dst: string;
  nominalMs: number; durationMs: number; scenario: Scenario; policy: Policy; round: number; timelines: Map<string, Timeline>;
}) {
  const blob = `${o.scenario.key}-${o.nominalMs}-${slug(o.policy.name)}-r${o.round}`;
  const where = `/${o.account.name}/${o.dst}/${blob}`;
  o.proxy.arm(where, { durationMs: o.durationMs, queuedMs: o.durationMs * o.scenario.queuedShare, totalBytes: totalOf(o.durationMs), stepBytes: STEP_BYTES, final: "success" });
  const at = (container: string, name: string) => ({ azureBlob: { accountUrl: `${o.proxy.endpoint}/${o.account.name}`, container, blob: name } });
  const [reg] = await registerUnderMocks(() => new CopiedObject(blob, { source: at(o.src, "seed"), destination: at(o.dst, blob), ...o.policy.args }));
  const t0 = performance.now();
  const { deployed } = await o.engine.up(reg);
  const returned = performance.now();
  const view = o.proxy.peek(where);
  if (deployed.outputs.copyStatus !== "success") throw new Error(`copyStatus ${String(deployed.outputs.copyStatus)}`);
  if (!view?.completedAt) throw new Error(`the simulated copy on ${where} never completed`);
  if (returned < view.completedAt) throw new Error(`Create returned ${(view.completedAt - returned).toFixed(0)} ms before the copy completed`);
  if (o.round === 0) o.timelines.set(`${o.scenario.key}/${o.nominalMs}/${o.policy.name}`, { reads: view.readsAt.map((t) => (t - view.startedAt) / 1000), completedS: (view.completedAt - view.startedAt) / 1000 });
  return {
    ms: returned - t0,
    delayMs: returned - view.completedAt,
    statusRequests: view.readsAt.length,
    pendingAnswers: view.polls,
    readsAfterCompletion: view.readsAt.filter((t) => t >= view.completedAt!).length,
  };
}

/** The second ratio: status requests, ours ÷ the peer that sent fewest. */
function requestsTable(cases: CaseResult[]): string {
  const rows = cases.flatMap((c) => {
    const peers = c.contenders.filter((x) => x.role === "peer" && x.stats.statusRequests).sort((a, b) => a.stats.statusRequests.median - b.stats.statusRequests.median);
    const fewest = peers[0]?.stats.statusRequests.median;
    const bestDelay = c.ratio ? c.contenders.find((x) => x.name === c.ratio!.bestPeer)?.stats.delayMs?.median : undefined;
    return c.contenders.map((x) => {
      const s = x.stats;
      if (!s.statusRequests) return `| ${c.case} | ${x.name} | — | — | — | — |`;
      const range = s.statusRequests.min === s.statusRequests.max ? `${s.statusRequests.median}` : `${s.statusRequests.median} (${s.statusRequests.min}–${s.statusRequests.max})`;
      return `| ${c.case} | ${x.name} | ${fmt(s.delayMs.median, "delayMs")} (${fmt(s.delayMs.min, "delayMs")}–${fmt(s.delayMs.max, "delayMs")}) | ${bestDelay ? `${(s.delayMs.median / bestDelay).toFixed(2)}×` : "—"} | ${range} | ${fewest ? `${(s.statusRequests.median / fewest).toFixed(2)}×` : "—"} |`;
    });
  });
  return [
    "**Delay and status requests together** (median, min–max; each ratio is over the best peer for that figure: the lowest delay, the fewest requests)",
    "",
    "| copy | contender | delay | delay ÷ best peer | status requests | requests ÷ fewest peer |",
    "|---|---|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}

function totalOf(durationMs: number): number {
  return Math.round((RATE_BYTES_PER_S * durationMs) / 1000 / STEP_BYTES) * STEP_BYTES;
}

function label(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : ms >= 1000 ? `${+(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}
