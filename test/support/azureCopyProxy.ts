/**
 * TEST DOUBLE, a simulation: Azure's asynchronous Copy Blob states, which Azurite never shows.
 * A proxy in front of Azurite forwards every request unchanged (auth, SAS, conditions, leases,
 * metadata, tags and bytes stay real) and, for destinations a test arms, rewrites the answers
 * the way the REST reference describes them:
 * - Copy Blob (PUT with x-ms-copy-source): 202 `x-ms-copy-status: pending`, Azurite's copy id;
 * - Get Blob Properties / Get Blob: `pending` with `x-ms-copy-progress: <bytes>/<total>` and no
 *   completion time, then `success`, `failed` or `aborted` (with x-ms-copy-status-description
 *   and a zero-length blob for the last two);
 * - Abort Copy Blob (PUT ?comp=copy&copyid=, x-ms-copy-action: abort): 204 while pending,
 *   409 CopyIdMismatch, 409 NoPendingCopyOperation.
 * REST reference: https://learn.microsoft.com/rest/api/storageservices/copy-blob,
 * …/get-blob-properties, …/get-blob, …/abort-copy-blob (same base).
 * Cross-account or SAS copies need source and destination URLs both on the proxy's host: Azurite
 * checks the source host against the Host header (forwarded unchanged) and fetches it through us.
 * It proves our state machine and the requests we send, not Azure's timing: label tests using it.
 *
 * Two ways to script a copy's end (`arm`):
 * - by polls (`pendingPolls`): the copy ends on the N+1th read, whenever it comes; progress grows
 *   by 1/(N+1) of the total per read. For state-machine tests, which must not depend on time.
 * - by time (`durationMs`), a SIMULATION of a copy's timing for benchmarks: the copy ends at a
 *   fixed instant, start + durationMs, whether or not anyone reads it, so how late a client
 *   notices can be measured. Optionally `queuedMs` at 0 bytes first (Azure schedules copies;
 *   how long they queue is not documented: the figure is the caller's assumption). Then
 *   x-ms-copy-progress grows linearly with time, in whole `stepBytes` (the service reports
 *   progress in chunks, not per byte; the real chunk size is undocumented). The clock is
 *   `performance.now()` of this process: `startedAt`, `completedAt` and `readsAt` in `peek()`
 *   are on it. x-ms-copy-completion-time is that instant in UTC, not the read's.
 *
 * With `accounts`, it also plays the service's read of a source Azurite cannot reach (a web
 * server, an S3 presigned GET URL; see azureUrlFetch.ts): Azurite still judges auth and SAS, the
 * proxy GETs the source itself (no redirects; a refusal is a synchronous CannotVerifyCopySource),
 * writes the bytes with a Put Blob (the request's metadata, tags and tier, the source's content
 * headers), then answers as Copy Blob / Copy Blob From URL would, with its own copy id, and
 * reports that copy on later reads; `arm()` applies as for any Copy Blob. `fetches` logs each read.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { isExternal, keyOf, md5, putBlob, putBlobHeaders, readSource, send, writeError, type AccountKeys, type Answer } from "./azureUrlFetch.ts";

interface ScriptEnd {
  /** `aborted` here means aborted by someone else. */
  final: "success" | "failed" | "aborted";
  description?: string;
  /** The total in x-ms-copy-progress; by default the blob's real size. */
  totalBytes?: number;
}
export interface PolledScript extends ScriptEnd {
  /** How many Get Blob (Properties) answers say `pending` before the final state. */
  pendingPolls: number;
}
/** SIMULATION of a copy's timing: see the header. */
export interface TimedScript extends ScriptEnd {
  /** From the Copy Blob's answer to the final state, in ms; the copy ends then even if nobody reads it. */
  durationMs: number;
  /** The first part of durationMs spent queued, reporting 0 bytes. @default 0 */
  queuedMs?: number;
  /** Progress is reported in whole steps of this many bytes. @default total/128, at most 8 MiB, at least 1 */
  stepBytes?: number;
}
export type CopyScript = PolledScript | TimedScript;
export interface AzureCopyProxyOptions {
  /** Switches on the simulated read of sources Azurite cannot reach; the keys sign the Put Blob that stands for such a copy. */
  accounts?: AccountKeys;
  /** How long the "service" waits for such a source; 10 s by default. */
  sourceTimeoutMs?: number;
}
export interface RequestInfo { method: string; path: string; query: Record<string, string>; headers: http.IncomingHttpHeaders }
/** A simulated copy as the service holds it. Times are performance.now() of this process. */
export interface CopyView {
  copyId: string;
  status: string;
  /** Reads answered `pending` (by polls: including the read that ended it). */
  polls: number;
  /** When Copy Blob was answered. */
  startedAt: number;
  /** When it ended: the script's instant for a timed copy, the ending read or abort otherwise. */
  completedAt?: number;
  /** Every Get Blob (Properties) of the destination since the copy started, pending or not. */
  readsAt: number[];
}
export interface AzureCopyProxy {
  endpoint: string;
  /** Every request in arrival order; `path` is decoded, `status` is what the client got. */
  requests: Array<RequestInfo & { status: number }>;
  aborts: Array<{ path: string; copyId: string; status: number }>;
  /** Each read of a source outside Azurite, made by the proxy as the service (needs `accounts`); status 0: unreachable. */
  fetches: Array<{ url: string; status: number }>;
  /** Makes the next Copy Blob to `path` ("/account/container/blob") pending, then plays `script`. */
  arm(path: string, script: CopyScript): void;
  /** The simulated copy on `path`, as the service holds it; unlike a read, looking does not advance it. */
  peek(path: string): CopyView | undefined;
  /** Holds matching requests `ms` before forwarding them; returns a function that removes the rule. */
  setDelay(predicate: (req: RequestInfo) => boolean, ms: number): () => void;
  /** Answers every Abort Copy Blob on `path` with 500 InternalError until the returned function is called (a service that cannot abort). */
  refuseAborts(path: string): () => void;
  close(): Promise<void>;
}

