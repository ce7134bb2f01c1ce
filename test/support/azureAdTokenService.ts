/**
 * TEST DOUBLE, a SIMULATION of Microsoft Entra ID (Azure AD) for @azure/identity, because no local
 * server can play it. It serves exactly what @azure/identity 4.x / @azure/msal-node 5.x request:
 * - POST /{tenant}/oauth2/v2.0/token, grant_type=client_credentials, authenticated by client_secret
 *   (ClientSecretCredential) or client_assertion (ClientAssertionCredential, WorkloadIdentityCredential);
 * - GET /{tenant}/v2.0/.well-known/openid-configuration (MSAL fetches it for hosts it does not know);
 * - GET /common/discovery/instance (MSAL's instance discovery, always sent to login.microsoftonline.com):
 *   like the real service, it answers 400 invalid_instance (AADSTS50049) for a host outside Microsoft's
 *   clouds, so an authority on 127.0.0.1 needs `disableInstanceDiscovery`;
 * - GET /msi/token, the App Service managed identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER).
 * Errors are shaped like Entra's (status, `error`, `AADSTS…` description, `error_codes`), quoted from
 * real answers in public reports: 401 invalid_client AADSTS7000215 for a wrong secret, 400
 * invalid_request AADSTS70021 for an assertion no federated credential matches, 400
 * unauthorized_client AADSTS700016 for an unknown app, 400 invalid_tenant AADSTS90002.
 *
 * It serves both as https://127.0.0.1:PORT (the "direct" host) and as https://login.microsoftonline.com,
 * reached through `proxyUrl`, a proxy for HTTPS_PROXY: it hands CONNECTs to that host to this server (its
 * certificate also names it), passes CONNECTs and plain http:// requests to 127.0.0.1/localhost ports on
 * unchanged, and refuses and logs everything else. The same plain-HTTP port serves /msi/token.
 *
 * Access tokens are UNSIGNED JWTs (alg "none"), v1 app tokens as Entra mints them for Storage:
 * iss https://sts.windows.net/{tenant}/, aud = the scope without "/.default", appid = client id,
 * oid = the app's object id, iat = nbf = now - 5 min, exp = now + 1 h. Azurite `--oauth basic` checks
 * no signature. Secrets and assertions live only in memory, to be compared; the log never holds them.
 */
import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import https from "node:https";
import net, { type AddressInfo, type Socket } from "node:net";

export interface AppRegistration {
  /** A client secret the token endpoint accepts. */
  secret?: string;
  /** A client assertion (federated token) the token endpoint accepts, compared verbatim. */
  assertion?: string;
  /** Also a managed identity at /msi/token: the system-assigned one (one per rig), or user-assigned. */
  managedIdentity?: "system" | "user";
  /** Object id (oid, sub, principal_id); random by default. */
  objectId?: string;
}
export interface TokenRequest {
  clientId: string;
  /** grant_type as sent; "managed_identity" for /msi/token. */
  grant: string;
  credential: "secret" | "assertion" | "managedIdentity" | "none";
  tenant: string;
  /** The scope (or MI resource) asked for. */
  scope: string;
  /** Host the request reached: "login.microsoftonline.com" through the proxy, or 127.0.0.1:PORT. */
  host: string;
  ok: boolean;
  /** The AADSTS code (or MI message) of a refusal. */
  error?: string;
}
export interface ServiceRequest { host: string; method: string; path: string; status: number }

export const PUBLIC_AUTHORITY = "login.microsoftonline.com";
const FED_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const KNOWN_HOSTS = ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"];

export interface TokenService {
  /** https://127.0.0.1:PORT */
  directAuthorityHost: string;
  /** http://127.0.0.1:PORT: the CONNECT proxy for HTTPS_PROXY, and /msi/token. */
  proxyUrl: string;
  /** http://127.0.0.1:PORT/msi/token, for IDENTITY_ENDPOINT. */
  msiEndpoint: string;
  /** The value IDENTITY_HEADER must carry. */
  msiHeader: string;
  app(clientId: string, registration: AppRegistration): void;
  tokenRequests(): TokenRequest[];
  /** Every request the token service answered (discovery too), and every CONNECT (403: refused). */
  serviceRequests(): ServiceRequest[];
  close(): Promise<void>;
}

