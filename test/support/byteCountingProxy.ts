/**
 * TEST DOUBLE, a measuring instrument: an HTTP proxy that counts the bytes crossing it, split by who
 * opened the connection. It works two ways at once:
 * - as a reverse proxy: a request with a relative target ("/bucket/key") goes to `upstream`
 *   (moto), for a client pointed at the proxy's endpoint (the S3 SDK, which ignores HTTP_PROXY);
 * - as a forward proxy: a request with an absolute target ("http://127.0.0.1:P/acct/c/b") goes to
 *   that host, if listed in `forwardTo`, for a client given HTTP_PROXY (the Azure SDKs honour it).
 *   URLs then stay the servers' own, so a copy source naming the server is still "the same
 *   instance" to Azurite and to the Files test server.
 * Who opened a connection is read from the kernel when it opens: the client's socket inode from
 * /proc/net/tcp, then whether a `clientPids` process holds that inode (/proc/<pid>/fd). Headers
 * can lie (any process may send the SDK's user agent), sockets cannot, so a service's own read of a
 * source that happens to cross the proxy (a presigned URL naming it) is never the client's.
 * Bytes: `rawIn`/`rawOut` are the socket's own byteRead/bytesWritten (heads, bodies, chunk framing
 * as sent); `requestBody`/`responseBody` are decoded body bytes. A body counts as `payload` when
 * it is not valid UTF-8: the benchmarks' objects are random bytes (invalid UTF-8 within a few
 * bytes), while every S3 and Azure protocol body (XML, JSON, error) is text. Linux only (/proc).
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ByteTotals {
  connections: number;
  requests: number;
  /** Bytes read from the clients' sockets: request heads, bodies and framing, as sent. */
  rawIn: number;
  /** Bytes written to the clients' sockets: response heads, bodies and framing. */
  rawOut: number;
  requestBody: number;
  responseBody: number;
  /** Body bytes that are object content (see the file's header), in either direction. */
  payloadIn: number;
  payloadOut: number;
}

export interface ProxiedRequest {
  /** "client": a `clientPids` process opened the connection; "other": anyone else (e.g. a service's read). */
  who: "client" | "other";
  method: string;
  /** Host and path, without the query (which may carry a signature). */
  target: string;
  status: number;
  requestBody: number;
  responseBody: number;
  payload: boolean;
}

export interface ByteCountingProxy {
  /** `http://127.0.0.1:P`: an S3 endpoint, or an HTTP_PROXY value. */
  endpoint: string;
  requests: ProxiedRequest[];
  /** Running totals since start, per kind of connection. */
  totals(): { client: ByteTotals; other: ByteTotals };
  /** Starts a measurement; `end()` returns what crossed since, per kind. Measure one thing at a time. */
  measure(): { end(): { client: ByteTotals; other: ByteTotals } };
  close(): Promise<void>;
}

export interface ByteCountingOptions {
  /** Where relative targets go, e.g. moto's `http://127.0.0.1:P`. */
  upstream?: string;
  /** `host:port` values absolute targets may go to; anything else is refused with 403. */
  forwardTo?: () => string[];
  /** Processes whose connections are the client's (e.g. the provider host's pid). */
  clientPids: () => number[];
}

const zero = (): ByteTotals => ({ connections: 0, requests: 0, rawIn: 0, rawOut: 0, requestBody: 0, responseBody: 0, payloadIn: 0, payloadOut: 0 });
// Hop-by-hop headers meant for the proxy itself, not the server.
const PROXY_HEADERS = new Set(["proxy-connection", "proxy-authorization"]);

