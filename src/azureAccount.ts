/**
 * Which Azure storage account, endpoint and credential one side of a copy uses. Pure: the stores
 * build SDK clients from its answer, and identity.ts names objects by it, so the two cannot disagree
 * about where a request goes. Blob and Files follow the same rules, each with its own endpoint.
 */
import type { Ambient } from "./ambient";
import type { AzureCredentials } from "./locators";
import { AZURE_CLOUDS, type AzureConfig } from "./stackConfig";

export type AzureService = "blob" | "file";

/** How requests to the account are authorised. */
export type AzureAuth =
  | { kind: "connectionString"; connectionString: string }
  | { kind: "key"; key: string }
  | { kind: "sas"; sas: string }
  | { kind: "identity"; identity: AzureIdentity };

/**
 * Which Azure AD identity signs requests when no key or SAS does. `from` says where it was chosen, for messages.
 * `authorityHost` is set for the sovereign clouds only, so that AZURE_AUTHORITY_HOST still applies on the public one.
 */
export type AzureIdentity = IdentityKind & { from: "locator" | "stack" | "environment"; authorityHost?: string };

type IdentityKind =
  | { kind: "clientSecret"; tenantId: string; clientId: string; clientSecret: string }
  | { kind: "oidc"; tenantId: string; clientId: string; token?: string; tokenFile?: string; requestUrl?: string; requestToken?: string }
  | { kind: "managedIdentity"; clientId?: string }
  | { kind: "default" };

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
 * Credentials in the documented order: the locator's own (a key, SAS, connection string or identity); then the
 * stack's azure-native identity; then `AZURE_STORAGE_CONNECTION_STRING` (when it names this account, or no account
 * is named), `AZURE_STORAGE_ACCOUNT` with `AZURE_STORAGE_KEY` (for that account), the `ARM_*` identity and
 * DefaultAzureCredential. Undefined when no account can be found at all.
 */
export function resolveAzureAccount(
  fields: AccountFields,
  credentials: AzureCredentials | undefined,
  ambient: Ambient,
  service: AzureService,
): AzureAccount | undefined {
  const { env } = ambient;
  const suffix = cloudOf(ambient).suffix;
  const named = namedUrl(fields, service, suffix);
  const wanted = fields.account ?? (named ? accountNameOf(named) : undefined);
  const own = credentials && identityOfCredentials(credentials, ambient);
  const stack = credentials ? undefined : stackIdentity(ambient);
  const chosen = own ?? stack;
  if (chosen && named && wanted) return { url: named, accountName: wanted, auth: { kind: "identity", identity: chosen } };
  // An identity needs the account named; without one, only a connection string can name it.
  if (own) return undefined;
  const given = credentials as Partial<Record<"accountKey" | "sasToken" | "connectionString", string>> | undefined;
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
  return { url: named, accountName: wanted, auth: { kind: "identity", identity: environmentIdentity(ambient) } };
}

/** The cloud `azure-native:environment` (or `ARM_ENVIRONMENT`) names; the public one by default. */
export function cloudOf(ambient: Ambient): { suffix: string; authorityHost?: string } {
  const name = (ambient.config.azure.environment ?? ambient.env.ARM_ENVIRONMENT ?? "public").toLowerCase();
  const cloud = AZURE_CLOUDS[name] ?? AZURE_CLOUDS.public;
  return name === "public" || !AZURE_CLOUDS[name] ? { suffix: cloud.suffix } : cloud;
}

/** A side's own identity credential; undefined for a key, SAS or connection string. */
function identityOfCredentials(credentials: AzureCredentials, ambient: Ambient): AzureIdentity | undefined {
  const authorityHost = cloudOf(ambient).authorityHost;
  const host = authorityHost ? { authorityHost } : {};
  if ("clientSecret" in credentials) {
    const { tenantId, clientId, clientSecret } = credentials;
    return { kind: "clientSecret", tenantId, clientId, clientSecret, from: "locator", ...host };
  }
  if ("managedIdentityClientId" in credentials)
    return { kind: "managedIdentity", clientId: credentials.managedIdentityClientId, from: "locator", ...host };
  return undefined;
}

/** The identity the stack's azure-native config names, when it names one (a cloud alone is not an identity). */
function stackIdentity(ambient: Ambient): AzureIdentity | undefined {
  const identity = identityFrom(ambient.config.azure, ambient);
  return identity && { ...identity, from: "stack" };
}

/** The `ARM_*` identity azure-native reads from the environment, else DefaultAzureCredential. */
function environmentIdentity(ambient: Ambient): AzureIdentity {
  const e = ambient.env;
  const flag = (v: string | undefined) => (v === undefined ? undefined : /^true$/i.test(v));
  const fromEnv = identityFrom(
    {
      clientId: e.ARM_CLIENT_ID,
      clientSecret: e.ARM_CLIENT_SECRET,
      tenantId: e.ARM_TENANT_ID,
      useMsi: flag(e.ARM_USE_MSI),
      useOidc: flag(e.ARM_USE_OIDC),
      oidcToken: e.ARM_OIDC_TOKEN,
      oidcTokenFilePath: e.ARM_OIDC_TOKEN_FILE_PATH,
      oidcRequestUrl: e.ARM_OIDC_REQUEST_URL ?? e.ACTIONS_ID_TOKEN_REQUEST_URL,
      oidcRequestToken: e.ARM_OIDC_REQUEST_TOKEN ?? e.ACTIONS_ID_TOKEN_REQUEST_TOKEN,
    },
    ambient,
  );
  const authorityHost = cloudOf(ambient).authorityHost;
  return fromEnv
    ? { ...fromEnv, from: "environment" }
    : { kind: "default", from: "environment", ...(authorityHost ? { authorityHost } : {}) };
}

/** azure-native's order: OIDC when asked, then managed identity when asked, then a client secret. */
function identityFrom(c: AzureConfig, ambient: Ambient): (IdentityKind & { authorityHost?: string }) | undefined {
  const authorityHost = cloudOf(ambient).authorityHost;
  const host = authorityHost ? { authorityHost } : {};
  if (c.useOidc && c.clientId && c.tenantId) {
    return {
      kind: "oidc",
      tenantId: c.tenantId,
      clientId: c.clientId,
      ...(c.oidcToken ? { token: c.oidcToken } : {}),
      ...(c.oidcTokenFilePath ? { tokenFile: c.oidcTokenFilePath } : {}),
      ...(c.oidcRequestUrl ? { requestUrl: c.oidcRequestUrl } : {}),
      ...(c.oidcRequestToken ? { requestToken: c.oidcRequestToken } : {}),
      ...host,
    };
  }
  if (c.useMsi) return { kind: "managedIdentity", ...(c.clientId ? { clientId: c.clientId } : {}), ...host };
  if (c.clientId && c.clientSecret && c.tenantId)
    return { kind: "clientSecret", tenantId: c.tenantId, clientId: c.clientId, clientSecret: c.clientSecret, ...host };
  return undefined;
}

/** The endpoint the locator itself names, canonical; undefined when it names none. */
export function namedUrl(fields: AccountFields, service: AzureService, suffix = DEFAULT_ENDPOINT_SUFFIX): string | undefined {
  if (fields.accountUrl) return canonicalServiceUrl(fields.accountUrl);
  return fields.account ? `https://${fields.account.toLowerCase()}.${service}.${suffix}` : undefined;
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