/** An unsigned JWT (`alg: none`): Azurite's basic OAuth reads claims and checks no signature. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ typ: "JWT", alg: "none" })}.${part(claims)}.`;
}
/** The claims of a JWT, unverified; undefined when it is not one. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
    return claims && typeof claims === "object" ? claims : undefined;
  } catch {
    return undefined;
  }
}

export async function startTokenService(tenantId: string, tls: { cert: string; key: string }): Promise<TokenService> {
  const apps = new Map<string, Required<Pick<AppRegistration, "objectId">> & AppRegistration>();
  const tokens: TokenRequest[] = [];
  const served: ServiceRequest[] = [];
  const msiHeader = randomBytes(16).toString("hex");
  const sockets = new Set<Socket>();
  let plainPort = 0;

  const mint = (clientId: string, resource: string, acr: string) => {
    const now = Math.floor(Date.now() / 1000);
    const oid = apps.get(clientId)!.objectId;
    return unsignedJwt({
      aud: resource, iss: `https://sts.windows.net/${tenantId}/`, iat: now - 300, nbf: now - 300, exp: now + 3600,
      appid: clientId, appidacr: acr, idp: `https://sts.windows.net/${tenantId}/`, idtyp: "app", oid, sub: oid,
      tid: tenantId, uti: randomBytes(16).toString("base64url"), ver: "1.0", xms_rig: "simulated by azureAdTokenService.ts",
    });
  };
  const aadError = (status: number, error: string, code: number, message: string) => {
    const traceId = randomUUID();
    const timestamp = new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
    const description = `AADSTS${code}: ${message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${timestamp}`;
    return { status, body: { error, error_description: description, error_codes: [code], timestamp, trace_id: traceId,
      error_uri: `https://${PUBLIC_AUTHORITY}/error?code=${code}` } };
  };
  type Answer = { status: number; body: object };

  function token(tenant: string, host: string, form: URLSearchParams): Answer {
    const clientId = form.get("client_id") ?? "";
    const scope = form.get("scope") ?? "";
    const credential = form.has("client_assertion") ? "assertion" : form.has("client_secret") ? "secret" : "none";
    const entry: TokenRequest = { clientId, grant: form.get("grant_type") ?? "", credential, tenant, scope, host, ok: false };
    tokens.push(entry);
    const refuse = (answer: Answer & { body: { error_codes?: number[] } }) => {
      entry.error = `AADSTS${answer.body.error_codes?.[0]}`;
      return answer;
    };
    if (tenant !== tenantId) return refuse(aadError(400, "invalid_tenant", 90002, `Tenant '${tenant}' not found.`));
    const app = apps.get(clientId);
    if (!app) {
      const message = `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`;
      return refuse(aadError(400, "unauthorized_client", 700016, message));
    }
    if (entry.grant !== "client_credentials") {
      return refuse(aadError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."));
    }
    if (credential === "secret" && form.get("client_secret") !== app.secret) {
      const message = "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
        + `not the client secret ID, for a secret added to app '${clientId}'.`;
      return refuse(aadError(401, "invalid_client", 7000215, message));
    }
    if (credential === "assertion" && (form.get("client_assertion_type") !== FED_TYPE || form.get("client_assertion") !== app.assertion)) {
      return refuse(aadError(400, "invalid_request", 70021, "No matching federated identity record found for presented assertion."));
    }
    if (credential === "none") {
      const message = "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.";
      return refuse(aadError(401, "invalid_client", 7000218, message));
    }
    if (!scope.endsWith("/.default")) {
      return refuse(aadError(400, "invalid_scope", 1002012, `The provided value for scope ${scope} is not valid.`));
    }
    entry.ok = true;
    const resource = scope.slice(0, -"/.default".length);
    const accessToken = mint(clientId, resource, credential === "secret" ? "1" : "2");
    return { status: 200, body: { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: accessToken } };
  }

  function managedIdentity(url: URL, headers: http.IncomingHttpHeaders, host: string): Answer {
    const resource = url.searchParams.get("resource") ?? "";
    const asked = url.searchParams.get("client_id") ?? url.searchParams.get("principal_id");
    const found = [...apps.entries()].find(([id, app]) => asked
      ? app.managedIdentity === "user" && (id === asked || app.objectId === asked)
      : app.managedIdentity === "system");
    const entry: TokenRequest = { clientId: found?.[0] ?? asked ?? "", grant: "managed_identity", credential: "managedIdentity",
      tenant: tenantId, scope: resource, host, ok: false };
    tokens.push(entry);
    const correlationId = randomUUID();
    if (headers["x-identity-header"] !== msiHeader) {
      entry.error = "missing or wrong X-IDENTITY-HEADER";
      return { status: 401, body: { statusCode: 401, message: "Unauthorized: X-IDENTITY-HEADER is missing or invalid.", correlationId } };
    }
    if (!found || !resource) {
      entry.error = found ? "no resource" : "no such identity";
      const message = found ? "Required query parameter resource is missing."
        : "No Managed Identity found for specified ClientId/ResourceId/PrincipalId.";
      return { status: 400, body: { statusCode: 400, message, correlationId } };
    }
    entry.ok = true;
    const expiresOn = Math.floor(Date.now() / 1000) + 3600;
    return { status: 200, body: { access_token: mint(found[0], resource.replace(/\/\.default$/, ""), "2"),
      expires_on: String(expiresOn), resource, token_type: "Bearer", client_id: found[0] } };
  }

  function discovery(host: string, url: URL): Answer {
    const parts = url.pathname.split("/").filter(Boolean);
    if (url.pathname === "/common/discovery/instance") {
      const endpoint = new URL(url.searchParams.get("authorization_endpoint") ?? "https://invalid/");
      if (!KNOWN_HOSTS.includes(endpoint.host)) return aadError(400, "invalid_instance", 50049, "Unknown or invalid instance.");
      const metadata = [{ preferred_network: PUBLIC_AUTHORITY, preferred_cache: "login.windows.net", aliases: KNOWN_HOSTS }];
      const tenantDiscovery = `https://${endpoint.host}/${parts[0]}/v2.0/.well-known/openid-configuration`;
      return { status: 200, body: { tenant_discovery_endpoint: tenantDiscovery, "api-version": "1.1", metadata } };
    }
    if (parts.length === 4 && url.pathname.endsWith("/v2.0/.well-known/openid-configuration")) {
      const tenant = parts[0];
      if (tenant !== tenantId) return aadError(400, "invalid_tenant", 90002, `Tenant '${tenant}' not found.`);
      const base = `https://${host}/${tenant}`;
      return { status: 200, body: { token_endpoint: `${base}/oauth2/v2.0/token`, jwks_uri: `${base}/discovery/v2.0/keys`,
        issuer: `${base}/v2.0`, authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"] } };
    }
    return { status: 404, body: { error: "not_found", error_description: `simulated token service has no ${url.pathname}` } };
  }

  const reply = (res: http.ServerResponse, answer: Answer) => {
    res.writeHead(answer.status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store, no-cache" });
    res.end(JSON.stringify(answer.body));
  };
  const handle = (req: http.IncomingMessage, res: http.ServerResponse, host: string) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", `https://${host}`);
      const tokenPath = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
      const answer = url.pathname === "/msi/token" && req.method === "GET" ? managedIdentity(url, req.headers, host)
        : tokenPath && req.method === "POST" ? token(tokenPath[1], host, new URLSearchParams(Buffer.concat(chunks).toString("utf8")))
        : req.method === "GET" ? discovery(host, url)
        : { status: 405, body: { error: "invalid_request", error_description: `${req.method} is not served` } };
      served.push({ host, method: req.method ?? "", path: url.pathname, status: answer.status });
      reply(res, answer);
    });
  };

  const tlsServer = https.createServer(tls, (req, res) => handle(req, res, req.headers.host ?? ""));
  // core-rest-pipeline sends http:// URLs to HTTPS_PROXY too (one proxy for all): forward those to loopback.
  const plain = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    const loopback = ["127.0.0.1", "localhost"].includes(url.hostname);
    if (loopback && Number(url.port) === plainPort && url.pathname === "/msi/token") return handle(req, res, url.host);
    if (!loopback || Number(url.port) === plainPort) {
      served.push({ host: url.host, method: req.method ?? "", path: url.pathname, status: loopback ? 404 : 403 });
      return reply(res, loopback ? { status: 404, body: { error: "not_found" } } : { status: 403, body: { error: "no network here" } });
    }
    const forward = http.request({ host: "127.0.0.1", port: url.port, method: req.method, path: url.pathname + url.search,
      headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.pipe(res);
    });
    forward.on("error", (err) => (res.headersSent ? res.destroy() : reply(res, { status: 502, body: { error: err.message } })));
    req.pipe(forward);
  });
  plain.on("connect", (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const target = req.url ?? "";
    const loopback = /^(127\.0\.0\.1|localhost):(\d+)$/.exec(target);
    socket.on("error", () => undefined); // a client that hangs up mid-tunnel is not our failure
    if (target !== `${PUBLIC_AUTHORITY}:443` && !loopback) {
      // No network beyond localhost: a CONNECT anywhere else is a bug worth seeing.
      served.push({ host: target, method: "CONNECT", path: "", status: 403 });
      socket.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    served.push({ host: target, method: "CONNECT", path: "", status: 200 });
    if (!loopback) {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) socket.unshift(head);
      tlsServer.emit("connection", socket);
      return;
    }
    // Local servers (Azurite, other test servers) are tunnelled as they are, so no NO_PROXY is needed.
    let open = false;
    const upstream = net.connect(Number(loopback[2]), "127.0.0.1", () => {
      open = true;
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => (open ? socket.destroy() : socket.end("HTTP/1.1 502 Bad Gateway\r\n\r\n")));
    socket.on("close", () => upstream.destroy());
  });
  for (const server of [tlsServer, plain]) {
    server.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
  }
  const listen = (server: http.Server) => new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
  const tlsPort = await listen(tlsServer);
  plainPort = await listen(plain);
  return {
    directAuthorityHost: `https://127.0.0.1:${tlsPort}`,
    proxyUrl: `http://127.0.0.1:${plainPort}`,
    msiEndpoint: `http://127.0.0.1:${plainPort}/msi/token`,
    msiHeader,
    app(clientId, registration) {
      if (registration.managedIdentity === "system" && [...apps].some(([id, a]) => id !== clientId && a.managedIdentity === "system")) {
        throw new Error("only one system-assigned managed identity per rig");
      }
      apps.set(clientId, { ...registration, objectId: registration.objectId ?? randomUUID() });
    },
    tokenRequests: () => tokens.map((t) => ({ ...t })),
    serviceRequests: () => served.map((s) => ({ ...s })),
    close: async () => {
      sockets.forEach((socket) => socket.destroy());
      await Promise.all([tlsServer, plain].map((server) => new Promise((resolve) => server.close(resolve))));
    },
  };
}
