/**
 * Where the live suite (test/live) runs: a real S3 bucket and a real Azure Blob container, named by a few
 * LIVE_* variables, with credentials from the stores' own chains. `preflight` (the live project's jest
 * globalSetup) reads them once, checks that credentials are there, picks the run's unique prefix and hands
 * the decision to every test file through one environment variable; `liveRun()` reads it back.
 *
 *   LIVE_S3_BUCKET          a bucket to write under the run's prefix in; unset: the S3 scenarios are skipped
 *   LIVE_S3_REGION          optional: the bucket's region (default: the bucket's own, read with HeadBucket)
 *   LIVE_S3_ENDPOINT        optional: an S3-compatible server (path-style requests), e.g. moto in CI
 *   LIVE_AZURE_CONTAINER    a Blob container to write under the run's prefix in; unset: the Azure scenarios are skipped
 *   LIVE_AZURE_ACCOUNT      the storage account's name (https://NAME.blob.core.windows.net), or instead
 *   LIVE_AZURE_ACCOUNT_URL  its Blob endpoint (Azurite, sovereign clouds); default: AZURE_STORAGE_ACCOUNT
 *
 * Credentials: AWS's default chain (AWS_PROFILE, AWS_ACCESS_KEY_ID…, SSO, a role); for Azure the package's own
 * order: AZURE_STORAGE_CONNECTION_STRING naming the account, AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY, then
 * DefaultAzureCredential. Missing variables or credentials skip that store, saying why; a named bucket or
 * container that cannot be reached with the credentials found fails the run.
 */
import { randomBytes } from "node:crypto";
import { GetBucketVersioningCommand, HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { DefaultAzureCredential } from "@azure/identity";
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from "@azure/storage-blob";

/** Everything the suite writes is under this, then under the run's own `<utc-timestamp>-<random>/`. */
export const LIVE_ROOT = "pulumi-copied-object-live/";
/** How globalSetup hands the run to the test files (and globalTeardown). Internal: not a user setting. */
const RUN_VARIABLE = "PULUMI_COPIED_OBJECT_LIVE_RUN";

export interface Skipped {
  skip: string;
}

export interface LiveS3Target {
  bucket: string;
  region: string;
  endpoint?: string;
  /** GetBucketVersioning's answer: "Enabled", "Suspended", "Off" (never enabled), or why it is unknown. */
  versioning: string;
}

export type AzureAuthKind = "connectionString" | "key" | "identity";

export interface LiveAzureTarget {
  container: string;
  /** As the user named the account: the locators use the same field. */
  named: { accountUrl: string } | { account: string };
  /** The Blob endpoint, e.g. https://acct.blob.core.windows.net or http://127.0.0.1:P/devstoreaccount1. */
  url: string;
  accountName: string;
  auth: AzureAuthKind;
  /** A loopback or IP endpoint (Azurite): it fetches no outside URL. */
  emulator: boolean;
}

export interface LiveRun {
  /** `pulumi-copied-object-live/<utc-timestamp>-<random>/` */
  prefix: string;
  s3: LiveS3Target | Skipped;
  azure: LiveAzureTarget | Skipped;
}

export const isSkipped = (t: object): t is Skipped => "skip" in t;

type Env = Readonly<Record<string, string | undefined>>;

/** A prefix no other run shares: the UTC time to the second, and 48 random bits. */
export function runPrefix(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${LIVE_ROOT}${stamp}-${randomBytes(6).toString("hex")}/`;
}

/** Reads the LIVE_* variables, probes each configured store once, and publishes the run for the test files. */
export async function preflight(env: Env = process.env): Promise<LiveRun> {
  const run: LiveRun = { prefix: runPrefix(), s3: await s3Target(env), azure: await azureTarget(env) };
  process.env[RUN_VARIABLE] = JSON.stringify(run);
  return run;
}

/** The run globalSetup published. */
export function liveRun(): LiveRun {
  const text = process.env[RUN_VARIABLE];
  if (!text) throw new Error("the live suite runs through its jest project (node test/run.cjs live), whose globalSetup picks the targets");
  return JSON.parse(text) as LiveRun;
}

/** Why the cross-store scenario (S3 → Azure Blob, read by Azure's service through a presigned GET) cannot run, or false. */
export function crossSkip(run: LiveRun): string | false {
  if (isSkipped(run.s3)) return `S3 is not configured: ${run.s3.skip}`;
  if (isSkipped(run.azure)) return `Azure Blob is not configured: ${run.azure.skip}`;
  if (run.azure.emulator) {
    return `the Azure endpoint ${run.azure.url} is an emulator (Azurite), which fetches no outside URL, so cannot read the S3 presigned GET; test/integration/blob-from-url.test.ts simulates that read`;
  }
  if (run.s3.endpoint && isLoopbackOrIp(run.s3.endpoint)) {
    return `LIVE_S3_ENDPOINT ${run.s3.endpoint} is on this machine, out of reach of Azure's service, which must fetch the presigned GET`;
  }
  return false;
}

