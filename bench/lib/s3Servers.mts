/** The S3 servers P1 runs on: moto, and a throwaway Ceph RGW (test/support/ceph-rgw.sh). */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startS3Server, type S3Server } from "../../test/support/s3server.ts";
import { repoRoot } from "../../test/support/s3rig.ts";

const run = promisify(execFile);
const SCRIPT = path.join(repoRoot, "test/support/ceph-rgw.sh");

export type BenchS3Server = S3Server & {
  /** Frees deleted objects' data now, rather than at RGW's next garbage collection. */
  collectGarbage(): Promise<void>;
  /** The server's own processes (moto; or Ceph's mon, osd and radosgw), for reading their CPU time. */
  pids(): number[];
};

export async function startMoto(): Promise<BenchS3Server> {
  const saved = process.env.S3_TEST_ENDPOINT;
  delete process.env.S3_TEST_ENDPOINT; // always moto here, whatever the shell exports
  try {
    const server = await startS3Server();
    const port = new URL(server.endpoint).port;
    return { ...server, collectGarbage: async () => {}, pids: () => processesWith(["moto", "-p", port]) };
  } finally {
    if (saved !== undefined) process.env.S3_TEST_ENDPOINT = saved;
  }
}

/** A Ceph RGW storing on disk (bluestore in a sparse file), or why it could not start. */
export async function startCeph(): Promise<BenchS3Server | string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-rgw-"));
  fs.rmSync(dir, { recursive: true });
  try {
    const { stdout } = await run("bash", [SCRIPT, "start", dir], { env: { ...process.env, CEPH_OBJECTSTORE: "bluestore" }, maxBuffer: 1 << 20 });
    const vars = Object.fromEntries([...stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    const env = { ...process.env, CEPH_CONF: path.join(dir, "ceph.conf") };
    return {
      kind: "ceph",
      endpoint: vars.S3_TEST_ENDPOINT,
      region: vars.S3_TEST_REGION,
      accessKeyId: vars.S3_TEST_ACCESS_KEY_ID,
      secretAccessKey: vars.S3_TEST_SECRET_ACCESS_KEY,
      stop: async () => void (await run("bash", [SCRIPT, "stop", dir]).catch(() => undefined)),
      collectGarbage: async () => void (await run("radosgw-admin", ["gc", "process", "--include-all"], { env })),
      pids: () => fs.readFileSync(path.join(dir, "pids"), "utf8").split(/\s+/).filter(Boolean).map(Number),
    };
  } catch (e) {
    return `Ceph RGW did not start (${(e as { stderr?: string }).stderr?.trim().split("\n").slice(-2).join(" / ") ?? (e as Error).message})`;
  }
}

/** Processes whose command line holds every one of `words` (as whole arguments, or inside one). */
function processesWith(words: string[]): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (words.every((w) => args.some((a) => a === w || (w.length > 3 && a.includes(w))))) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
