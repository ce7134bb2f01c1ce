/**
 * An Azure AD (Entra ID) rig, to test which identity authorised each storage request, locally:
 * - storage is REAL Azurite, over HTTPS with `--oauth basic` (bearer tokens are refused over HTTP), behind
 *   a recording HTTPS proxy that forwards every request unchanged and notes who signed it (the JWT's appid);
 * - the token service is a SIMULATION (azureAdTokenService.ts): nothing local can play Entra ID. Label
 *   tests that use it "simulated".
 * A throwaway CA (openssl) signs one certificate for 127.0.0.1, localhost and login.microsoftonline.com.
 * The recorder sees Azurite's own requests too: for a cross-account copy Azurite checks the source with a
 * HEAD of its URL, carrying only what the URL carries (a SAS). It ignores x-ms-copy-source-authorization:
 * a bearer-authorised source is refused across accounts (403 CannotVerifyCopySource) and not checked within
 * one account. Real Azure honours that header; never assert Azurite's answer as Azure's.
 *
 * Two ways for a client to reach the token service:
 * - a child process (the provider host) given `env`: NODE_EXTRA_CA_CERTS and HTTPS_PROXY. Credentials
 *   built with NO options (the default authority https://login.microsoftonline.com, whose metadata MSAL
 *   has built in: no instance discovery) reach the fake through the proxy, which tunnels loopback ports
 *   unchanged and refuses everything else. `managedIdentityEnv` adds the App Service managed identity.
 *   The Azure SDKs send http:// URLs to HTTPS_PROXY too, in preference to HTTP_PROXY: with `env`, an
 *   HTTP_PROXY such as byteCountingProxy.ts is bypassed (the rig's proxy passes loopback traffic on, uncounted).
 * - this process (jest): start() adds the CA to this process's default CAs (tls.setDefaultCACertificates;
 *   stop() takes it out), and credentials take `inProcess`: { authorityHost: 127.0.0.1, disableInstanceDiscovery }.
 *   disableInstanceDiscovery is needed there as with any authority outside Microsoft's clouds: MSAL asks
 *   login.microsoftonline.com about the host, and Entra answers invalid_instance (AADSTS50049).
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import tls from "node:tls";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import type { AzuriteAccount } from "./azurite.ts";
import { jwtClaims, PUBLIC_AUTHORITY, startTokenService, type AppRegistration } from "./azureAdTokenService.ts";
import type { ServiceRequest, TokenRequest } from "./azureAdTokenService.ts";
import { killGroup, stopGroup, track } from "./processGroups.ts";
import { freePort } from "./s3server.ts";

export type { AppRegistration, ServiceRequest, TokenRequest } from "./azureAdTokenService.ts";
export interface StorageRequest {
  method: string;
  /** Decoded path, no query: "/devstoreaccount1/container/blob". */
  path: string;
  auth: "bearer" | "sharedKey" | "sas" | "none";
  /** appid (client id) and oid of the bearer token, unverified. */
  clientId?: string;
  objectId?: string;
  /** appid of a bearer x-ms-copy-source-authorization (a copy source read with OAuth). */
  sourceClientId?: string;
  /** What Azurite answered. */
  status: number;
}
export interface AzureAdRig {
  tenantId: string;
  /** "https://login.microsoftonline.com", the default: reached through `env`'s HTTPS_PROXY. */
  authorityHost: string;
  /** https://127.0.0.1:PORT, the same token service, direct. */
  directAuthorityHost: string;
  /** TEST-ONLY credential options for this process (see the header). Never the product's. */
  inProcess: { authorityHost: string; disableInstanceDiscovery: true };
  /** https://127.0.0.1:P/devstoreaccount1, through the recording proxy. */
  blobUrl: string;
  accountName: string;
  accountKey: string;
  /** Both Azurite accounts, with URLs and connection strings through the recording proxy. */
  accounts: { primary: AzuriteAccount; secondary: AzuriteAccount };
  /** Azurite itself (https://127.0.0.1:A), unrecorded. */
  azuriteEndpoint: string;
  /** Leader of Azurite's process group. */
  azuritePid: number;
  /** The rig's temporary folder (certificates, token files), removed at stop. */
  dir: string;
  /** PEM bundle: the rig's CA, then any NODE_EXTRA_CA_CERTS this process inherited. */
  caFile: string;
  /** To lay over a child's env: NODE_EXTRA_CA_CERTS=caFile, HTTPS_PROXY=the rig's CONNECT proxy. */
  env: Record<string, string>;
  /** IDENTITY_ENDPOINT and IDENTITY_HEADER (App Service managed identity), to add to `env` where wanted. */
  managedIdentityEnv: Record<string, string>;
  /** Registers an app (service principal) and/or managed identity the token service accepts. */
  app(clientId: string, registration: AppRegistration): void;
  /** Writes a federated token file (for AZURE_FEDERATED_TOKEN_FILE / tokenFilePath); returns its path. */
  federatedTokenFile(assertion: string): string;
  tokenRequests(): TokenRequest[];
  /** Every request the token service answered, discovery included, and every refused CONNECT. */
  serviceRequests(): ServiceRequest[];
  storageRequests(): StorageRequest[];
  /** A shared-key client through the recording proxy, for this process (arrange, inspect). */
  sharedKeyClient(account?: AzuriteAccount): BlobServiceClient;
  stop(): Promise<void>;
}