type Status = "pending" | CopyScript["final"];
/** `source` is set for the copies the proxy made itself, whose copy properties Azurite never had. */
interface Copy {
  script: CopyScript; copyId: string; status: Status; polls: number; bytes: number; total?: number;
  completedOn?: string; description?: string; source?: string;
  startedAt: number; completedAt?: number; readsAt: number[];
}

const MiB = 1024 * 1024;
const isTimed = (script: CopyScript): script is TimedScript => "durationMs" in script;

const DESCRIPTIONS = { failed: '500 InternalError "Copy failed."', aborted: "The copy operation was aborted." };
const MESSAGES = {
  PendingCopyOperation: "There is currently a pending copy operation.",
  NoPendingCopyOperation: "There is currently no pending copy operation.",
  CopyIdMismatch: "The specified copy ID did not match the copy ID for the pending copy operation.",
  InternalError: "The server encountered an internal error. Please retry the request.",
};
// Headers that would describe bytes a failed or aborted copy does not leave behind.
const CONTENT_HEADERS = ["content-range", "content-md5", "x-ms-blob-content-md5", "x-ms-content-crc64", "accept-ranges"];

// Azurite's answers to a Copy Blob whose source it cannot reach, once it has judged auth.
const UNREACHABLE = ["BlobNotFound", "CannotVerifyCopySource"];

