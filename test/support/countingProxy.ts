/**
 * A pass-through HTTP proxy that counts the requests it forwards (to assert that bad input
 * is refused before anything reaches a server), can hold chosen requests back (to make a
 * copy outlast a deadline or a signal on any server, however fast), and can answer chosen
 * requests itself with a fault, which the server then never sees. A test double: label it.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface CountingProxy {
  endpoint: string;
  requests: Array<{ method: string; url: string }>;
  /** Each forwarded or faulted request with its headers (to see which key signed it). */
  seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }>;
  faults: Array<{ method: string; url: string; fault: Fault }>;
  close(): Promise<void>;
}

/**
 * A fault answered instead of the server: an error, a dropped connection, or 200 OK with an error
 * body; or `lostAnswer`: the request reaches the server, and its answer is dropped on the way back.
 */
export type Fault = { status: number; code: string } | { reset: true } | { okWithError: string } | { lostAnswer: true };

export interface ProxyOptions {
  /** Milliseconds to hold a request before forwarding it; 0 forwards at once. */
  delayMs?(req: http.IncomingMessage): number;
  /** A fault to answer with instead of forwarding; undefined forwards. */
  fault?(req: http.IncomingMessage): Fault | undefined;
  /** How a fault's error reads: S3's XML body, or Azure Storage's (x-ms-error-code header too). @default "s3" */
  errorStyle?: "s3" | "azure";
  /**
   * Changes the server's answer to a request before it is returned, as a corrupted copy or a lying server would
   * look (headers, and the body: returned whole); undefined returns it as it came.
   */
  tamper?(req: http.IncomingMessage, answer: Answer): Answer | undefined;
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export async function startCountingProxy(target: string, options: ProxyOptions = {}): Promise<CountingProxy> {
  const upstream = new URL(target);
  const requests: CountingProxy["requests"] = [];
  const faults: CountingProxy["faults"] = [];
  const seen: CountingProxy["seen"] = [];
  // A fresh upstream connection per request: a reused idle socket can be closed under us by
  // a server that drops keep-alives (moto), or hold the test process open on one that keeps
  // them for a minute (Ceph RGW).
  const agent = new http.Agent({ keepAlive: false });
  const server = http.createServer(async (req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "" });
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    const delay = options.delayMs?.(req) ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const fault = options.fault?.(req);
    if (fault) faults.push({ method: req.method ?? "", url: req.url ?? "", fault });
    if (fault && !("lostAnswer" in fault)) {
      req.resume();
      await new Promise((resolve) => req.on("end", resolve));
      if ("reset" in fault) return void res.destroy();
      const code = "okWithError" in fault ? fault.okWithError : fault.code;
      const status = "okWithError" in fault ? 200 : fault.status;
      const azure = options.errorStyle === "azure";
      // Azure: https://learn.microsoft.com/rest/api/storageservices/status-and-error-codes2 (no body for HEAD).
      const body = azure
        ? `\ufeff<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>injected by the test proxy\nRequestId:fault\nTime:${new Date().toISOString()}</Message></Error>`
        : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the test proxy</Message><RequestId>fault</RequestId></Error>`;
      const headers = azure ? { "x-ms-error-code": code, "x-ms-request-id": "fault", "x-ms-version": "2025-01-05" } : {};
      const payload = req.method === "HEAD" ? "" : body;
      res.writeHead(status, { ...headers, "content-type": "application/xml", "content-length": Buffer.byteLength(payload) });
      return void res.end(payload);
    }
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        if (fault) return void (answer.resume(), res.destroy());
        if (!options.tamper) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          return void answer.pipe(res);
        }
        const chunks: Buffer[] = [];
        answer.on("data", (c: Buffer) => chunks.push(c));
        answer.on("end", () => {
          const original = { status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) };
          const out = options.tamper!(req, original) ?? original;
          const headers = { ...out.headers };
          // A HEAD answer has no body, and keeps the length it declares (which a tamper may change).
          if (req.method !== "HEAD" && out.body !== original.body) {
            headers["content-length"] = String(out.body.length);
            delete headers["transfer-encoding"];
          }
          res.writeHead(out.status, headers);
          res.end(req.method === "HEAD" ? undefined : out.body);
        });
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    seen,
    faults,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      agent.destroy();
      server.close(() => resolve());
    }),
  };
}
