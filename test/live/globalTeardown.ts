// The live project's globalTeardown: after every file, passed or failed, sweeps the whole run prefix on each
// store (every object version, delete marker and multipart upload; every blob, snapshot, version and uncommitted
// blob) and fails the run if anything is left. Each file has already swept its own area in its afterAll.
import { isSkipped, liveContainerClient, liveRun, liveS3Client } from "../support/liveTargets.ts";
import { sweepAzure, sweepS3 } from "../support/liveSweep.ts";

export default async function globalTeardown(): Promise<void> {
  const run = liveRun();
  const failures: unknown[] = [];
  const lines: string[] = [];
  if (!isSkipped(run.s3)) {
    const client = liveS3Client(run.s3);
    try {
      const removed = await sweepS3(client, run.s3, run.prefix);
      lines.push(`s3://${run.s3.bucket}/${run.prefix}: ${removed} left over by the files, removed; nothing remains`);
    } catch (e) {
      failures.push(e);
    } finally {
      client.destroy();
    }
  }
  if (!isSkipped(run.azure)) {
    try {
      const removed = await sweepAzure(liveContainerClient(run.azure), run.prefix);
      lines.push(`${run.azure.url}/${run.azure.container}/${run.prefix}: ${removed} left over by the files, removed; nothing remains`);
    } catch (e) {
      failures.push(e);
    }
  }
  if (lines.length) process.stdout.write(`live suite cleanup:\n${lines.map((l) => `  ${l}\n`).join("")}`);
  if (failures.length) throw new AggregateError(failures, `live suite cleanup failed: ${failures.map((f) => (f as Error).message).join("; ")}`);
}