export async function startAzureCopyProxy(target: string, options: AzureCopyProxyOptions = {}): Promise<AzureCopyProxy> {
  const upstream = new URL(target);
  const requests: AzureCopyProxy["requests"] = [];
  const aborts: AzureCopyProxy["aborts"] = [];
  const fetches: AzureCopyProxy["fetches"] = [];
  let port = 0;
  const armed = new Map<string, CopyScript>();
  const copies = new Map<string, Copy>();
  const delays = new Set<{ predicate: (req: RequestInfo) => boolean; ms: number }>();
  const refusing = new Set<string>();
  // A fresh upstream connection per request, so no idle socket holds the test process open.
  const agent = new http.Agent({ keepAlive: false });

  /** Ends the copy, at `at` (performance.now()) when that instant is already past. */
  const finish = (copy: Copy, status: Status, at = performance.now()) => {
    const wallClock = Date.now() - (performance.now() - at);
    Object.assign(copy, { status, completedAt: at, completedOn: new Date(wallClock).toUTCString() });
    if (status === "failed" || status === "aborted") copy.description = copy.script.description ?? DESCRIPTIONS[status];
  };
  /** A timed copy whose instant has passed has ended, read or not. */
  const advance = (copy: Copy | undefined) => {
    if (copy?.status !== "pending" || !isTimed(copy.script)) return;
    const end = copy.startedAt + copy.script.durationMs;
    if (performance.now() >= end) finish(copy, copy.script.final, end);
  };
  const track = (script: CopyScript, copyId: string, extra: Partial<Copy> = {}): Copy => ({ script, copyId, status: "pending", polls: 0, bytes: 0, startedAt: performance.now(), readsAt: [], ...extra });

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://proxy");
    const info: RequestInfo = { method: req.method ?? "", path: decode(url.pathname), query: Object.fromEntries(url.searchParams), headers: req.headers };
    const entry = { ...info, status: 0 };
    requests.push(entry);
    res.on("finish", () => (entry.status = res.statusCode));
    const delay = Math.max(0, ...[...delays].filter((d) => d.predicate(info)).map((d) => d.ms));
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));

    const { method, path, query, headers } = info;
    const copy = copies.get(path);
    advance(copy);
    const plainPut = method === "PUT" && query.comp === undefined;
    // Copy Blob, not its synchronous cousins (Copy Blob From URL, Put Blob From URL).
    const isCopy = plainPut && !!headers["x-ms-copy-source"] && headers["x-ms-requires-sync"] !== "true" && !headers["x-ms-blob-type"];
    const isAbort = method === "PUT" && query.comp === "copy" && headers["x-ms-copy-action"] === "abort";
    const isRead = (method === "GET" || method === "HEAD") && query.comp === undefined && query.snapshot === undefined;
    if (isCopy && copy?.status === "pending") return error(res, {}, 409, "PendingCopyOperation");
    if (isAbort && refusing.has(path)) {
      aborts.push({ path, copyId: query.copyid ?? "", status: 500 });
      return error(res, {}, 500, "InternalError");
    }
    const source = String(headers["x-ms-copy-source"] ?? "");
    const own = [String(headers.host), `127.0.0.1:${port}`, `localhost:${port}`, upstream.host];
    if (options.accounts && plainPut && source && !headers["x-ms-blob-type"] && isExternal(source, own)) {
      return copyFromUrl(req, res, info, options.accounts).catch(() => res.destroy());
    }

    const forward = http.request({ host: upstream.hostname, port: upstream.port, method, path: req.url, headers, agent }, (answer) => {
      const status = answer.statusCode ?? 502;
      const out = { ...answer.headers };
      const ok = status >= 200 && status < 300;
      if (isAbort) {
        // Azurite vouched for auth, lease and existence; it answers 409 to every valid abort.
        const copyId = query.copyid ?? "";
        if (status !== 409 || !copy) {
          aborts.push({ path, copyId, status });
          return relay(res, status, out, answer);
        }
        answer.resume();
        const base = pick(out, ["x-ms-request-id", "x-ms-version", "x-ms-client-request-id", "date"]);
        const code = copy.status !== "pending" ? "NoPendingCopyOperation" : copyId !== copy.copyId ? "CopyIdMismatch" : undefined;
        aborts.push({ path, copyId, status: code ? 409 : 204 });
        if (code) return error(res, base, 409, code);
        finish(copy, "aborted");
        res.writeHead(204, { ...base, "content-length": "0" });
        return res.end();
      }
      if (ok && (plainPut || (method === "DELETE" && query.comp === undefined))) copies.delete(path); // the blob was replaced or removed
      const script = armed.get(path);
      if (isCopy && ok && script) {
        armed.delete(path);
        copies.set(path, track(script, String(out["x-ms-copy-id"])));
        out["x-ms-copy-status"] = "pending";
      }
      if (isRead && ok && copy) {
        if (copy.source) Object.assign(out, { "x-ms-copy-id": copy.copyId, "x-ms-copy-source": copy.source });
        const total = (copy.total ??= copy.script.totalBytes ?? totalOf(out));
        const { script } = copy;
        copy.readsAt.push(performance.now());
        if (isTimed(script)) {
          if (copy.status === "pending") {
            copy.polls++;
            copy.bytes = timedProgress(script, total, performance.now() - copy.startedAt);
          }
        } else {
          if (copy.status === "pending" && ++copy.polls > script.pendingPolls) finish(copy, script.final);
          if (copy.status === "pending") copy.bytes = Math.floor((total * copy.polls) / (script.pendingPolls + 1));
        }
        out["x-ms-copy-status"] = copy.status;
        out["x-ms-copy-progress"] = `${copy.status === "success" ? total : copy.bytes}/${total}`;
        delete out["x-ms-copy-status-description"];
        delete out["x-ms-copy-completion-time"];
        if (copy.completedOn) out["x-ms-copy-completion-time"] = copy.completedOn;
        if (copy.description) out["x-ms-copy-status-description"] = copy.description;
        if (copy.status === "failed" || copy.status === "aborted") {
          // What Azure leaves behind: a zero-length blob that keeps its metadata.
          for (const name of ["transfer-encoding", ...CONTENT_HEADERS]) delete out[name];
          out["content-length"] = "0";
          answer.resume();
          res.writeHead(200, out);
          return res.end();
        }
      }
      relay(res, status, out, answer);
    });
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });

  /** Copy Blob or Copy Blob From URL of a source outside Azurite: the service's read, simulated. */
  async function copyFromUrl(req: http.IncomingMessage, res: http.ServerResponse, { path, headers }: RequestInfo, keys: AccountKeys): Promise<void> {
    // Azurite judges auth and SAS permissions before the source, then answers 404 for one it cannot reach.
    const probe = await send(upstream, agent, { method: "PUT", path: req.url ?? "/", headers }, req);
    const passed = (probe.status >= 200 && probe.status < 300) || (probe.status === 404 && UNREACHABLE.includes(String(probe.headers["x-ms-error-code"])));
    if (!passed) return answer(res, probe);
    const base = { ...pick(probe.headers, ["x-ms-version"]), ...pick(headers, ["x-ms-client-request-id"]) };
    const account = path.split("/")[1] ?? "";
    const key = keyOf(keys, account);
    if (!key) return writeError(res, base, 500, "InternalError", `azureCopyProxy: no key for account ${account} in options.accounts`);
    const sync = headers["x-ms-requires-sync"] === "true";
    const source = String(headers["x-ms-copy-source"]);
    const read = await readSource(source, options.sourceTimeoutMs ?? 10_000);
    fetches.push({ url: source, status: read.status });
    if (read.kind === "refused") {
      const { status, code, message, details, headers: extra } = read.refusal;
      return writeError(res, { ...base, ...extra }, status, code, message, details);
    }
    // GUESSED: what a synchronous copy answers when the source breaks off.
    if (read.kind === "broken" && sync) return writeError(res, base, 409, "CannotVerifyCopySource", "Could not verify the copy source within the specified time.");
    const body = read.kind === "read" ? read.body : Buffer.alloc(0);
    const sourceMd5 = headers["x-ms-source-content-md5"];
    if (sync && sourceMd5 && sourceMd5 !== md5(body)) {
      return writeError(res, base, 400, "Md5Mismatch", "The MD5 value specified in the request did not match with the MD5 value calculated by the server.");
    }
    const rawPath = new URL(req.url ?? "/", "http://proxy").pathname;
    const written = await putBlob(upstream, agent, { name: account, key }, rawPath, putBlobHeaders(req.rawHeaders, read.headers), body);
    if (written.status !== 201) return answer(res, written); // the destination's container, lease or conditions
    const script = sync ? undefined : armed.get(path);
    if (script) armed.delete(path);
    const total = script?.totalBytes ?? (read.kind === "read" ? body.length : (read.expected ?? read.received));
    const copy = track(script ?? { pendingPolls: 0, final: "success" }, randomUUID(), { total, source });
    if (read.kind === "broken") {
      // Accepted, then lost: pending until the script's polls are spent, then failed.
      const description = `500 InternalError "The copy source (HTTP ${read.status}) broke off after ${read.received} of ${read.expected ?? "?"} bytes."`;
      copy.script = { ...copy.script, final: "failed", description };
    } else if (!script) finish(copy, "success");
    copies.set(path, copy);
    res.writeHead(202, {
      ...base,
      ...pick(written.headers, ["etag", "last-modified", "x-ms-request-id"]),
      "x-ms-copy-id": copy.copyId,
      "x-ms-copy-status": copy.status,
      ...(sync && sourceMd5 ? { "content-md5": sourceMd5 } : {}),
      "content-length": "0",
    });
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    aborts,
    fetches,
    arm(path, script) {
      if (isTimed(script) && !((script.queuedMs ?? 0) >= 0 && (script.queuedMs ?? 0) < script.durationMs)) {
        throw new Error(`azureCopyProxy.arm: queuedMs (${script.queuedMs}) must be ≥ 0 and below durationMs (${script.durationMs})`);
      }
      armed.set(path, script);
    },
    peek(path) {
      const copy = copies.get(path);
      advance(copy);
      return copy && { copyId: copy.copyId, status: copy.status, polls: copy.polls, startedAt: copy.startedAt, completedAt: copy.completedAt, readsAt: [...copy.readsAt] };
    },
    refuseAborts(path) {
      refusing.add(path);
      return () => void refusing.delete(path);
    },
    setDelay(predicate, ms) {
      const rule = { predicate, ms };
      delays.add(rule);
      return () => void delays.delete(rule);
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      agent.destroy();
      server.close(() => resolve());
    }),
  };
}