/** One line per store, and one for the cross-store scenario, for the run's header. */
export function describeRun(run: LiveRun): string[] {
  const s3 = run.s3;
  const azure = run.azure;
  return [
    isSkipped(s3)
      ? `S3: skipped: ${s3.skip}`
      : `S3: s3://${s3.bucket}/${run.prefix} (${s3.region}${s3.endpoint ? `, at ${s3.endpoint}` : ""}; versioning ${s3.versioning})`,
    isSkipped(azure)
      ? `Azure Blob: skipped: ${azure.skip}`
      : `Azure Blob: ${azure.url}/${azure.container}/${run.prefix} (credentials: ${azure.auth}${azure.emulator ? "; an emulator" : ""})`,
    `S3 → Azure Blob: ${crossSkip(run) ? `skipped: ${crossSkip(run)}` : "runs"}`,
  ];
}

async function s3Target(env: Env): Promise<LiveS3Target | Skipped> {
  const bucket = env.LIVE_S3_BUCKET?.trim();
  if (!bucket) {
    const stray = ["LIVE_S3_REGION", "LIVE_S3_ENDPOINT"].filter((v) => env[v]);
    if (stray.length) throw new Error(`${stray.join(" and ")} ${stray.length > 1 ? "are" : "is"} set but LIVE_S3_BUCKET is not: name the bucket to write in`);
    return { skip: "LIVE_S3_BUCKET is not set" };
  }
  const endpoint = env.LIVE_S3_ENDPOINT?.trim() || undefined;
  const probeRegion = env.LIVE_S3_REGION || env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1";
  const client = new S3Client({ region: probeRegion, endpoint, forcePathStyle: endpoint ? true : undefined, followRegionRedirects: true });
  try {
    let head;
    try {
      head = await client.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch (e) {
      const err = e as Error & { $metadata?: { httpStatusCode?: number } };
      if (err.name === "CredentialsProviderError" || /Could not load credentials/i.test(err.message)) {
        return { skip: `no AWS credentials: the default chain (AWS_PROFILE, AWS_ACCESS_KEY_ID…, SSO, a role) found none (${firstLine(err.message)})` };
      }
      const status = err.$metadata?.httpStatusCode;
      const why = status === 404 ? "no such bucket" : status === 403 ? "access denied (s3:ListBucket)" : `${err.name}: ${firstLine(err.message)}`;
      throw new Error(`LIVE_S3_BUCKET=${bucket}${endpoint ? ` at ${endpoint}` : ""}: ${why}`);
    }
    const region = env.LIVE_S3_REGION || head.BucketRegion || probeRegion;
    let versioning: string;
    try {
      const out = await client.send(new GetBucketVersioningCommand({ Bucket: bucket }));
      versioning = out.Status ?? "Off";
    } catch (e) {
      versioning = `unknown (GetBucketVersioning: ${(e as Error).name})`;
    }
    return { bucket, region, ...(endpoint ? { endpoint } : {}), versioning };
  } finally {
    client.destroy();
  }
}

async function azureTarget(env: Env): Promise<LiveAzureTarget | Skipped> {
  const container = env.LIVE_AZURE_CONTAINER?.trim();
  const accountUrl = env.LIVE_AZURE_ACCOUNT_URL?.trim().replace(/\/+$/, "") || undefined;
  const accountVar = env.LIVE_AZURE_ACCOUNT?.trim() || undefined;
  if (!container) {
    const stray = ["LIVE_AZURE_ACCOUNT", "LIVE_AZURE_ACCOUNT_URL"].filter((v) => env[v]);
    if (stray.length) throw new Error(`${stray.join(" and ")} ${stray.length > 1 ? "are" : "is"} set but LIVE_AZURE_CONTAINER is not: name the container to write in`);
    return { skip: "LIVE_AZURE_CONTAINER is not set" };
  }
  if (accountUrl && accountVar) throw new Error("set LIVE_AZURE_ACCOUNT or LIVE_AZURE_ACCOUNT_URL, not both");
  const account = accountVar ?? (accountUrl ? undefined : env.AZURE_STORAGE_ACCOUNT?.trim() || undefined);
  if (!accountUrl && !account) {
    throw new Error("LIVE_AZURE_CONTAINER is set but no account is named: set LIVE_AZURE_ACCOUNT (a name) or LIVE_AZURE_ACCOUNT_URL (its Blob endpoint)");
  }
  const url = accountUrl ?? `https://${account!.toLowerCase()}.blob.core.windows.net`;
  const emulator = isLoopbackOrIp(url);
  const accountName = accountNameOf(url);
  const named = accountUrl ? { accountUrl } : { account: account! };
  const auth = azureAuthKind(env, accountName);
  const target: LiveAzureTarget = { container, named, url, accountName, auth, emulator };
  if (auth === "identity") {
    try {
      await new DefaultAzureCredential().getToken("https://storage.azure.com/.default", { abortSignal: AbortSignal.timeout(60_000) });
    } catch (e) {
      return {
        skip:
          `no Azure credentials for account ${accountName}: neither AZURE_STORAGE_CONNECTION_STRING naming it, nor AZURE_STORAGE_ACCOUNT=${accountName} ` +
          `with AZURE_STORAGE_KEY, and DefaultAzureCredential found none (${firstLine((e as Error).message)})`,
      };
    }
  }
  let exists: boolean;
  try {
    exists = await liveContainerClient(target).exists();
  } catch (e) {
    const err = e as Error & { statusCode?: number };
    throw new Error(`LIVE_AZURE_CONTAINER=${container} in ${url}: ${err.statusCode === 403 ? "access denied" : `${err.name}: ${firstLine(err.message)}`}`);
  }
  if (!exists) throw new Error(`LIVE_AZURE_CONTAINER=${container}: no such container in ${url}`);
  return target;
}

/** A client for the live bucket, with credentials from the default chain, as the provider finds them. */
export function liveS3Client(target: LiveS3Target): S3Client {
  return new S3Client({
    region: target.region,
    ...(target.endpoint ? { endpoint: target.endpoint, forcePathStyle: true } : {}),
    // S3-compatible servers do not all take the SDK's aws-chunked bodies with checksum trailers.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** A client for the live container, with the credential the provider also uses (azureAuthKind). */
export function liveContainerClient(target: LiveAzureTarget, env: Env = process.env): ContainerClient {
  const service =
    target.auth === "connectionString"
      ? BlobServiceClient.fromConnectionString(env.AZURE_STORAGE_CONNECTION_STRING!)
      : target.auth === "key"
        ? new BlobServiceClient(target.url, new StorageSharedKeyCredential(target.accountName, env.AZURE_STORAGE_KEY!))
        : new BlobServiceClient(target.url, new DefaultAzureCredential());
  return service.getContainerClient(target.container);
}

/** Which credential the provider (and the harness, alike) will use for the account: the package's documented order. */
export function azureAuthKind(env: Env, accountName: string): AzureAuthKind {
  const connectionString = env.AZURE_STORAGE_CONNECTION_STRING;
  if (connectionString && /(^|;)\s*AccountName=([^;]*)/i.exec(connectionString)?.[2] === accountName) return "connectionString";
  if (env.AZURE_STORAGE_ACCOUNT === accountName && env.AZURE_STORAGE_KEY) return "key";
  return "identity";
}

/** The SDK's rule: a path-style endpoint (an IP, localhost) carries the account in its path. */
export function accountNameOf(url: string): string {
  const parsed = new URL(url);
  return isLoopbackOrIp(url) ? (parsed.pathname.split("/").filter(Boolean)[0] ?? "") : parsed.hostname.split(".")[0];
}

export function isLoopbackOrIp(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host.startsWith("[") || /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.endsWith(".localhost");
}

function firstLine(text: string): string {
  return text.split("\n")[0].slice(0, 300);
}
