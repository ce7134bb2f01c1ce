/**
 * TEST DOUBLE, part of the azureCopyProxy simulation: the Blob service's own read of a copy
 * source that is not an Azurite blob (a web server, an S3 presigned GET URL), which Azurite never
 * performs. What the service does, and where that comes from:
 * - It reads the URL itself and follows no redirect. A 3xx is refused at once with 400
 *   CannotVerifyCopySource "A redirected response (HTTP status code 302) from the copy source is
 *   not supported." (seen from `Start-AzStorageBlobCopy` / `az storage blob copy start`,
 *   Azure/azure-powershell#24661), for Copy Blob as much as for Copy Blob From URL.
 * - A 4xx from the source is refused at once, same status, CannotVerifyCopySource, the source's
 *   reason phrase as message and `<CopySourceStatusCode>`/`<CopySourceErrorMessage>` in the body
 *   (a 403 from an S3 presigned URL, Azure/azure-storage-python#720). It is not a `failed` copy:
 *   the service verifies the source before it answers Copy Blob.
 * - GUESSED (nothing public shows them): a 5xx or an unreachable source is 409
 *   CannotVerifyCopySource; a source that breaks off mid-body after the copy was accepted makes
 *   an asynchronous copy `failed`.
 * The destination is then written with a Put Blob signed with the account key, so Azurite keeps
 * checking the container, leases and If-* conditions on the destination.
 */
import { createHash, createHmac, randomUUID } from "node:crypto";
import http from "node:http";
import https from "node:https";

/** Account keys, as a list or a lookup by account name. */
export type AccountKeys = Array<{ name: string; key: string }> | ((account: string) => string | undefined);

export interface Answer { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

/** Why the service refuses a copy before answering it. */
export interface Refusal { status: number; code: string; message: string; details: Record<string, string>; headers: Record<string, string> }

export type SourceRead =
  | { kind: "read"; status: number; headers: http.IncomingHttpHeaders; body: Buffer }
  | { kind: "refused"; status: number; refusal: Refusal }
  /** Accepted (2xx), then the body broke off: what an asynchronous copy reports as `failed`. */
  | { kind: "broken"; status: number; headers: http.IncomingHttpHeaders; received: number; expected?: number };

/** Whether `source` is somewhere other than Azurite or the proxy (`hosts`, as `host:port`). */
export function isExternal(source: string, hosts: string[]): boolean {
  try {
    const url = new URL(source);
    return (url.protocol === "http:" || url.protocol === "https:") && !hosts.includes(url.host);
  } catch {
    return false;
  }
}

export function keyOf(keys: AccountKeys, account: string): string | undefined {
  return typeof keys === "function" ? keys(account) : keys.find((k) => k.name === account)?.key;
}

/** One GET of the source, as the service does it: no redirects, no decompression. */
export function readSource(source: string, timeoutMs: number): Promise<SourceRead> {
  return new Promise((resolve) => {
    const url = new URL(source);
    const client = url.protocol === "https:" ? https : http;
    const unreachable = (): SourceRead => ({ kind: "refused", status: 0, refusal: refusal(409, "Could not verify the copy source within the specified time.", {}) });
    let answered = false;
    const req = client.get(url, { agent: false, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      answered = true;
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve(status >= 200 && status < 300 ? { kind: "read", status, headers: res.headers, body } : { kind: "refused", status, refusal: refusalFor(status, res.headers, body) });
      });
      res.on("error", () => {
        const received = chunks.reduce((n, c) => n + c.length, 0);
        const expected = Number(res.headers["content-length"]) || undefined;
        resolve(status >= 200 && status < 300 ? { kind: "broken", status, headers: res.headers, received, expected } : unreachable());
      });
    });
    req.on("error", () => void (answered || resolve(unreachable())));
  });
}

function refusalFor(status: number, headers: http.IncomingHttpHeaders, body: Buffer): Refusal {
  const reason = http.STATUS_CODES[status] ?? "Unknown";
  if (status >= 300 && status < 400) return refusal(400, `A redirected response (HTTP status code ${status}) from the copy source is not supported.`, {});
  // An S3-style XML error names its code; the service passes it on.
  const sourceCode = /xml/.test(String(headers["content-type"] ?? "")) ? /<Code>([^<]*)<\/Code>/.exec(body.toString("utf8"))?.[1] : undefined;
  const details = { CopySourceStatusCode: String(status), CopySourceErrorMessage: reason, ...(sourceCode ? { CopySourceErrorCode: sourceCode } : {}) };
  const extra = { "x-ms-copy-source-status-code": String(status), ...(sourceCode ? { "x-ms-copy-source-error-code": sourceCode } : {}) };
  return { ...refusal(status >= 400 && status < 500 ? status : 409, reason, details), headers: extra };
}