export async function startByteCountingProxy(options: ByteCountingOptions): Promise<ByteCountingProxy> {
  const upstream = options.upstream ? new URL(options.upstream) : undefined;
  const requests: ProxiedRequest[] = [];
  // Bytes of closed sockets, plus the live ones read when asked.
  const closed = { client: zero(), other: zero() };
  const counted = { client: zero(), other: zero() };
  const live = new Map<Socket, "client" | "other">();
  // A fresh upstream connection per request: only the client side is measured, and no idle
  // socket to a server may keep the process alive.
  const agent = new http.Agent({ keepAlive: false });
  let port = 0;

  const server = http.createServer((req, res) => {
    const who = live.get(req.socket) ?? "other";
    const tally = counted[who];
    tally.requests++;
    const raw = req.url ?? "/";
    const absolute = /^https?:\/\//i.test(raw);
    const target = absolute ? new URL(raw) : upstream ? new URL(raw, upstream) : undefined;
    const entry: ProxiedRequest = { who, method: req.method ?? "", target: target ? `${target.host}${target.pathname}` : raw, status: 0, requestBody: 0, responseBody: 0, payload: false };
    requests.push(entry);
    const refuse = (status: number, why: string) => {
      req.resume();
      entry.status = status;
      res.writeHead(status, { "content-type": "text/plain", "content-length": Buffer.byteLength(why) }).end(why);
    };
    if (!target) return refuse(502, "byteCountingProxy: a relative target, and no upstream");
    if (absolute && !(options.forwardTo?.() ?? []).includes(target.host)) return refuse(403, `byteCountingProxy: ${target.host} is not a server of this test`);

    const sent = bodyMeter();
    req.on("data", (chunk: Buffer) => sent.add(chunk));
    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!PROXY_HEADERS.has(req.rawHeaders[i].toLowerCase())) headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
    }
    // The Host header travels unchanged: S3 and Azure signatures cover it.
    const forward = http.request({ host: target.hostname, port: target.port, method: req.method, path: `${target.pathname}${target.search}`, headers, agent }, (answer) => {
      const received = bodyMeter();
      answer.on("data", (chunk: Buffer) => received.add(chunk));
      answer.on("end", () => {
        const [sentBytes, sentPayload] = sent.done();
        const [receivedBytes, receivedPayload] = received.done();
        Object.assign(entry, { requestBody: sentBytes, responseBody: receivedBytes, payload: sentPayload || receivedPayload });
        tally.requestBody += sentBytes;
        tally.responseBody += receivedBytes;
        if (sentPayload) tally.payloadIn += sentBytes;
        if (receivedPayload) tally.payloadOut += receivedBytes;
      });
      entry.status = answer.statusCode ?? 502;
      res.sendDate = false; // the server's own Date header is relayed; add none of ours
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
      answer.pipe(res);
    });
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });

  server.on("connection", (socket: Socket) => {
    const who = ownedBy(socket.remotePort ?? 0, port, options.clientPids()) ? "client" : "other";
    live.set(socket, who);
    counted[who].connections++;
    socket.on("close", () => {
      closed[who].rawIn += socket.bytesRead;
      closed[who].rawOut += socket.bytesWritten;
      live.delete(socket);
    });
  });

  const totals = () => {
    const out = { client: { ...counted.client }, other: { ...counted.other } };
    for (const who of ["client", "other"] as const) {
      out[who].rawIn = closed[who].rawIn;
      out[who].rawOut = closed[who].rawOut;
    }
    for (const [socket, who] of live) {
      out[who].rawIn += socket.bytesRead;
      out[who].rawOut += socket.bytesWritten;
    }
    return out;
  };

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    totals,
    measure() {
      const start = totals();
      return { end: () => diff(totals(), start) };
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      agent.destroy();
      server.close(() => resolve());
    }),
  };
}

function diff(a: { client: ByteTotals; other: ByteTotals }, b: { client: ByteTotals; other: ByteTotals }) {
  const one = (x: ByteTotals, y: ByteTotals) => Object.fromEntries(Object.keys(x).map((k) => [k, x[k as keyof ByteTotals] - y[k as keyof ByteTotals]])) as unknown as ByteTotals;
  return { client: one(a.client, b.client), other: one(a.other, b.other) };
}

/** Counts a body's bytes and tells whether it is text (protocol) or not (payload). */
function bodyMeter() {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let bytes = 0;
  let binary = false;
  return {
    add(chunk: Buffer) {
      bytes += chunk.length;
      if (binary) return;
      try {
        decoder.decode(chunk, { stream: true });
      } catch {
        binary = true;
      }
    },
    done(): [number, boolean] {
      if (!binary) {
        try {
          decoder.decode();
        } catch {
          binary = true;
        }
      }
      return [bytes, binary];
    },
  };
}

/**
 * Whether the connection from 127.0.0.1:`clientPort` to our `proxyPort` belongs to one of `pids`:
 * the client's end of it is a line of /proc/net/tcp whose inode one of them holds as an fd.
 */
function ownedBy(clientPort: number, proxyPort: number, pids: number[]): boolean {
  if (!pids.length || !clientPort) return false;
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, "0");
  let inode: string | undefined;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const lines = fs.readFileSync(table, "utf8").split("\n").slice(1);
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1].endsWith(`:${hex(clientPort)}`) && f[2].endsWith(`:${hex(proxyPort)}`)) inode = f[9];
    }
    if (inode) break;
  }
  if (!inode || inode === "0") return false;
  const link = `socket:[${inode}]`;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone
    }
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return true;
      } catch {
        // closed meanwhile
      }
    }
  }
  return false;
}