/** Bytes copied `elapsedMs` into a timed copy that is still pending: linear after the queue, in whole steps, below the total. */
function timedProgress(script: TimedScript, total: number, elapsedMs: number): number {
  const queued = script.queuedMs ?? 0;
  if (elapsedMs <= queued || total <= 0) return 0;
  const step = Math.max(1, script.stepBytes ?? Math.min(8 * MiB, Math.floor(total / 128)));
  const done = (total * Math.min(1, (elapsedMs - queued) / (script.durationMs - queued)));
  return Math.min(total - 1, Math.floor(done / step) * step);
}

function decode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function relay(res: http.ServerResponse, status: number, headers: http.IncomingHttpHeaders, body: http.IncomingMessage): void {
  res.writeHead(status, headers);
  body.pipe(res);
}

/** An answer Azurite gave the proxy, passed on as it is. */
function answer(res: http.ServerResponse, { status, headers, body }: Answer): void {
  res.writeHead(status, headers);
  res.end(body);
}

/** The blob's size, from Azurite's own progress, a range answer, or the length. */
function totalOf(headers: http.IncomingHttpHeaders): number {
  const from = (String(headers["x-ms-copy-progress"] ?? "").split("/")[1] ?? String(headers["content-range"] ?? "").split("/")[1]) || headers["content-length"];
  return Number(from ?? 0) || 0;
}

function pick(headers: http.IncomingHttpHeaders, names: string[]): http.OutgoingHttpHeaders {
  return Object.fromEntries(names.filter((n) => headers[n] !== undefined).map((n) => [n, headers[n]]));
}

/** An error as the Blob service shapes it: XML body and x-ms-error-code. */
function error(res: http.ServerResponse, base: http.OutgoingHttpHeaders, status: number, code: keyof typeof MESSAGES): void {
  writeError(res, base, status, code, MESSAGES[code]);
}
