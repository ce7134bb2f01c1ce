/**
 * A narrow fake of S3 Control's Batch Operations jobs (a simulation: label the tests that use it). No local server
 * emulates s3control, so this one speaks the real REST-XML API for CreateJob (POST /v20180820/jobs), DescribeJob
 * (GET /v20180820/jobs/{id}) and UpdateJobStatus (POST /v20180820/jobs/{id}/status), and "runs" an S3PutObjectCopy
 * job the way S3 does, against the test's S3 server: it reads the CSV manifest from it (checking its ETag), does
 * one CopyObject per line (so the copied bytes are real), and writes a completion report in S3's format
 * (`{prefix}/job-{id}/manifest.json` naming `results/*.csv`, failed tasks only). Scripts make a job fail chosen keys
 * with an error code, or stay Active after some tasks until it is cancelled.
 * Fidelity: moto ignores x-amz-copy-source-if-unmodified-since, so the job's UnModifiedSinceConstraint is applied
 * here (a HEAD of the source first); job-level failures (failure threshold, bad manifest) are not simulated.
 */
import http from "node:http";
import { createHash, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";

/** What CreateJob asked for, as parsed from its XML body. */
export interface CreatedJob {
  id: string;
  token: string;
  roleArn: string;
  confirmationRequired: string;
  priority: string;
  /** x-amz-account-id, and the SigV4 credential scope (region/service) it was signed for. */
  account: string;
  scope: string;
  operation: {
    name: string;
    targetResource: string;
    targetKeyPrefix?: string;
    metadataDirective?: string;
    userMetadata?: Record<string, string>;
    contentType?: string;
    tags?: Array<{ Key: string; Value: string }>;
    storageClass?: string;
    unmodifiedSince?: string;
  };
  manifest: { format: string; fields: string[]; objectArn: string; etag: string };
  report: { enabled: string; bucket: string; prefix: string; format: string; scope: string };
  /** The manifest's lines as read when the job ran: [bucket, key (decoded)]. */
  tasks: Array<[string, string]>;
  status: string;
  succeeded: number;
  failed: number;
  created: Date;
}

export interface JobScript {
  /** Keys (as in the source bucket) whose task fails, with the error S3 would report. */
  fail?: Record<string, { status: number; code: string; message: string }>;
  /** Stay Active after this many tasks, until cancelled. */
  holdAfter?: number;
  /** Run no task before this settles (the job is Active meanwhile). */
  until?: Promise<unknown>;
}

export interface FakeS3Control {
  endpoint: string;
  jobs: CreatedJob[];
  /** Every request: method, path and query. */
  requests: Array<{ method: string; url: string }>;
  /** The script the next CreateJob runs by (taken once). */
  nextScript(script: JobScript): void;
  close(): Promise<void>;
}

const TERMINAL = new Set(["Complete", "Failed", "Cancelled"]);

export async function startFakeS3Control(s3: S3Client): Promise<FakeS3Control> {
  const jobs: CreatedJob[] = [];
  const requests: FakeS3Control["requests"] = [];
  const byToken = new Map<string, CreatedJob>();
  const cancelled = new Set<string>();
  let script: JobScript = {};
  let closed = false;

  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", url: req.url ?? "" });
      const url = new URL(req.url ?? "/", "http://fake");
      const reply = (status: number, xml: string) => {
        res.writeHead(status, { "content-type": "application/xml", "x-amz-request-id": randomUUID() });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
      };
      const m = /^\/v20180820\/jobs(?:\/([^/]+))?(\/status)?$/.exec(url.pathname);
      if (!m) return reply(400, "<Error><Code>InvalidRequest</Code><Message>not simulated</Message></Error>");
      const [, id, status] = m;
      if (req.method === "POST" && !id) {
        const token = tag(body, "ClientRequestToken") ?? "";
        const again = byToken.get(token);
        if (again) return reply(200, `<CreateJobResult><JobId>${again.id}</JobId></CreateJobResult>`);
        const job = parseCreate(body, req.headers);
        jobs.push(job);
        byToken.set(token, job);
        const run = script;
        script = {};
        void runJob(job, run).catch((e: unknown) => {
          job.status = "Failed";
          console.error(`fake s3control job ${job.id} crashed:`, e);
        });
        return reply(200, `<CreateJobResult><JobId>${job.id}</JobId></CreateJobResult>`);
      }
      const job = jobs.find((j) => j.id === id);
      if (!job) return reply(404, `<Error><Code>NoSuchJob</Code><Message>no job ${id}</Message></Error>`);
      if (req.method === "GET" && !status) return reply(200, describe(job));
      if (req.method === "POST" && status) {
        const wanted = url.searchParams.get("requestedJobStatus");
        if (wanted !== "Cancelled" || TERMINAL.has(job.status))
          return reply(400, `<Error><Code>JobStatusException</Code><Message>job is ${job.status}</Message></Error>`);
        cancelled.add(job.id);
        job.status = "Cancelling";
        return reply(200, `<UpdateJobStatusResult><JobId>${job.id}</JobId><Status>${job.status}</Status></UpdateJobStatusResult>`);
      }
      return reply(400, "<Error><Code>InvalidRequest</Code><Message>not simulated</Message></Error>");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  async function runJob(job: CreatedJob, run: JobScript): Promise<void> {
    await sleep(100);
    job.status = "Preparing";
    const [bucket, ...key] = job.manifest.objectArn.replace(/^arn:[^:]+:s3:::/, "").split("/");
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key.join("/") }));
    if (got.ETag?.replace(/"/g, "") !== job.manifest.etag) throw new Error(`manifest ETag ${got.ETag} is not ${job.manifest.etag}`);
    const csv = await got.Body!.transformToString();
    job.tasks = csv
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [b, k] = line.split(",");
        return [b, decodeURIComponent(k.replace(/\+/g, " "))] as [string, string];
      });
    job.status = "Active";
    await run.until;
    const op = job.operation;
    const target = op.targetResource.replace(/^arn:[^:]+:s3:::/, "");
    const failedRows: string[] = [];
    for (const [i, [b, k]] of job.tasks.entries()) {
      while (run.holdAfter !== undefined && i >= run.holdAfter && !cancelled.has(job.id) && !closed) await sleep(50);
      if (cancelled.has(job.id) || closed) break;
      const failure = run.fail?.[k] ?? (await precondition(b, k, op.unmodifiedSince));
      if (!failure) {
        await s3.send(
          new CopyObjectCommand({
            Bucket: target,
            Key: (op.targetKeyPrefix ?? "") + k,
            CopySource: `${b}/${encodeURIComponent(k).replace(/%2F/g, "/")}`,
            MetadataDirective: op.metadataDirective as "COPY" | "REPLACE",
            ...(op.metadataDirective === "REPLACE" ? { Metadata: op.userMetadata ?? {}, ContentType: op.contentType } : {}),
            ...(op.tags
              ? {
                  TaggingDirective: "REPLACE",
                  Tagging: new URLSearchParams(op.tags.map((t): [string, string] => [t.Key, t.Value])).toString(),
                }
              : {}),
            ...(op.storageClass ? { StorageClass: op.storageClass as "STANDARD" } : {}),
          }),
        );
        job.succeeded++;
      } else {
        job.failed++;
        // The key as the manifest gave it (URL-encoded), then HTTP status and error code, as AWS's examples order them.
        const asGiven = encodeURIComponent(k).replace(/%2F/g, "/");
        failedRows.push(`${b},${asGiven},,failed,${failure.status},${failure.code},"${failure.message.replace(/"/g, '""')}"\n`);
      }
    }
    if (job.succeeded + job.failed > 0) await writeReport(job, failedRows);
    job.status = cancelled.has(job.id) ? "Cancelled" : "Complete";
  }

  async function precondition(bucket: string, key: string, since?: string) {
    if (!since) return undefined;
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    // As If-Unmodified-Since: an HTTP date, to the second.
    if (head.LastModified && head.LastModified.getTime() > Math.floor(Date.parse(since) / 1000) * 1000)
      return { status: 412, code: "PreconditionFailed", message: "At least one of the pre-conditions you specified did not hold" };
    return undefined;
  }

  async function writeReport(job: CreatedJob, failedRows: string[]): Promise<void> {
    const bucket = job.report.bucket.replace(/^arn:[^:]+:s3:::/, "");
    const base = `${job.report.prefix}/job-${job.id}`;
    const results: unknown[] = [];
    if (failedRows.length) {
      const body = failedRows.join("");
      const key = `${base}/results/${createHash("sha1").update(body).digest("hex")}.csv`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      results.push({ TaskExecutionStatus: "failed", Bucket: bucket, MD5Checksum: createHash("md5").update(body).digest("hex"), Key: key });
    }
    const manifest = {
      Format: "Report_CSV_20180820",
      ReportCreationDate: new Date().toISOString(),
      Results: results,
      ReportSchema: "Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage",
    };
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${base}/manifest.json`, Body: JSON.stringify(manifest) }));
  }

  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    jobs,
    requests,
    nextScript(s) {
      script = s;
    },
    async close() {
      closed = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function describe(job: CreatedJob): string {
  const reasons =
    job.status === "Failed"
      ? "<FailureReasons><member><FailureCode>Simulated</FailureCode><FailureReason>fake job crashed</FailureReason></member></FailureReasons>"
      : "";
  return (
    `<DescribeJobResult><Job><JobId>${job.id}</JobId><ConfirmationRequired>false</ConfirmationRequired><Status>${job.status}</Status>` +
    `<Priority>${job.priority}</Priority><RoleArn>${escape(job.roleArn)}</RoleArn><CreationTime>${job.created.toISOString()}</CreationTime>` +
    `<ProgressSummary><TotalNumberOfTasks>${job.tasks.length}</TotalNumberOfTasks><NumberOfTasksSucceeded>${job.succeeded}</NumberOfTasksSucceeded>` +
    `<NumberOfTasksFailed>${job.failed}</NumberOfTasksFailed></ProgressSummary>${reasons}</Job></DescribeJobResult>`
  );
}

function parseCreate(body: string, headers: http.IncomingHttpHeaders): CreatedJob {
  const copy = raw(body, "S3PutObjectCopy") ?? "";
  const metadata = raw(copy, "UserMetadata");
  const tagging = raw(copy, "NewObjectTagging");
  const manifest = raw(body, "Manifest") ?? "";
  const report = raw(body, "Report") ?? "";
  return {
    id: randomUUID(),
    token: tag(body, "ClientRequestToken") ?? "",
    roleArn: tag(body, "RoleArn") ?? "",
    confirmationRequired: tag(body, "ConfirmationRequired") ?? "",
    priority: tag(body, "Priority") ?? "",
    account: String(headers["x-amz-account-id"] ?? ""),
    scope: /Credential=[^/]+\/\d{8}\/([^/]+\/[^/]+)\/aws4_request/.exec(String(headers.authorization ?? ""))?.[1] ?? "",
    operation: {
      name: copy ? "S3PutObjectCopy" : "other",
      targetResource: tag(copy, "TargetResource") ?? "",
      ...opt("targetKeyPrefix", tag(copy, "TargetKeyPrefix")),
      ...opt("metadataDirective", tag(copy, "MetadataDirective")),
      ...(metadata !== undefined ? { userMetadata: Object.fromEntries(pairs(metadata, "key", "value")) } : {}),
      ...opt("contentType", tag(copy, "ContentType")),
      ...(tagging !== undefined ? { tags: pairs(tagging, "Key", "Value").map(([Key, Value]) => ({ Key, Value })) } : {}),
      ...opt("storageClass", tag(copy, "StorageClass")),
      ...opt("unmodifiedSince", tag(copy, "UnModifiedSinceConstraint")),
    },
    manifest: {
      format: tag(manifest, "Format") ?? "",
      fields: all(raw(manifest, "Fields") ?? "", "member"),
      objectArn: tag(manifest, "ObjectArn") ?? "",
      etag: tag(manifest, "ETag") ?? "",
    },
    report: {
      enabled: tag(report, "Enabled") ?? "",
      bucket: tag(report, "Bucket") ?? "",
      prefix: tag(report, "Prefix") ?? "",
      format: tag(report, "Format") ?? "",
      scope: tag(report, "ReportScope") ?? "",
    },
    tasks: [],
    status: "New",
    succeeded: 0,
    failed: 0,
    created: new Date(),
  };
}

const opt = <K extends string>(k: K, v: string | undefined) => (v === undefined ? {} : ({ [k]: v } as Record<K, string>));

/** The XML inside the first <name>…</name> (or "" for <name/>), as written; undefined when absent. */
function raw(xml: string, name: string): string | undefined {
  if (new RegExp(`<${name}\\s*/>`).test(xml)) return "";
  return new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`).exec(xml)?.[1];
}

/** A leaf element's text, unescaped. */
function tag(xml: string, name: string): string | undefined {
  const inner = raw(xml, name);
  return inner === undefined ? undefined : unescape(inner);
}

function all(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, "g"))].map((m) => unescape(m[1]));
}

function pairs(xml: string, k: string, v: string): Array<[string, string]> {
  return [...xml.matchAll(new RegExp(`<${k}>([\\s\\S]*?)</${k}>\\s*<${v}>([\\s\\S]*?)</${v}>`, "g"))].map((m) => [
    unescape(m[1]),
    unescape(m[2]),
  ]);
}

function unescape(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
    .replace(/&amp;/g, "&");
}

function escape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
