/**
 * TEST DOUBLE, a simulation: a protocol-level Azure Files server, in memory, on 127.0.0.1. No
 * Azure Files emulator exists (Azurite has no Files service), so this speaks just enough of the
 * FileREST API for the real @azure/storage-file-share SDK to work against it unchanged, with
 * path-style URLs like Azurite's: http://127.0.0.1:P/<account>/<share>/<dir>/<file>.
 * Operations (REST reference, https://learn.microsoft.com/rest/api/storageservices/ + name):
 * create-share, get-share-properties, delete-share, create-directory, get-directory-properties,
 * delete-directory, list-directories-and-files, create-file, put-range, get-file,
 * get-file-properties, set-file-metadata, copy-file, abort-copy-file, delete-file, rename-file
 * (list-directories-and-files gives ETags when asked with include=Etag).
 * Errors: file-service-error-codes, common-rest-api-error-codes. Auth: authorize-with-shared-key,
 * create-service-sas, create-account-sas. Anything else answers 501 NotImplemented.
 * Copy File stays `pending` for `copyDelayMs` (growing x-ms-copy-progress, zero-length
 * destination), then ends `success` (bytes land) or, when scripted, `failed`. Abort Copy File
 * follows abort-copy-file: 204, then zero length, metadata kept, status `aborted`.
 * It proves the requests we send and our state machine, not Azure's timing: label tests using it.
 */
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface CopyScript {
  /** How the copy ends; `success` by default. */
  final?: "success" | "failed";
  /** How long it stays pending; by default the server's copyDelayMs. */
  delayMs?: number;
  description?: string;
}
export interface AzureFilesServerOptions {
  /** Default: devstoreaccount1 (Azurite's well-known key) and account2 (random key). */
  accounts?: Array<{ name: string; key?: string }>;
  /** How long a Copy File stays pending (default 1500 ms); 0 answers `success` at once. */
  copyDelayMs?: number;
}
export interface AzureFilesServer {
  /** `http://127.0.0.1:P` */
  endpoint: string;
  accounts: Array<{ name: string; key: string; /** `http://127.0.0.1:P/<name>` */ url: string }>;
  /** Every request in arrival order; `path` is decoded, `status` is what the client got. */
  requests: Array<{ method: string; path: string; query: Record<string, string>; headers: http.IncomingHttpHeaders; status: number }>;
  aborts: Array<{ path: string; copyId: string; status: number }>;
  /** Scripts the next Copy File to `path` ("/account/share/dir/file"). */
  script(path: string, script: CopyScript): void;
  /** What the server holds at `path`, for server-side assertions. */
  peek(path: string): { content: Buffer; metadata: Record<string, string>; copyStatus?: string } | undefined;
  close(): Promise<void>;
}

type Status = "pending" | "success" | "failed" | "aborted";
interface Copy { id: string; source: string; status: Status; total: number; startedAt: number; delayMs: number; final: "success" | "failed"; data?: Buffer; completedOn?: Date; description?: string }
/** A file's HTTP properties, by their response header names (Get File returns them as standard headers). */
type FileProps = Partial<Record<(typeof FILE_PROPS)[number], string>>;
const FILE_PROPS = ["content-type", "content-encoding", "content-language", "cache-control", "content-disposition", "content-md5"] as const;
interface Item { kind: "file" | "directory"; content: Buffer; metadata: Record<string, string>; props: FileProps; etag: string; lastModified: Date; created: Date; id: string; copy?: Copy }
interface Share { item: Item; items: Map<string, Item>; snapshots?: Map<string, Map<string, Item>> } // "" is the root directory
interface Account { name: string; key: Buffer; shares: Map<string, Share> }
/** `source` is what the copy source answered: Copy File reports it in CopySource* body elements and headers. */
interface Fault { status: number; code: string; detail?: string; source?: { status: number; code: string; message: string } }

