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
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface CopyScript {
  /** How many Get Blob (Properties) answers say `pending` before the final state. */
  pendingPolls: number;
  /** `aborted` here means aborted by someone else. */
  final: "success" | "failed" | "aborted";
  description?: string;
  /** The total in x-ms-copy-progress; by default the blob's real size. */
  totalBytes?: number;
}
export interface RequestInfo { method: string; path: string; query: Record<string, string>; headers: http.IncomingHttpHeaders }
export interface AzureCopyProxy {
  endpoint: string;
  /** Every request in arrival order; `path` is decoded, `status` is what the client got. */
  requests: Array<RequestInfo & { status: number }>;
  aborts: Array<{ path: string; copyId: string; status: number }>;
  /** Makes the next Copy Blob to `path` ("/account/container/blob") pending, then plays `script`. */
  arm(path: string, script: CopyScript): void;
  /** Holds matching requests `ms` before forwarding them; returns a function that removes the rule. */
  setDelay(predicate: (req: RequestInfo) => boolean, ms: number): () => void;
  close(): Promise<void>;
}

type Status = "pending" | CopyScript["final"];
interface Copy { script: CopyScript; copyId: string; status: Status; polls: number; bytes: number; total?: number; completedOn?: string; description?: string }

const DESCRIPTIONS = { failed: '500 InternalError "Copy failed."', aborted: "The copy operation was aborted." };
const MESSAGES = {
  PendingCopyOperation: "There is currently a pending copy operation.",
  NoPendingCopyOperation: "There is currently no pending copy operation.",
  CopyIdMismatch: "The specified copy ID did not match the copy ID for the pending copy operation.",
};
// Headers that would describe bytes a failed or aborted copy does not leave behind.
const CONTENT_HEADERS = ["content-range", "content-md5", "x-ms-blob-content-md5", "x-ms-content-crc64", "accept-ranges"];

export async function startAzureCopyProxy(target: string): Promise<AzureCopyProxy> {
  const upstream = new URL(target);
  const requests: AzureCopyProxy["requests"] = [];
  const aborts: AzureCopyProxy["aborts"] = [];
  const armed = new Map<string, CopyScript>();
  const copies = new Map<string, Copy>();
  const delays = new Set<{ predicate: (req: RequestInfo) => boolean; ms: number }>();
  // A fresh upstream connection per request, so no idle socket holds the test process open.
  const agent = new http.Agent({ keepAlive: false });

  const finish = (copy: Copy, status: Status) => {
    Object.assign(copy, { status, completedOn: new Date().toUTCString() });
    if (status === "failed" || status === "aborted") copy.description = copy.script.description ?? DESCRIPTIONS[status];
  };

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
    const plainPut = method === "PUT" && query.comp === undefined;
    // Copy Blob, not its synchronous cousins (Copy Blob From URL, Put Blob From URL).
    const isCopy = plainPut && !!headers["x-ms-copy-source"] && headers["x-ms-requires-sync"] !== "true" && !headers["x-ms-blob-type"];
    const isAbort = method === "PUT" && query.comp === "copy" && headers["x-ms-copy-action"] === "abort";
    const isRead = (method === "GET" || method === "HEAD") && query.comp === undefined && query.snapshot === undefined;
    if (isCopy && copy?.status === "pending") return error(res, {}, 409, "PendingCopyOperation");

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
        copies.set(path, { script, copyId: String(out["x-ms-copy-id"]), status: "pending", polls: 0, bytes: 0 });
        out["x-ms-copy-status"] = "pending";
      }
      if (isRead && ok && copy) {
        const total = (copy.total ??= copy.script.totalBytes ?? totalOf(out));
        if (copy.status === "pending" && ++copy.polls > copy.script.pendingPolls) finish(copy, copy.script.final);
        if (copy.status === "pending") copy.bytes = Math.floor((total * copy.polls) / (copy.script.pendingPolls + 1));
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
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    aborts,
    arm: (path, script) => void armed.set(path, script),
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
  const requestId = String(base["x-ms-request-id"] ?? randomUUID());
  const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${MESSAGES[code]}\nRequestId:${requestId}\nTime:${new Date().toISOString()}</Message></Error>`;
  res.writeHead(status, { ...base, "x-ms-request-id": requestId, "x-ms-error-code": code, "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
