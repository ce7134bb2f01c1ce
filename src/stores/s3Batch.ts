/**
 * S3 Batch Operations for CopiedPrefix's `engine: "s3-batch"`: the S3 Control client (CreateJob, DescribeJob,
 * UpdateJobStatus), and the S3 objects a job reads and writes: its CSV manifest, its completion report, and the
 * destination's current versions, which tell what the job wrote (the report does not).
 */
import type { Readable } from "node:stream";
import { createInterface } from "node:readline";
import { DeleteObjectCommand, GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { CreateJobCommand, DescribeJobCommand, S3ControlClient, UpdateJobStatusCommand } from "@aws-sdk/client-s3-control";
import { ambient } from "../ambient";
import { resolveS3Access } from "../awsAccess";
import { CopyError } from "../errors";
import type { S3Credentials } from "../locators";
import { reportFailure, type BatchCopyOperation, type ReportedFailure } from "../prefixBatchRules";
import type { S3PrefixLocator } from "../prefixLocators";
import { MiB, normalizeEtag } from "../values";
import { credentialsFor } from "./awsCredentials";
import { ClientCache } from "./clientCache";
import { newS3Client, s3Failure, statusOf } from "./s3";

/** The narrow part of the S3 Control client a job needs, so tests can fake it. */
export type S3ControlApi = Pick<S3ControlClient, "send">;

const controlClients = new ClientCache<S3ControlClient>();

/**
 * The S3 Control client for a job: the destination's credentials and region (a job runs in its destination bucket's
 * region), and the stack's `aws:endpoints` s3control entry when set. S3 Control puts the account id in front of the
 * host (`{account}.s3-control.{region}.amazonaws.com`); a custom endpoint is used as given, the account travelling in
 * the x-amz-account-id header as on AWS, since `{account}.127.0.0.1` or a proxy's name would not resolve.
 */
export function s3ControlClient(destination: S3PrefixLocator, credentials?: S3Credentials): S3ControlApi {
  const access = resolveS3Access({ ...destination, key: destination.prefix }, credentials, ambient());
  const endpoint = ambient().config.aws.endpoints.s3control;
  const config = {
    region: access.region ?? access.fallbackRegion,
    profile: access.base.kind === "profile" ? access.base.profile : undefined,
    endpoint,
  };
  return controlClients.get({ ...config, access }, () => {
    const resolved = credentialsFor(access);
    return new S3ControlClient({
      ...config,
      ...(resolved ? { credentials: resolved } : {}),
      ...(endpoint ? { endpointProvider: () => ({ url: new URL(endpoint) }), disableHostPrefix: true } : {}),
    });
  });
}

export const s3For = (l: S3PrefixLocator, c?: S3Credentials) => newS3Client({ ...l, key: l.prefix }, c) as S3Client;

/** A job's state as the run needs it. */
export interface JobView {
  status: string;
  total: number;
  succeeded: number;
  failed: number;
  /** When S3 created the job, by S3's clock: what the job wrote is newer. */
  created?: Date;
  reasons: string[];
}

export const TERMINAL = new Set(["Complete", "Failed", "Cancelled"]);

export async function createJob(
  api: S3ControlApi,
  job: {
    account: string;
    roleArn: string;
    operation: BatchCopyOperation;
    manifest: { arn: string; etag: string };
    report: { bucketArn: string; prefix: string };
    token: string;
    description: string;
  },
  signal: AbortSignal,
): Promise<string> {
  const out = await api
    .send(
      new CreateJobCommand({
        AccountId: job.account,
        ConfirmationRequired: false,
        Operation: { S3PutObjectCopy: job.operation },
        Manifest: {
          Spec: { Format: "S3BatchOperations_CSV_20180820", Fields: ["Bucket", "Key"] },
          Location: { ObjectArn: job.manifest.arn, ETag: job.manifest.etag },
        },
        Report: {
          Enabled: true,
          Bucket: job.report.bucketArn,
          Prefix: job.report.prefix,
          Format: "Report_CSV_20180820",
          ReportScope: "FailedTasksOnly",
        },
        Priority: 10,
        RoleArn: job.roleArn,
        // The SDK's retries send the same token: S3 then creates one job, not two.
        ClientRequestToken: job.token,
        Description: job.description.slice(0, 256),
      }),
      { abortSignal: signal },
    )
    .catch((e: unknown) => {
      throw controlFailure(e, signal, "CreateJob", "s3:CreateJob on the caller, and iam:PassRole on the role");
    });
  if (!out.JobId) throw new CopyError("CopyFailed", "CreateJob answered without a job id");
  return out.JobId;
}

export async function describeJob(api: S3ControlApi, account: string, jobId: string, signal: AbortSignal): Promise<JobView> {
  const out = await api.send(new DescribeJobCommand({ AccountId: account, JobId: jobId }), { abortSignal: signal }).catch((e: unknown) => {
    throw controlFailure(e, signal, `DescribeJob ${jobId}`, "s3:DescribeJob");
  });
  const job = out.Job ?? {};
  const p = job.ProgressSummary ?? {};
  return {
    status: job.Status ?? "Unknown",
    total: p.TotalNumberOfTasks ?? 0,
    succeeded: p.NumberOfTasksSucceeded ?? 0,
    failed: p.NumberOfTasksFailed ?? 0,
    ...(job.CreationTime ? { created: job.CreationTime } : {}),
    reasons: (job.FailureReasons ?? []).map((f) => `${f.FailureCode ?? "?"}: ${f.FailureReason ?? ""}`),
  };
}

/** Asks S3 to cancel the job; a job already finished is not an error. */
export async function cancelJob(api: S3ControlApi, account: string, jobId: string, reason: string, signal: AbortSignal): Promise<void> {
  await api
    .send(
      new UpdateJobStatusCommand({
        AccountId: account,
        JobId: jobId,
        RequestedJobStatus: "Cancelled",
        StatusUpdateReason: reason.slice(0, 256),
      }),
      { abortSignal: signal },
    )
    .catch((e: unknown) => {
      const name = (e as { name?: string }).name;
      if (name === "JobStatusException" || statusOf(e) === 409) return;
      throw controlFailure(e, signal, `UpdateJobStatus ${jobId}`, "s3:UpdateJobStatus");
    });
}

/** Writes an object under the destination and returns its ETag (a job's manifest is named with it). */
export async function putObject(s3: S3Client, bucket: string, key: string, body: Readable | string, signal: AbortSignal): Promise<string> {
  const upload = new Upload({
    client: s3,
    params: { Bucket: bucket, Key: key, Body: body, ContentType: "text/csv" },
    partSize: 16 * MiB,
    queueSize: 2,
  });
  const stop = () => void upload.abort().catch(() => undefined);
  signal.addEventListener("abort", stop, { once: true });
  try {
    const out = await upload.done();
    return normalizeEtag(out.ETag ?? "");
  } catch (e) {
    throw s3Failure(e, signal, `writing s3://${bucket}/${key}`, "destination");
  } finally {
    signal.removeEventListener("abort", stop);
  }
}

export async function getText(s3: S3Client, bucket: string, key: string, signal: AbortSignal): Promise<string | undefined> {
  const body = await getBody(s3, bucket, key, signal);
  return (
    body && Buffer.from(await (body as unknown as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).toString("utf8")
  );
}

export async function putText(s3: S3Client, bucket: string, key: string, text: string, signal: AbortSignal): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text }), { abortSignal: signal }).catch((e: unknown) => {
    throw s3Failure(e, signal, `writing s3://${bucket}/${key}`, "destination");
  });
}

