/**
 * Which Azure storage account, endpoint and credential one side of a copy uses. Pure: the stores
 * build SDK clients from its answer, and identity.ts names objects by it, so the two cannot disagree
 * about where a request goes. Blob and Files follow the same rules, each with its own endpoint.
 */
import type { AzureCredentials } from "./locators";

export type AzureService = "blob" | "file";

/** How requests to the account are authorised. */
export type AzureAuth =
  | { kind: "connectionString"; connectionString: string }
  | { kind: "key"; key: string }
  | { kind: "sas"; sas: string }
  | { kind: "identity" };

export interface AzureAccount {
  /** The service endpoint in canonical form, e.g. `https://acct.blob.core.windows.net` or `http://127.0.0.1:10000/devstoreaccount1`. */
  url: string;
  accountName: string;
  auth: AzureAuth;
}

/** Where an account is named: an azureBlob or azureFile locator's own fields. */
export interface AccountFields {
  accountUrl?: string;
  account?: string;
}

/** The public cloud's suffix; `account` names resolve under it. */
export const DEFAULT_ENDPOINT_SUFFIX = "core.windows.net";

/**
 * Credentials in the documented order: the locator's own, then `AZURE_STORAGE_CONNECTION_STRING` (when it
 * names this account, or no account is named), then `AZURE_STORAGE_ACCOUNT` with `AZURE_STORAGE_KEY`
 * (for that account), then an Azure AD identity. Undefined when no account can be found at all.
 */
export function resolveAzureAccount(
  fields: AccountFields,
  credentials: AzureCredentials | undefined,
  env: Readonly<Record<string, string | undefined>>,
  service: AzureService,
): AzureAccount | undefined {
  const given = credentials as Partial<Record<"accountKey" | "sasToken" | "connectionString", string>> | undefined;
  const named = namedUrl(fields, service);
  const wanted = fields.account ?? (named ? accountNameOf(named) : undefined);
  const connectionString = given?.connectionString ?? (given ? undefined : env.AZURE_STORAGE_CONNECTION_STRING);
  if (connectionString) {
    const parsed = parseConnectionString(connectionString);
    const url = connectionStringUrl(parsed, service);
    const accountName = parsed.AccountName ?? (url ? accountNameOf(url) : undefined);
    if (url && accountName && (given?.connectionString || !wanted || accountName === wanted)) {
      return { url, accountName, auth: { kind: "connectionString", connectionString } };
    }
  }
  if (!named || !wanted) return undefined;
  const key = given?.accountKey ?? (!given && env.AZURE_STORAGE_ACCOUNT === wanted ? env.AZURE_STORAGE_KEY : undefined);
  if (key) return { url: named, accountName: wanted, auth: { kind: "key", key } };
  if (given?.sasToken) return { url: named, accountName: wanted, auth: { kind: "sas", sas: given.sasToken.replace(/^\?/, "") } };
  return { url: named, accountName: wanted, auth: { kind: "identity" } };
}

/** The endpoint the locator itself names, canonical; undefined when it names none. */
export function namedUrl(fields: AccountFields, service: AzureService): string | undefined {
  if (fields.accountUrl) return canonicalServiceUrl(fields.accountUrl);
  return fields.account ? `https://${fields.account.toLowerCase()}.${service}.${DEFAULT_ENDPOINT_SUFFIX}` : undefined;
}

/**
 * One spelling per endpoint: scheme and host in lower case, no default port, no trailing slash.
 * The path stays (Azurite and other path-style hosts carry the account there).
 */
export function canonicalServiceUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const path = parsed.pathname.replace(/\/+$/, "");
    return `${parsed.protocol}//${parsed.host}${path}`;
  } catch {
    return url.replace(/\/+$/, "");
  }
}

/**
 * `https://acct.blob.core.windows.net` → acct; a path-style host (Azurite: an IP, localhost, ports 10000–10012)
 * → its first path segment.
 */
export function accountNameOf(accountUrl: string): string {
  try {
    const url = new URL(accountUrl);
    return isPathStyle(url) ? (url.pathname.split("/").filter(Boolean)[0] ?? "") : url.hostname.split(".")[0];
  } catch {
    return "";
  }
}

/** The Storage SDK's own rule (isIpEndpointStyle), so that we read the account where the SDK does. */
function isPathStyle(url: URL): boolean {
  const ipv4 = /^(\d{1,3})(\.\d{1,3}){3}$/;
  const pathStylePort = url.port !== "" && Number(url.port) >= 10000 && Number(url.port) <= 10012;
  return (
    url.hostname.startsWith("[") ||
    ipv4.test(url.hostname) ||
    url.hostname === "localhost" ||
    url.hostname === "host.docker.internal" ||
    pathStylePort
  );
}

export type ConnectionString = Partial<
  Record<
    | "AccountName"
    | "AccountKey"
    | "BlobEndpoint"
    | "FileEndpoint"
    | "SharedAccessSignature"
    | "DefaultEndpointsProtocol"
    | "EndpointSuffix"
    | "UseDevelopmentStorage",
    string
  >
>;

/** `Key=Value;…`; values may contain `=` (keys, SAS tokens). Names are matched case-insensitively, as Azure does. */
export function parseConnectionString(text: string): ConnectionString {
  const known = [
    "AccountName",
    "AccountKey",
    "BlobEndpoint",
    "FileEndpoint",
    "SharedAccessSignature",
    "DefaultEndpointsProtocol",
    "EndpointSuffix",
    "UseDevelopmentStorage",
  ];
  const out: Record<string, string> = {};
  for (const part of text.split(";")) {
    const at = part.indexOf("=");
    if (at <= 0) continue;
    const name = known.find((k) => k.toLowerCase() === part.slice(0, at).trim().toLowerCase());
    if (name) out[name] = part.slice(at + 1).trim();
  }
  return out;
}

/** The endpoint a connection string sends a service's requests to, canonical. */
function connectionStringUrl(cs: ConnectionString, service: AzureService): string | undefined {
  const explicit = service === "blob" ? cs.BlobEndpoint : cs.FileEndpoint;
  if (explicit) return canonicalServiceUrl(explicit);
  if (/^true$/i.test(cs.UseDevelopmentStorage ?? "")) return service === "blob" ? "http://127.0.0.1:10000/devstoreaccount1" : undefined;
  if (!cs.AccountName) return undefined;
  const protocol = (cs.DefaultEndpointsProtocol ?? "https").toLowerCase();
  return `${protocol}://${cs.AccountName.toLowerCase()}.${service}.${cs.EndpointSuffix ?? DEFAULT_ENDPOINT_SUFFIX}`;
}