const PRIMARY = {
  name: "devstoreaccount1",
  key: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
};
const MAIN = createRequire(path.join(process.cwd(), "package.json")).resolve("azurite/dist/src/blob/main.js");

export async function startAzureAdRig(): Promise<AzureAdRig> {
  const dir = fs.mkdtempSync(path.join(tmpdir(), "azure-ad-rig-"));
  const cleanups: Array<() => unknown> = [() => fs.rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const pem = makeCertificates(dir);
    const caFile = path.join(dir, "ca-bundle.pem");
    const inherited = process.env.NODE_EXTRA_CA_CERTS;
    fs.writeFileSync(caFile, pem.ca + (inherited && fs.existsSync(inherited) ? `\n${fs.readFileSync(inherited, "utf8")}` : ""));
    trustInThisProcess(pem.ca, true);
    cleanups.push(() => trustInThisProcess(pem.ca, false));

    const tenantId = randomUUID();
    const tokens = await startTokenService(tenantId, { cert: pem.cert, key: pem.key });
    cleanups.push(() => tokens.close());

    const secondary = { name: "account2", key: randomBytes(64).toString("base64") };
    const azurite = await startHttpsAzurite(dir, caFile, [PRIMARY, secondary]);
    cleanups.push(() => azurite.stop());
    const recorder = await startRecorder(azurite.endpoint, pem);
    cleanups.push(() => recorder.close());

    const accounts = [PRIMARY, secondary].map((a): AzuriteAccount => ({
      ...a,
      url: `${recorder.endpoint}/${a.name}`,
      connectionString:
        `DefaultEndpointsProtocol=https;AccountName=${a.name};AccountKey=${a.key};BlobEndpoint=${recorder.endpoint}/${a.name};`,
    }));
    let files = 0;
    return {
      tenantId,
      authorityHost: `https://${PUBLIC_AUTHORITY}`,
      directAuthorityHost: tokens.directAuthorityHost,
      inProcess: { authorityHost: tokens.directAuthorityHost, disableInstanceDiscovery: true },
      blobUrl: accounts[0].url,
      accountName: PRIMARY.name,
      accountKey: PRIMARY.key,
      accounts: { primary: accounts[0], secondary: accounts[1] },
      azuriteEndpoint: azurite.endpoint,
      azuritePid: azurite.pid,
      dir,
      caFile,
      env: { NODE_EXTRA_CA_CERTS: caFile, HTTPS_PROXY: tokens.proxyUrl },
      managedIdentityEnv: { IDENTITY_ENDPOINT: tokens.msiEndpoint, IDENTITY_HEADER: tokens.msiHeader },
      app: tokens.app,
      federatedTokenFile(assertion) {
        const file = path.join(dir, `federated-token-${++files}`);
        fs.writeFileSync(file, assertion, { mode: 0o600 });
        return file;
      },
      tokenRequests: tokens.tokenRequests,
      serviceRequests: tokens.serviceRequests,
      storageRequests: () => recorder.requests.map((r) => ({ ...r })),
      sharedKeyClient: (account = accounts[0]) =>
        new BlobServiceClient(account.url, new StorageSharedKeyCredential(account.name, account.key)),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A CA and a server certificate (P-256, 2 days) for 127.0.0.1, localhost and login.microsoftonline.com. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  try {
    openssl("req", "-x509", ...ec, "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "2",
      "-subj", "/CN=pulumi-copied-object test CA (azureAdRig)",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    openssl("req", ...ec, "-keyout", file("key.pem"), "-out", file("server.csr"), "-subj", "/CN=127.0.0.1");
    fs.writeFileSync(file("server.ext"), [
      `subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:${PUBLIC_AUTHORITY}`,
      "basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature", "extendedKeyUsage=serverAuth", "",
    ].join("\n"));
    openssl("x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"),
      "-set_serial", `0x${randomBytes(8).toString("hex")}`, "-days", "2", "-extfile", file("server.ext"), "-out", file("cert.pem"));
  } catch (err) {
    const detail = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
    throw new Error(`azureAdRig needs openssl to make its certificates (apt-get install openssl):\n${detail}`);
  }
  const read = (name: string) => fs.readFileSync(file(name), "utf8");
  return { ca: read("ca.pem"), cert: read("cert.pem"), key: read("key.pem") };
}

/** The rigs' CAs added to this process's default CAs (NODE_EXTRA_CA_CERTS is read only at start). */
const trusted = new Set<string>();
let baseline: string[] | undefined;
function trustInThisProcess(pem: string, trust: boolean): void {
  baseline ??= tls.getCACertificates("default");
  if (trust) trusted.add(pem);
  else trusted.delete(pem);
  tls.setDefaultCACertificates([...baseline, ...trusted]);
  if (trusted.size === 0) baseline = undefined;
}

/** Azurite over HTTPS with `--oauth basic`, in its own process group (see azurite.ts). */
async function startHttpsAzurite(dir: string, caFile: string, accounts: Array<{ name: string; key: string }>) {
  const failures: string[] = [];
  // A port freed by freePort() can be taken before Azurite binds it: retry on a fresh one.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const endpoint = `https://127.0.0.1:${port}`;
    const args = ["--blobHost", "127.0.0.1", "--blobPort", String(port), "--inMemoryPersistence", "--skipApiVersionCheck",
      "--disableTelemetry", "--loose", "--oauth", "basic", "--cert", path.join(dir, "cert.pem"), "--key", path.join(dir, "key.pem")];
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: dir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      // The CA: Azurite checks a cross-account copy's access with its own HEAD of the source URL (the recorder).
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile, AZURITE_ACCOUNTS: accounts.map((a) => `${a.name}:${a.key}`).join(";") },
    });
    const outcome = await untilListening(child, endpoint);
    if (outcome === "ready") {
      track(child);
      child.unref();
      for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref(): void }).unref();
      return { endpoint, pid: child.pid!, stop: () => stopGroup(child) };
    }
    failures.push(outcome);
    if (!/EADDRINUSE|address already in use/i.test(outcome)) break;
  }
  throw new Error(`Azurite (HTTPS, OAuth) did not start:\n${failures.join("\n---\n")}`);
}