const WELL_KNOWN = { name: "devstoreaccount1", key: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==" };
const MESSAGES: Record<string, string> = {
  AuthenticationFailed: "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
  NoAuthenticationInformation: "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.",
  AuthorizationPermissionMismatch: "This request is not authorized to perform this operation using this permission.",
  AuthorizationResourceTypeMismatch: "This request is not authorized to perform this operation using this resource type.",
  AuthorizationServiceMismatch: "This request is not authorized to perform this operation using this service.",
  AuthorizationProtocolMismatch: "This request is not authorized to perform this operation using this protocol.",
  CannotVerifyCopySource: "Could not verify the copy source within the specified time.",
  ShareNotFound: "The specified share does not exist.",
  ShareAlreadyExists: "The specified share already exists.",
  ParentNotFound: "The specified parent path does not exist.",
  ResourceNotFound: "The specified resource does not exist.",
  ResourceAlreadyExists: "The specified resource already exists.",
  ResourceTypeMismatch: "The specified resource type does not match the type of the resource.",
  DirectoryNotEmpty: "The specified directory is not empty.",
  InvalidRange: "The range specified is invalid for the current size of the resource.",
  InvalidHeaderValue: "The value for one of the HTTP headers is not in the correct format.",
  MissingRequiredHeader: "An HTTP header that's mandatory for this request is not specified.",
  PendingCopyOperation: "There is currently a pending copy operation.",
  NoPendingCopyOperation: "There is currently no pending copy operation.",
  CopyIdMismatch: "The specified copy ID did not match the copy ID for the pending copy operation.",
  NotImplemented: "The requested operation is not implemented by this test double.",
  InternalError: "The server encountered an internal error. Please retry the request.",
};
const SIGNED_HEADERS = ["content-encoding", "content-language", "content-length", "content-md5", "content-type", "date", "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range"];

export async function startAzureFilesServer(opts: AzureFilesServerOptions = {}): Promise<AzureFilesServer> {
  const copyDelayMs = opts.copyDelayMs ?? 1500;
  const defs = opts.accounts ?? [WELL_KNOWN, { name: "account2" }];
  const accounts = new Map<string, Account>(defs.map((a) => [a.name, { name: a.name, key: Buffer.from(a.key ?? randomBytes(64).toString("base64"), "base64"), shares: new Map() }]));
  const requests: AzureFilesServer["requests"] = [];
  const aborts: AzureFilesServer["aborts"] = [];
  const scripts = new Map<string, CopyScript>();
  let etags = 0;
  const newItem = (kind: Item["kind"], metadata: Record<string, string> = {}, content = Buffer.alloc(0)): Item =>
    ({ kind, content, metadata, props: { "content-type": "application/octet-stream" }, created: new Date(), id: String(1e12 + ++etags), ...touch() });
  const touch = () => ({ etag: `"0x8DC${(Date.now() * 16 + ++etags).toString(16).toUpperCase()}"`, lastModified: new Date() });

  /** Copies end when someone looks: the state is what it would be at this instant. */
  const settle = (item: Item | undefined) => {
    const copy = item?.copy;
    if (!item || copy?.status !== "pending" || Date.now() < copy.startedAt + copy.delayMs) return;
    Object.assign(copy, { status: copy.final, completedOn: new Date(copy.startedAt + copy.delayMs) });
    if (copy.final === "success") item.content = copy.data!;
    else copy.description ??= '500 InternalError "Copy failed."';
    delete copy.data;
    Object.assign(item, touch());
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      handle(req, res, Buffer.concat(chunks)).catch((err: unknown) => {
        if (res.headersSent) return void res.destroy();
        send(req, res, 500, {}, undefined, { status: 500, code: "InternalError", detail: String(err) });
      });
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const rawPath = q < 0 ? url : url.slice(0, q);
    const query = parseQuery(q < 0 ? "" : url.slice(q + 1));
    const segs = rawPath.split("/").filter(Boolean).map(decode);
    // The SDK's rename builds the destination as /<share>/<path> on the client's URL, which drops the account of a
    // path-style URL (ours, Azurite's); real Azure Files is host-style. Take the account from the rename source.
    const renamedFrom = String(req.headers["x-ms-file-rename-source"] ?? "");
    if (renamedFrom && !accounts.has(segs[0] ?? "")) segs.unshift(decode(new URL(renamedFrom).pathname.split("/")[1] ?? ""));
    const method = req.method ?? "GET";
    const entry = { method, path: "/" + segs.join("/"), query: Object.fromEntries([...query].map(([k, v]) => [k, v.join(",")])), headers: req.headers, status: 0 };
    requests.push(entry);
    res.on("finish", () => (entry.status = res.statusCode));
    const h = (name: string) => String(req.headers[name] ?? "");
    const p = (name: string) => query.get(name)?.[0];
    const fail = (status: number, code: string, detail?: string, extra: http.OutgoingHttpHeaders = {}) => send(req, res, status, extra, undefined, { status, code, detail });
    const ok = (status: number, headers: http.OutgoingHttpHeaders = {}, payload?: Buffer) => send(req, res, status, headers, payload);

    const account = accounts.get(segs[0] ?? "");
    if (!account) return fail(404, "ResourceNotFound");
    const restype = p("restype");
    const comp = p("comp");
    const level = restype === "share" || comp === "list" ? "c" : "o";
    const perms = method === "GET" || method === "HEAD" ? (comp === "list" ? "l" : "r") : method === "DELETE" ? "d" : comp === undefined && !req.headers["x-ms-copy-source"] ? "cw" : "w";
    const sharedKey = !query.has("sig");
    const denied = sharedKey ? checkSharedKey(req, account, rawPath, query) : checkSas(account, segs, query, perms, level);
    if (denied) return send(req, res, denied.status, {}, undefined, denied);

    const shareName = segs[1];
    if (!shareName) return fail(501, "NotImplemented", "Service-level operations");
    const share = account.shares.get(shareName);
    const path = segs.slice(2).join("/");
    const parent = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    const meta = metadataOf(req.headers);

    if (restype === "share") {
      if (method === "PUT" && comp === undefined) {
        if (share) return fail(409, "ShareAlreadyExists");
        const created: Share = { item: newItem("directory", meta), items: new Map([["", newItem("directory")]]) };
        account.shares.set(shareName, created);
        return ok(201, itemHeaders(created.item, false));
      }
      if (!share) return fail(404, "ShareNotFound");
      if (method === "GET" || method === "HEAD") return ok(200, { ...itemHeaders(share.item, true), "x-ms-share-quota": "102400" });
      if (method === "DELETE") {
        account.shares.delete(shareName);
        return ok(202);
      }
      // Snapshot Share: a read-only, point-in-time copy of every file, named by its timestamp.
      if (method === "PUT" && comp === "snapshot") {
        const stamp = new Date().toISOString().replace(/\.(\d+)Z$/, (_, ms: string) => `.${ms.padEnd(7, "0")}Z`);
        const frozen = new Map([...share.items].map(([k, v]) => [k, { ...v, content: Buffer.from(v.content), metadata: { ...v.metadata }, copy: undefined }]));
        (share.snapshots ??= new Map()).set(stamp, frozen);
        return ok(201, { "x-ms-snapshot": stamp, etag: share.item.etag, "last-modified": share.item.lastModified.toUTCString() });
      }
      return fail(501, "NotImplemented", `${method} ?restype=share&comp=${comp}`);
    }
    if (!share) return fail(404, "ShareNotFound");
    const snapshot = p("sharesnapshot");
    if (snapshot && !["GET", "HEAD"].includes(method)) return fail(400, "InvalidQueryParameterValue", "sharesnapshot: snapshots are read-only");
    const items = snapshot ? share.snapshots?.get(snapshot) : share.items;
    if (!items) return fail(404, "ShareSnapshotNotFound");
    const item = items.get(path);
    settle(item);
    const parentDir = share.items.get(parent);
    const parentOk = path === "" || parentDir?.kind === "directory";

    if (restype === "directory") {
      if (method === "PUT" && comp === undefined) {
        if (!parentOk) return fail(404, "ParentNotFound");
        if (item) return fail(409, item.kind === "directory" ? "ResourceAlreadyExists" : "ResourceTypeMismatch");
        const dir = newItem("directory", meta);
        share.items.set(path, dir);
        return ok(201, itemHeaders(dir, false));
      }
      if (!parentOk) return fail(404, "ParentNotFound");
      if (item?.kind !== "directory") return fail(404, "ResourceNotFound");
      if ((method === "GET" || method === "HEAD") && comp === "list") return ok(200, { "content-type": "application/xml" }, Buffer.from(listing(account, shareName, share, path, p("prefix") ?? "", /etag/i.test(p("include") ?? ""))));
      if (method === "GET" || method === "HEAD") return ok(200, itemHeaders(item, true));
      if (method === "PUT" && comp === "metadata") {
        Object.assign(item, { metadata: meta }, touch());
        return ok(200, itemHeaders(item, false));
      }
      if (method === "DELETE") {
        if (path === "") return fail(501, "NotImplemented", "Deleting the root directory");
        if ([...share.items.keys()].some((k) => k.startsWith(path + "/"))) return fail(409, "DirectoryNotEmpty");
        share.items.delete(path);
        return ok(202);
      }
      return fail(501, "NotImplemented", `${method} ?restype=directory&comp=${comp}`);
    }

    if (!parentOk) return fail(404, "ParentNotFound");
    if (item?.kind === "directory") return method === "PUT" ? fail(409, "ResourceTypeMismatch") : fail(404, "ResourceNotFound");
    const pending = item?.copy?.status === "pending";
    const copySource = h("x-ms-copy-source");
    if (method === "PUT" && comp === undefined && !copySource) {
      if (h("x-ms-type").toLowerCase() !== "file" || !/^\d+$/.test(h("x-ms-content-length"))) return fail(400, "MissingRequiredHeader", "x-ms-type: file and x-ms-content-length");
      if (pending) return fail(409, "PendingCopyOperation");
      const file = newItem("file", meta, Buffer.alloc(Number(h("x-ms-content-length"))));
      // Create File and Set File Properties take the properties as x-ms-<name> headers.
      file.props = propsFrom(h, file.props["content-type"]);
      share.items.set(path, file);
      return ok(201, itemHeaders(file, false));
    }
    if (method === "PUT" && comp === undefined) {
      if (pending) return fail(409, "PendingCopyOperation");
      const script = scripts.get(entry.path) ?? {};
      const source = await readSource(copySource, account, sharedKey);
      if ("code" in source) return send(req, res, source.status, {}, undefined, source);
      scripts.delete(entry.path);
      const file = newItem("file", Object.keys(meta).length ? meta : source.metadata);
      file.props = { ...source.props };
      file.copy = { id: randomUUID(), source: copySource, status: "pending", total: source.data.length, startedAt: Date.now(), delayMs: script.delayMs ?? copyDelayMs, final: script.final ?? "success", data: source.data, description: script.description };
      share.items.set(path, file);
      settle(file);
      return ok(202, { etag: file.etag, "last-modified": file.lastModified.toUTCString(), "x-ms-copy-id": file.copy.id, "x-ms-copy-status": file.copy.status });
    }
    if (method === "PUT" && comp === "rename") {
      // Rename File: the source is named by URL (maybe with a SAS); the destination's SAS or key authorises it.
      const from = new URL(h("x-ms-file-rename-source"), "http://source").pathname.split("/").filter(Boolean).map(decode);
      const moved = from[0] === account.name && from[1] === shareName ? share.items.get(from.slice(2).join("/")) : undefined;
      if (moved?.kind !== "file") return fail(404, "ResourceNotFound", "x-ms-file-rename-source");
      if (item && h("x-ms-file-rename-replace-if-exists") !== "true") return fail(409, "ResourceAlreadyExists");
      share.items.delete(from.slice(2).join("/"));
      share.items.set(path, moved);
      return ok(200, itemHeaders(moved, false));
    }
    if (!item) return fail(404, "ResourceNotFound");
    if (method === "PUT" && comp === "copy") {
      const copyId = p("copyid") ?? "";
      if (h("x-ms-copy-action") !== "abort") return fail(400, "MissingRequiredHeader", "x-ms-copy-action: abort");
      const code = !pending ? "NoPendingCopyOperation" : copyId !== item.copy!.id ? "CopyIdMismatch" : undefined;
      aborts.push({ path: entry.path, copyId, status: code ? 409 : 204 });
      if (code) return fail(409, code);
      Object.assign(item.copy!, { status: "aborted", completedOn: new Date(), data: undefined });
      Object.assign(item, { content: Buffer.alloc(0) }, touch());
      return ok(204);
    }
    if (method === "PUT" && comp === "range") {
      if (pending) return fail(409, "PendingCopyOperation");
      const range = parseRange(h("x-ms-range") || h("range"));
      if (!range || range.end === undefined) return fail(400, "InvalidHeaderValue", "x-ms-range");
      if (range.end >= item.content.length) return fail(416, "InvalidRange");
      const clear = h("x-ms-write") === "clear";
      if (!clear && body.length !== range.end - range.start + 1) return fail(400, "InvalidHeaderValue", "Content-Length does not match x-ms-range");
      if (clear) item.content.fill(0, range.start, range.end + 1);
      else body.copy(item.content, range.start);
      Object.assign(item, touch());
      return ok(201, { ...itemHeaders(item, false), ...(clear ? {} : { "content-md5": createHash("md5").update(body).digest("base64") }) });
    }
    if (method === "PUT" && comp === "properties") {
      // Set File Properties: a property not given is cleared (REST reference); a new length resizes.
      if (pending) return fail(409, "PendingCopyOperation");
      item.props = propsFrom(h);
      const length = h("x-ms-content-length");
      if (/^\d+$/.test(length)) item.content = Buffer.concat([item.content, Buffer.alloc(Number(length))]).subarray(0, Number(length));
      Object.assign(item, touch());
      return ok(200, itemHeaders(item, false));
    }
    if (method === "PUT" && comp === "properties") {
      // Set File Properties: a property not given is cleared (REST reference); a new length resizes.
      if (pending) return fail(409, "PendingCopyOperation");
      item.props = propsFrom(h);
      const length = h("x-ms-content-length");
      if (/^\d+$/.test(length)) item.content = Buffer.concat([item.content, Buffer.alloc(Number(length))]).subarray(0, Number(length));
      Object.assign(item, touch());
      return ok(200, itemHeaders(item, false));
    }
    if (method === "PUT" && comp === "metadata") {
      if (pending) return fail(409, "PendingCopyOperation");
      Object.assign(item, { metadata: meta }, touch());
      return ok(200, { etag: item.etag, "last-modified": item.lastModified.toUTCString(), "x-ms-request-server-encrypted": "true" });
    }
    if ((method === "GET" || method === "HEAD") && comp === undefined) {
      const size = item.content.length;
      const headers = { ...itemHeaders(item, true), "x-ms-type": "File", "accept-ranges": "bytes" };
      const rangeHeader = h("x-ms-range") || h("range");
      if (method === "HEAD" || !rangeHeader) return ok(200, headers, method === "HEAD" ? undefined : item.content);
      const range = parseRange(rangeHeader);
      if (!range) return fail(400, "InvalidHeaderValue", "x-ms-range");
      if (range.start >= size) return fail(416, "InvalidRange", undefined, { "content-range": `bytes */${size}` });
      const end = Math.min(range.end ?? size - 1, size - 1);
      return ok(206, { ...headers, "content-length": end - range.start + 1, "content-range": `bytes ${range.start}-${end}/${size}` }, item.content.subarray(range.start, end + 1));
    }
    if (method === "DELETE" && comp === undefined) {
      share.items.delete(path);
      return ok(202);
    }
    return fail(501, "NotImplemented", `${method} ?comp=${comp}`);
  }

  /** The copy source's bytes, checked the way Copy File does: a SAS, or Shared Key within the account. */
  async function readSource(source: string, account: Account, sharedKey: boolean): Promise<{ data: Buffer; metadata: Record<string, string>; props: FileProps } | Fault> {
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      return { status: 400, code: "InvalidHeaderValue", detail: "x-ms-copy-source" };
    }
    const cannot = (status: number, code: string, message = MESSAGES[code] ?? code): Fault => ({ status, code: "CannotVerifyCopySource", source: { status, code, message } });
    if (["127.0.0.1", "localhost"].includes(url.hostname) && url.port === String(port)) {
      const segs = url.pathname.split("/").filter(Boolean).map(decode);
      const owner = accounts.get(segs[0] ?? "");
      const query = parseQuery(url.search.slice(1));
      if (!owner) return cannot(404, "ResourceNotFound");
      if (query.has("sig")) {
        const fault = checkSas(owner, segs, query, "r", "o");
        if (fault) return cannot(fault.status, fault.code);
      } else if (owner !== account || !sharedKey) return cannot(403, "AuthenticationFailed"); // only a same-account source may ride on Shared Key
      const sourceShare = owner.shares.get(segs[1] ?? "");
      const snapshot = query.get("sharesnapshot")?.[0];
      const item = (snapshot ? sourceShare?.snapshots?.get(snapshot) : sourceShare?.items)?.get(segs.slice(2).join("/"));
      settle(item);
      if (item?.kind !== "file") return cannot(404, "ResourceNotFound");
      return { data: Buffer.from(item.content), metadata: { ...item.metadata }, props: { ...item.props } };
    }
    // A blob (e.g. on Azurite) or any other URL: a plain GET, as the service fetches it.
    const answer = await fetch(url, { signal: AbortSignal.timeout(30_000) }).catch((err: unknown) => err as Error);
    if (answer instanceof Error) return cannot(500, "InternalError", answer.message);
    if (!answer.ok) return cannot(answer.status, answer.headers.get("x-ms-error-code") ?? String(answer.status), answer.statusText);
    const metadata = metadataOf(Object.fromEntries(answer.headers));
    const props: FileProps = Object.fromEntries(FILE_PROPS.flatMap((name) => (answer.headers.get(name) ? [[name, answer.headers.get(name)!]] : [])));
    return { data: Buffer.from(await answer.arrayBuffer()), metadata, props: { "content-type": "application/octet-stream", ...props } };
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    accounts: [...accounts.values()].map((a) => ({ name: a.name, key: a.key.toString("base64"), url: `${endpoint}/${a.name}` })),
    requests,
    aborts,
    script: (path, script) => void scripts.set(path, script),
    peek(path) {
      const segs = path.split("/").filter(Boolean);
      const item = accounts.get(segs[0] ?? "")?.shares.get(segs[1] ?? "")?.items.get(segs.slice(2).join("/"));
      settle(item);
      return item && { content: item.content, metadata: item.metadata, copyStatus: item.copy?.status };
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Authorize with Shared Key, File service: the signature over the string-to-sign must match. */
function checkSharedKey(req: http.IncomingMessage, account: Account, rawPath: string, query: Map<string, string[]>): Fault | undefined {
  const authorization = String(req.headers.authorization ?? "");
  if (!authorization) return { status: 401, code: "NoAuthenticationInformation" };
  const match = /^SharedKey ([^:]+):(.+)$/.exec(authorization);
  const value = (name: string) => String(req.headers[name] ?? "");
  const date = Date.parse(value("x-ms-date") || value("date"));
  if (!match || match[1] !== account.name) return { status: 403, code: "AuthenticationFailed", detail: "The Authorization header is not SharedKey <this account>:<signature>." };
  if (!Number.isFinite(date) || Math.abs(Date.now() - date) > 15 * 60_000) return { status: 403, code: "AuthenticationFailed", detail: "Request date header too old or missing." };
  // The header order and Content-Length rule are the reference's; x-ms-* sorted like Azurite does.
  const standard = SIGNED_HEADERS.map((n) => (n === "content-length" && value(n) === "0" ? "" : value(n)));
  const canonicalHeaders = Object.keys(req.headers).filter((n) => n.startsWith("x-ms-")).sort((a, b) => a.localeCompare(b, "en")).map((n) => `${n}:${value(n).trimStart()}\n`).join("");
  const canonicalResource = `/${account.name}${rawPath || "/"}` + [...query.keys()].sort().map((k) => `\n${k}:${[...query.get(k)!].sort().join(",")}`).join("");
  const stringToSign = [req.method, ...standard].join("\n") + "\n" + canonicalHeaders + canonicalResource;
  if (hmac(account.key, stringToSign) === match[2]) return undefined;
  return { status: 403, code: "AuthenticationFailed", detail: `The MAC signature found in the HTTP request '${match[2]}' is not the same as any computed signature. Server used following string to sign: '${stringToSign}'.` };
}

/** A service SAS (sr=f or sr=s) or an account SAS (ss), signed with the account key. */
function checkSas(account: Account, segs: string[], query: Map<string, string[]>, perms: string, level: "c" | "o"): Fault | undefined {
  const g = (k: string) => query.get(k)?.[0] ?? "";
  const failed = (detail: string): Fault => ({ status: 403, code: "AuthenticationFailed", detail });
  let stringToSign: string;
  if (query.has("ss")) {
    stringToSign = [account.name, g("sp"), g("ss"), g("srt"), g("st"), g("se"), g("sip"), g("spr"), g("sv"), ...(g("sv") >= "2020-12-06" ? [g("ses")] : []), ""].join("\n");
  } else {
    if (g("si")) return failed("Stored access policies are not supported by this test double.");
    const resource = g("sr") === "f" ? segs.slice(1).join("/") : g("sr") === "s" ? segs[1] : undefined;
    if (!resource) return failed(`Unsupported signed resource '${g("sr")}'.`);
    const fields = [g("sp"), g("st"), g("se"), `/file/${account.name}/${resource}`, g("si"), g("sip"), g("spr"), g("sv")];
    stringToSign = [...fields, g("rscc"), g("rscd"), g("rsce"), g("rscl"), g("rsct")].join("\n");
  }
  if (hmac(account.key, stringToSign) !== g("sig")) return failed(`Signature did not match. String to sign used was ${stringToSign}`);
  const now = Date.now();
  if ((g("st") && Date.parse(g("st")) > now) || !(Date.parse(g("se")) > now)) return failed(`Signature not valid in the specified time frame: Start [${g("st")}] - Expiry [${g("se")}] - Current [${new Date(now).toUTCString()}]`);
  if (g("spr") === "https") return { status: 403, code: "AuthorizationProtocolMismatch" };
  if (query.has("ss") && !g("ss").includes("f")) return { status: 403, code: "AuthorizationServiceMismatch" };
  if (query.has("ss") && !g("srt").includes(level)) return { status: 403, code: "AuthorizationResourceTypeMismatch" };
  if (![...perms].some((letter) => g("sp").includes(letter))) return { status: 403, code: "AuthorizationPermissionMismatch" };
  return undefined;
}

function send(req: http.IncomingMessage, res: http.ServerResponse, status: number, headers: http.OutgoingHttpHeaders, body?: Buffer, fault?: Fault): void {
  const requestId = randomUUID();
  const base: http.OutgoingHttpHeaders = { "x-ms-request-id": requestId, "x-ms-version": req.headers["x-ms-version"] ?? "2026-04-06", date: new Date().toUTCString(), server: "Windows-Azure-File/1.0 (test double)" };
  if (req.headers["x-ms-client-request-id"]) base["x-ms-client-request-id"] = req.headers["x-ms-client-request-id"];
  if (fault) {
    // The REST error shape: Code, Message with RequestId and Time, then the operation's own details.
    const { code, detail, source } = fault;
    const message = `${MESSAGES[code] ?? code}\nRequestId:${requestId}\nTime:${new Date().toISOString()}`;
    let extra = detail ? (code === "AuthenticationFailed" ? `<AuthenticationErrorDetail>${xml(detail)}</AuthenticationErrorDetail>` : `<ExtendedErrorDetail>${xml(detail)}</ExtendedErrorDetail>`) : "";
    if (source) {
      extra = `<CopySourceStatusCode>${source.status}</CopySourceStatusCode><CopySourceErrorCode>${xml(source.code)}</CopySourceErrorCode><CopySourceErrorMessage>${xml(source.message)}</CopySourceErrorMessage>`;
      Object.assign(base, { "x-ms-copy-source-status-code": source.status, "x-ms-copy-source-error-code": source.code });
    }
    body = req.method === "HEAD" ? undefined : Buffer.from(`<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${xml(message)}</Message>${extra}</Error>`);
    Object.assign(base, { "x-ms-error-code": code, "content-type": "application/xml" });
  }
  const length = headers["content-length"] ?? body?.length ?? 0;
  res.writeHead(status, { ...base, ...headers, "content-length": length });
  res.end(req.method === "HEAD" ? undefined : body);
}

function itemHeaders(item: Item, read: boolean): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {
    etag: item.etag,
    "last-modified": item.lastModified.toUTCString(),
    [read ? "x-ms-server-encrypted" : "x-ms-request-server-encrypted"]: "true",
    "x-ms-file-attributes": item.kind === "file" ? "Archive" : "Directory",
    "x-ms-file-creation-time": item.created.toISOString(),
    "x-ms-file-last-write-time": item.lastModified.toISOString(),
    "x-ms-file-change-time": item.lastModified.toISOString(),
    "x-ms-file-permission-key": "4066528134148476695*1",
    "x-ms-file-id": item.id,
    "x-ms-file-parent-id": "0",
  };
  if (!read) return out;
  for (const [k, v] of Object.entries(item.metadata)) out[`x-ms-meta-${k}`] = v;
  if (item.kind === "file") Object.assign(out, { ...item.props, "content-length": item.content.length });
  const copy = item.copy;
  if (copy) {
    const bytes = copy.status === "success" ? copy.total : copy.status === "pending" ? Math.floor((copy.total * Math.min(1, (Date.now() - copy.startedAt) / Math.max(1, copy.delayMs)))) : 0;
    Object.assign(out, { "x-ms-copy-id": copy.id, "x-ms-copy-source": copy.source, "x-ms-copy-status": copy.status, "x-ms-copy-progress": `${bytes}/${copy.total}` });
    if (copy.completedOn) out["x-ms-copy-completion-time"] = copy.completedOn.toUTCString();
    if (copy.description && copy.status === "failed") out["x-ms-copy-status-description"] = copy.description;
  }
  return out;
}

function listing(account: Account, shareName: string, share: Share, dir: string, prefix: string, etags = false): string {
  const entries = [...share.items].filter(([k]) => k !== dir && (dir === "" ? !k.includes("/") : k.startsWith(dir + "/") && !k.slice(dir.length + 1).includes("/")));
  const body = entries.map(([k, item]) => ({ name: k.slice(k.lastIndexOf("/") + 1), item })).filter((e) => e.name.startsWith(prefix)).sort((a, b) => (a.name < b.name ? -1 : 1))
    .map(({ name, item }) => item.kind === "file"
      ? `<File><Name>${xml(name)}</Name><FileId>${item.id}</FileId><Properties><Content-Length>${item.content.length}</Content-Length>${etags ? `<Etag>${item.etag}</Etag>` : ""}</Properties></File>`
      : `<Directory><Name>${xml(name)}</Name><FileId>${item.id}</FileId><Properties /></Directory>`).join("");
  return `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="/${account.name}/" ShareName="${xml(shareName)}" DirectoryPath="${xml(dir)}"><Prefix>${xml(prefix)}</Prefix><Entries>${body}</Entries><NextMarker /></EnumerationResults>`;
}

function metadataOf(headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase().startsWith("x-ms-meta-")).map(([k, v]) => [k.slice(10).toLowerCase(), String(v)]));
}
/** Query parameters, names lower-cased, as the canonicalized resource wants them. */
function parseQuery(raw: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const pair of raw.split("&")) {
    const eq = pair.indexOf("=");
    if (eq <= 0 || eq === pair.length - 1) continue; // the SDK does not sign empty values either
    const key = decode(pair.slice(0, eq)).toLowerCase();
    out.set(key, [...(out.get(key) ?? []), decode(pair.slice(eq + 1))]);
  }
  return out;
}
function parseRange(value: string): { start: number; end?: number } | undefined {
  const m = /^bytes=(\d+)-(\d*)$/.exec(value.trim());
  if (!m || (m[2] && Number(m[2]) < Number(m[1]))) return undefined;
  return { start: Number(m[1]), end: m[2] ? Number(m[2]) : undefined };
}
function hmac(key: Buffer, text: string): string {
  return createHmac("sha256", key).update(text, "utf8").digest("base64");
}
function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
function xml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The properties a request gives as x-ms-<name> headers; absent ones are unset (content type: the fallback). */
function propsFrom(h: (name: string) => string, contentType?: string): FileProps {
  const props: FileProps = {};
  for (const name of FILE_PROPS) if (h(`x-ms-${name}`)) props[name] = h(`x-ms-${name}`);
  if (!props["content-type"] && contentType) props["content-type"] = contentType;
  return props;
}