async function getBody(s3: S3Client, bucket: string, key: string, signal: AbortSignal): Promise<Readable | undefined> {
  try {
    return (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal })).Body as Readable;
  } catch (e) {
    if (statusOf(e) === 404 || (e as { name?: string }).name === "NoSuchKey") return undefined;
    throw s3Failure(e, signal, `GetObject on s3://${bucket}/${key}`, "destination");
  }
}

/**
 * The failed tasks of a job's completion report: `{prefix}/job-{id}/manifest.json` names the result files, and the
 * failed ones hold a row per failed task. Nothing when the job wrote no report (no task ran).
 */
export async function* reportFailures(
  s3: S3Client,
  bucket: string,
  prefix: string,
  jobId: string,
  signal: AbortSignal,
): AsyncGenerator<ReportedFailure> {
  const text = await getText(s3, bucket, `${prefix}/job-${jobId}/manifest.json`, signal);
  if (!text) return;
  const results = (JSON.parse(text) as { Results?: Array<{ TaskExecutionStatus?: string; Bucket?: string; Key?: string }> }).Results ?? [];
  for (const r of results) {
    if (r.TaskExecutionStatus !== "failed" || !r.Key) continue;
    const body = await getBody(s3, (r.Bucket ?? bucket).replace(/^arn:[^:]+:s3:::/, ""), r.Key, signal);
    if (!body) continue;
    for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
      const failure = line && reportFailure(line);
      if (failure) yield failure;
    }
  }
}

