/**
 * Azurite (Azure Blob emulator) on a free port, with two accounts for cross-account copies.
 * Its quirks are in `reference/azure-servers.md`; never assert them as Azure's behaviour.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createRequire } from "node:module";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { freePort } from "./s3server.ts";
import { killGroup, stopGroup, track } from "./processGroups.ts";

export interface AzuriteAccount {
  name: string;
  key: string;
  /** `http://127.0.0.1:P/<name>` */
  url: string;
  connectionString: string;
}

export interface Azurite {
  /** `http://127.0.0.1:P` */
  endpoint: string;
  accounts: { primary: AzuriteAccount; secondary: AzuriteAccount };
  /** Leader of Azurite's process group. */
  pid: number;
  /** Ends Azurite's process group and waits for it. */
  stop(): Promise<void>;
}

/** Azurite's well-known development account. */
const PRIMARY = {
  name: "devstoreaccount1",
  key: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
};
const MAIN = createRequire(path.join(process.cwd(), "package.json")).resolve("azurite/dist/src/blob/main.js");

export interface AzuriteOptions {
  /**
   * Keep blobs in a temporary folder (removed at stop) rather than in memory. In memory, Azurite
   * frees deleted blobs only at its 10-minute GC: three rounds of 1 GiB copies held about 8 GiB.
   */
  onDisk?: boolean;
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const secondary = { name: "account2", key: randomBytes(64).toString("base64") };
  const failures: string[] = [];
  // A port freed by freePort() can be taken before Azurite binds it: retry on a fresh one.
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = await launch(await freePort(), [PRIMARY, secondary], options);
    if (typeof result !== "string") return result;
    failures.push(result);
    if (!/EADDRINUSE|address already in use/i.test(result)) break;
  }
  throw new Error(`Azurite did not start:\n${failures.join("\n---\n")}`);
}

/** Resolves to the running Azurite, or to why it did not start. */
async function launch(port: number, accounts: Array<{ name: string; key: string }>, options: AzuriteOptions): Promise<Azurite | string> {
  const location = options.onDisk ? fs.mkdtempSync(path.join(tmpdir(), "azurite-")) : undefined;
  const remove = () => location && fs.rmSync(location, { recursive: true, force: true });
  const persistence = location ? ["--location", location] : ["--inMemoryPersistence"];
  const args = ["--blobHost", "127.0.0.1", "--blobPort", String(port), ...persistence, "--skipApiVersionCheck", "--disableTelemetry", "--loose"];
  // Its own process group, so stop() ends anything it spawned too.
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: tmpdir(), // in memory it writes nothing, but keep any stray file out of the repo
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, AZURITE_ACCOUNTS: accounts.map((a) => `${a.name}:${a.key}`).join(";") },
  });
  const endpoint = `http://127.0.0.1:${port}`;
  let output = "";
  let ready = false;
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding("utf8").on("data", (chunk: string) => {
      output = (output + chunk).slice(-4000);
      ready ||= output.includes(`successfully listens on ${endpoint}`);
    });
  }
  const exited = new Promise<string>((resolve) => {
    child.on("error", (err) => resolve(String(err)));
    child.on("close", (code, signal) => resolve(`Azurite exited (${signal ?? code})`));
  });
  const deadline = Date.now() + 20_000;
  while (!ready) {
    const outcome = await Promise.race([exited, sleep(100)]);
    if (typeof outcome === "string") {
      remove();
      return `${outcome}\n${output}`.trim();
    }
    if (Date.now() > deadline) {
      killGroup(child, "SIGKILL");
      remove();
      return `Azurite did not listen on ${endpoint} within 20 s\n${output}`.trim();
    }
  }
  track(child);
  // Neither the child nor its pipes may keep the tests alive; the exit hook kills it.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref(): void }).unref();
  const [primary, second] = accounts.map((a): AzuriteAccount => ({
    ...a,
    url: `${endpoint}/${a.name}`,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${a.name};AccountKey=${a.key};BlobEndpoint=${endpoint}/${a.name};`,
  }));
  return {
    endpoint,
    accounts: { primary, secondary: second },
    pid: child.pid!,
    stop: async () => {
      await stopGroup(child);
      remove();
    },
  };
}

/** A client for an account; `endpoint` (e.g. a proxy's `http://127.0.0.1:Q`) replaces Azurite's host:port. */
export function blobService(account: AzuriteAccount, endpoint?: string): BlobServiceClient {
  const url = endpoint ? `${endpoint.replace(/\/$/, "")}/${account.name}` : account.url;
  return new BlobServiceClient(url, new StorageSharedKeyCredential(account.name, account.key));
}

