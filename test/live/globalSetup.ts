// The live project's globalSetup (jest.config.cjs): reads the LIVE_* variables, probes each store once, picks the
// run's unique prefix and publishes the run to the test files. A store without its variables or credentials is
// skipped, saying why; a named bucket or container that cannot be reached fails the run here.
import { describeRun, isSkipped, preflight } from "../support/liveTargets.ts";

export default async function globalSetup(): Promise<void> {
  const run = await preflight();
  const none = isSkipped(run.s3) && isSkipped(run.azure);
  const header = none ? "live suite: no store is configured, every test is skipped" : `live suite: writing only under ${run.prefix}`;
  process.stdout.write(`\n${header}\n${describeRun(run).map((l) => `  ${l}\n`).join("")}`);
}