/** The current version of each object under a prefix, in key order: what the destination holds now. */
export interface Current {
  /** Relative to the prefix. */
  key: string;
  etag: string;
  size: number;
  versionId?: string;
  lastModified?: Date;
}

export async function* currentVersions(s3: S3Client, bucket: string, prefix: string, signal: AbortSignal): AsyncGenerator<Current> {
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  do {
    const page = await s3
      .send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker, VersionIdMarker }), { abortSignal: signal })
      .catch((e: unknown) => {
        throw s3Failure(e, signal, `ListObjectVersions on s3://${bucket}/${prefix}`, "destination");
      });
    for (const v of page.Versions ?? []) {
      if (!v.IsLatest || !v.Key?.startsWith(prefix)) continue;
      yield {
        key: v.Key.slice(prefix.length),
        etag: normalizeEtag(v.ETag ?? ""),
        size: v.Size ?? 0,
        ...(v.VersionId && v.VersionId !== "null" ? { versionId: v.VersionId } : {}),
        ...(v.LastModified ? { lastModified: v.LastModified } : {}),
      };
    }
    KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    VersionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (KeyMarker);
}

/** Removes every version (and delete marker) under a prefix that is this resource's alone: the job's work area. */
export async function eraseUnder(s3: S3Client, bucket: string, prefix: string, signal: AbortSignal): Promise<number> {
  let erased = 0;
  // Page by page from the start: what is deleted is listed no more. Bounded, in case a delete is silently refused.
  for (let round = 0; round < 1000; round++) {
    const page = await s3
      .send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }), { abortSignal: signal })
      .catch((e: unknown) => {
        throw s3Failure(e, signal, `ListObjectVersions on s3://${bucket}/${prefix}`, "destination");
      });
    const all = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].filter((v) => v.Key?.startsWith(prefix));
    if (!all.length) break;
    for (const v of all) {
      const VersionId = v.VersionId && v.VersionId !== "null" ? v.VersionId : undefined;
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: v.Key, VersionId }), { abortSignal: signal }).catch((e: unknown) => {
        if (statusOf(e) !== 404) throw s3Failure(e, signal, `DeleteObject on s3://${bucket}/${v.Key}`, "destination");
      });
      erased++;
    }
  }
  return erased;
}

function controlFailure(e: unknown, signal: AbortSignal, doing: string, permission: string): CopyError {
  if (signal.aborted) return s3Failure(e, signal, doing, "destination");
  const name = (e as { name?: string })?.name ?? "Error";
  const status = statusOf(e);
  const detail = ((e as Error)?.message ?? String(e)).replace(/\s+/g, " ").slice(0, 300);
  const what = `S3 Batch Operations ${doing} failed: ${name}${status ? ` (HTTP ${status})` : ""}: ${detail}`;
  if (status === 403 || name === "AccessDenied" || name === "AccessDeniedException")
    return new CopyError("AccessDenied", `${what}. The caller needs ${permission} (docs/s3-batch.md)`, { cause: e });
  return new CopyError("CopyFailed", what, { cause: e });
}