async function untilListening(child: ChildProcess, endpoint: string): Promise<"ready" | string> {
  let output = "";
  let ready = false;
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding("utf8").on("data", (chunk: string) => {
      output = (output + chunk).slice(-4000);
      ready ||= output.includes(`successfully listens on ${endpoint}`);
    });
  }
  const exited = new Promise<string>((resolve) => {
    child.on("error", (err) => resolve(String(err)));
    child.on("close", (code, signal) => resolve(`Azurite exited (${signal ?? code})`));
  });
  const deadline = Date.now() + 20_000;
  while (!ready) {
    const outcome = await Promise.race([exited, sleep(100)]);
    if (typeof outcome === "string") return `${outcome}\n${output}`.trim();
    if (Date.now() > deadline) {
      killGroup(child, "SIGKILL");
      return `Azurite did not listen on ${endpoint} within 20 s\n${output}`.trim();
    }
  }
  return "ready";
}

/** An HTTPS reverse proxy in front of Azurite: forwards each request unchanged (Host too) and notes its signer. */
async function startRecorder(upstream: string, pem: { ca: string; cert: string; key: string }) {
  const requests: StorageRequest[] = [];
  const agent = new https.Agent({ ca: pem.ca, keepAlive: true });
  const target = new URL(upstream);
  const server = https.createServer({ cert: pem.cert, key: pem.key }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://recorder");
    const authorization = req.headers.authorization ?? "";
    const bearer = /^Bearer\s+(\S+)/i.exec(authorization)?.[1];
    const claims = bearer ? jwtClaims(bearer) : undefined;
    const source = /^Bearer\s+(\S+)/i.exec(String(req.headers["x-ms-copy-source-authorization"] ?? ""))?.[1];
    const entry: StorageRequest = {
      method: req.method ?? "",
      path: decodeURIComponent(url.pathname),
      auth: bearer ? "bearer" : /^SharedKey/i.test(authorization) ? "sharedKey" : url.searchParams.has("sig") ? "sas" : "none",
      ...(claims ? { clientId: String(claims.appid ?? ""), objectId: String(claims.oid ?? "") } : {}),
      ...(source ? { sourceClientId: String(jwtClaims(source)?.appid ?? "") } : {}),
      status: 0,
    };
    requests.push(entry);
    const forward = https.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        entry.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    forward.on("error", (err) => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`recording proxy: ${err.message}`);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      agent.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
