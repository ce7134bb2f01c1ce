/**
 * The S3 server the integration tests run against: moto on a free port by default, or an
 * external server (Ceph RGW from `test/support/ceph-rgw.sh`) when `S3_TEST_ENDPOINT` is set.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { S3Client } from "@aws-sdk/client-s3";
import { killGroup, stopGroup, track } from "./processGroups.ts";

export interface S3Server {
  /** Which server's quirks to expect (see `reference/s3-servers.md`). */
  kind: "moto" | "ceph";
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Ends a server this process started, and waits for it; a no-op for an external one. */
  stop(): Promise<void>;
}

const INSTALL_HINT = 'moto is not installed: install it with `python3 -m pip install "moto[server]"`';
const NOT_INSTALLED = /command not found|ENOENT|No module named/;

/**
 * The external server in `S3_TEST_ENDPOINT` (with `S3_TEST_ACCESS_KEY_ID`, `S3_TEST_SECRET_ACCESS_KEY`,
 * `S3_TEST_REGION` and `S3_TEST_KIND`, default ceph) if set, else a new moto server on a free port.
 * `moto: true` always starts a new moto server (a second, separate S3 service).
 */
export async function startS3Server(options: { moto?: boolean } = {}): Promise<S3Server> {
  const env = process.env;
  if (env.S3_TEST_ENDPOINT && !options.moto) {
    const kind = env.S3_TEST_KIND ?? "ceph";
    if (kind !== "moto" && kind !== "ceph") throw new Error(`S3_TEST_KIND must be moto or ceph, not ${kind}`);
    if (!env.S3_TEST_ACCESS_KEY_ID || !env.S3_TEST_SECRET_ACCESS_KEY) {
      throw new Error("S3_TEST_ENDPOINT needs S3_TEST_ACCESS_KEY_ID and S3_TEST_SECRET_ACCESS_KEY");
    }
    return {
      kind,
      endpoint: env.S3_TEST_ENDPOINT,
      region: env.S3_TEST_REGION ?? "us-east-1",
      accessKeyId: env.S3_TEST_ACCESS_KEY_ID,
      secretAccessKey: env.S3_TEST_SECRET_ACCESS_KEY,
      stop: async () => {},
    };
  }
  const failures: string[] = [];
  // On PATH, in the project's .venv (where `npm test` installs it when missing), or as a Python module.
  const local = path.join(process.cwd(), ".venv", "bin", "moto_server");
  for (const [command, prefix] of [["moto_server", []], [local, []], ["python3", ["-m", "moto.server"]]] as const) {
    // A port freed by freePort() can be taken before moto binds it: retry on a fresh one.
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await startMoto(command, prefix, await freePort());
      if (typeof result !== "string") return result;
      failures.push(result);
      if (NOT_INSTALLED.test(result)) break;
      if (!/address already in use/i.test(result)) throw new Error(`moto did not start: ${result}`);
    }
  }
  throw new Error(failures.every((f) => NOT_INSTALLED.test(f)) ? INSTALL_HINT : `moto did not start:\n${failures.join("\n")}`);
}

/** Resolves to the running server, or to why it did not start. */
async function startMoto(command: string, prefix: readonly string[], port: number): Promise<S3Server | string> {
  // Its own process group, so stop() also ends anything it spawned.
  const child = spawn(command, [...prefix, "-H", "127.0.0.1", "-p", String(port)], {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const endpoint = `http://127.0.0.1:${port}`;
  let stderr = "";
  let bound = false; // until moto says so, an answer on the port may come from someone else's server
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
    bound ||= stderr.includes(`Running on ${endpoint}`);
  });
  const exited = new Promise<string>((resolve) => {
    child.on("error", (err) => resolve(String(err)));
    child.on("close", (code, signal) => resolve(`${command} exited (${signal ?? code})`));
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const outcome = await Promise.race([exited, sleep(250).then(() => bound && answers(endpoint))]);
    if (typeof outcome === "string") return `${outcome}\n${stderr}`.trim();
    if (outcome) break;
    if (Date.now() > deadline) {
      killGroup(child, "SIGKILL");
      return `no answer on ${endpoint} within 30 s\n${stderr}`.trim();
    }
  }
  track(child);
  // Neither the child nor its pipe may keep the tests alive; the exit hook kills it.
  child.unref();
  (child.stderr as unknown as { unref(): void }).unref();
  return {
    kind: "moto",
    endpoint,
    region: "us-east-1",
    accessKeyId: "testing",
    secretAccessKey: "testing",
    stop: () => stopGroup(child),
  };
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}


/** A client for the server, configured the way every server here accepts. */
export function s3Client(server: S3Server): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    forcePathStyle: true,
    // Ceph RGW answers 411 to the SDK's default aws-chunked bodies with checksum trailers.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** A port free on 127.0.0.1 right now (another process may take it before you bind it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