function refusal(status: number, message: string, details: Record<string, string>): Refusal {
  return { status, code: "CannotVerifyCopySource", message, details, headers: {} };
}

/** Headers of the Put Blob that stands for the copy: the request's metadata, tags, tier, conditions and lease, the source's content headers. */
export function putBlobHeaders(rawHeaders: string[], source: http.IncomingHttpHeaders): Record<string, string> {
  const kept = ["x-ms-tags", "x-ms-access-tier", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "x-ms-if-tags", "x-ms-lease-id", "x-ms-version"];
  const out: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    // Metadata names keep their case, as the service stores them.
    if (lower.startsWith("x-ms-meta-")) out[name] = rawHeaders[i + 1]!;
    else if (kept.includes(lower)) out[lower] = rawHeaders[i + 1]!;
  }
  const copied = { "content-type": "x-ms-blob-content-type", "content-encoding": "x-ms-blob-content-encoding", "content-language": "x-ms-blob-content-language", "content-disposition": "x-ms-blob-content-disposition", "cache-control": "x-ms-blob-cache-control", "content-md5": "x-ms-blob-content-md5" };
  for (const [from, to] of Object.entries(copied)) if (source[from] !== undefined) out[to] = String(source[from]);
  return out;
}

export function md5(body: Buffer): string {
  return createHash("md5").update(body).digest("base64");
}

/** Put Blob (block blob) on Azurite at `rawPath` ("/account/container/blob", as sent), signed with SharedKey. */
export function putBlob(upstream: URL, agent: http.Agent, account: { name: string; key: string }, rawPath: string, headers: Record<string, string>, body: Buffer): Promise<Answer> {
  const all: Record<string, string> = { ...headers, "x-ms-blob-type": "BlockBlob", "x-ms-date": new Date().toUTCString(), "content-length": String(body.length) };
  all["x-ms-version"] ??= "2025-11-05";
  all.authorization = `SharedKey ${account.name}:${sharedKey("PUT", all, `/${account.name}${rawPath}`, account.key)}`;
  return send(upstream, agent, { method: "PUT", path: rawPath, headers: all }, body);
}

/** One request to Azurite; the answer with its whole body. */
export function send(upstream: URL, agent: http.Agent, options: { method: string; path: string; headers: http.OutgoingHttpHeaders }, body: Buffer | NodeJS.ReadableStream): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: upstream.hostname, port: upstream.port, agent, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

/** The Blob service's SharedKey signature (https://learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key). */
function sharedKey(method: string, headers: Record<string, string>, resource: string, key: string): string {
  const lower = Object.fromEntries(Object.entries(headers).map(([n, v]) => [n.toLowerCase(), v]));
  const h = (name: string) => lower[name] ?? "";
  const standard = ["content-encoding", "content-language", "content-length", "content-md5", "content-type", "date", "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range"]
    .map((name) => (name === "content-length" && h(name) === "0" ? "" : h(name)));
  // Sorted as Azurite (and the SDK) sort them.
  const canonical = Object.keys(lower).filter((n) => n.startsWith("x-ms-")).sort((a, b) => a.localeCompare(b)).map((n) => `${n}:${lower[n]!.trim()}\n`).join("");
  const toSign = [method, ...standard, canonical + resource].join("\n");
  return createHmac("sha256", Buffer.from(key, "base64")).update(toSign, "utf8").digest("base64");
}

/** An error as the Blob service shapes it: XML body (with any detail elements) and x-ms-error-code. */
export function writeError(res: http.ServerResponse, base: http.OutgoingHttpHeaders, status: number, code: string, message: string, details: Record<string, string> = {}): void {
  const requestId = String(base["x-ms-request-id"] ?? randomUUID());
  const extra = Object.entries(details).map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`).join("");
  const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${escapeXml(message)}\nRequestId:${requestId}\nTime:${new Date().toISOString()}</Message>${extra}</Error>`;
  res.writeHead(status, { ...base, "x-ms-request-id": requestId, "x-ms-error-code": code, "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
