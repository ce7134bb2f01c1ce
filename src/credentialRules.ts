/** The rules credentials must obey, per kind of location, run by `check` before any request. Never echoes a value. Pure. */
import { isPlainObject, isUnknown, type Fail } from "./checks";
import type { LocatorKind } from "./locators";
import type { StackConfig } from "./stackConfig";

export function validateCredentials(value: unknown, kind: LocatorKind | undefined, where: string, fail: Fail): void {
  // null: a secret that resolved to nothing (e.g. a URL without a query).
  if (value === undefined || value === null || isUnknown(value)) return;
  const path = `${where}.${kind ?? "?"}.credentials`;
  if (!isPlainObject(value)) return void fail(path, "must be an object.");
  // CopiedObject moves a URL's query (it may carry a signature) into the secret credentials.
  if (kind === "url") {
    if (typeof value.query !== "string" || Object.keys(value).length !== 1)
      fail(`${where}.url`, "carries a malformed query; pass the URL as one string.");
    return;
  }
  if (kind === "azureBlob" || kind === "azureFile") return validateAzureCredentials(value, path, where, fail);
  if (kind === "s3") {
    for (const key of Object.keys(value)) {
      if (!["accessKeyId", "secretAccessKey", "sessionToken"].includes(key))
        fail(
          `${path}.${key}`,
          "is not a field of S3 credentials: use accessKeyId, secretAccessKey and, for temporary credentials, sessionToken.",
        );
    }
    // Never echo the value: it is a credential.
    for (const key of ["accessKeyId", "secretAccessKey"]) {
      if (isUnknown(value[key])) continue;
      if (typeof value[key] !== "string" || value[key] === "")
        fail(`${path}.${key}`, "is required when credentials are given (or omit credentials to use the AWS default chain).");
    }
    if (value.sessionToken !== undefined && !isUnknown(value.sessionToken) && typeof value.sessionToken !== "string")
      fail(`${path}.sessionToken`, "must be a string.");
  }
}

const SERVICE_PRINCIPAL = ["tenantId", "clientId", "clientSecret"];
const AZURE_KINDS = ["accountKey", "sasToken", "connectionString", "clientSecret", "managedIdentityClientId"];

/**
 * An Azure credential: exactly one of accountKey, sasToken, connectionString, a service principal (tenantId, clientId
 * and clientSecret) or managedIdentityClientId. Never echoes values.
 */
export function validateAzureCredentials(value: Record<string, unknown>, path: string, where: string, fail: Fail): void {
  const kinds = AZURE_KINDS.filter((k) => value[k] !== undefined);
  for (const key of Object.keys(value)) {
    if (![...AZURE_KINDS, ...SERVICE_PRINCIPAL].includes(key))
      fail(
        `${path}.${key}`,
        "is not an Azure credential: give one of accountKey, sasToken, connectionString, tenantId with clientId and clientSecret, " +
          "or managedIdentityClientId.",
      );
  }
  if (kinds.length !== 1)
    return void fail(
      path,
      `needs exactly one of accountKey, sasToken, connectionString, a service principal's clientSecret, or managedIdentityClientId (got ` +
        `${kinds.length}); or omit credentials to use the stack's azure-native identity, the environment and DefaultAzureCredential.`,
    );
  if (kinds[0] === "clientSecret" || (value.tenantId ?? value.clientId) !== undefined) {
    for (const field of SERVICE_PRINCIPAL) {
      if (kinds[0] !== "clientSecret")
        return void fail(`${path}.${field}`, "belongs to a service principal: give tenantId, clientId and clientSecret.");
      if (isUnknown(value[field])) continue;
      if (typeof value[field] !== "string" || value[field] === "")
        fail(`${path}.${field}`, "is required for a service principal (tenantId, clientId and clientSecret), as a non-empty string.");
    }
    const id = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    // Ids are not secrets, but a check message still never quotes them: a secret pasted into the wrong field would show.
    for (const field of ["tenantId", "clientId"])
      if (
        typeof value[field] === "string" &&
        !id.test(value[field] as string) &&
        !(field === "tenantId" && /^[\w.-]+\.[a-z]{2,}$/i.test(value[field] as string))
      )
        fail(
          `${path}.${field}`,
          `must be a GUID (00000000-0000-0000-0000-000000000000)${field === "tenantId" ? " or a tenant's domain" : ""}.`,
        );
    return;
  }
  const secret = value[kinds[0]];
  if (isUnknown(secret)) return;
  if (typeof secret !== "string" || secret === "") return void fail(`${path}.${kinds[0]}`, "must be a non-empty string.");
  if (kinds[0] === "accountKey" && !/^[A-Za-z0-9+/]+={0,2}$/.test(secret))
    fail(
      `${path}.accountKey`,
      "must be the account key as Azure shows it (base64). Copy it from the portal's Access keys or `az storage account keys list`.",
    );
  if (kinds[0] === "sasToken") {
    // A whole SAS URL (as the portal shows it) would be sent as a malformed query.
    if (/^[a-z]+:\/\//i.test(secret))
      return void fail(
        `${path}.sasToken`,
        'is a URL, not a SAS token. Give only its query string, the part after "?" (sv=...&sig=...), and the account in accountUrl.',
      );
    const params = new URLSearchParams(secret.replace(/^\?/, ""));
    if (!params.get("sig"))
      fail(`${path}.sasToken`, "is not a SAS token: it has no sig= parameter. Give the query string Azure generated.");
    const permissions = params.get("sp");
    if (where === "source" && permissions !== null && !permissions.includes("r"))
      fail(`${path}.sasToken`, "does not grant read (r) on the source, which the copy needs. Generate it with read permission.");
    if (where === "destination" && permissions !== null) {
      // The copy writes the destination, then reads it back to wait for the copy and to verify it.
      const missing = [!/[wc]/.test(permissions) && "write (w)", !permissions.includes("r") && "read (r)"].filter(Boolean);
      if (missing.length)
        fail(
          `${path}.sasToken`,
          `does not grant ${missing.join(" or ")} on the destination (sp=${permissions}), which the copy needs: it writes the ` +
            "destination and reads it back to wait for the copy and verify it. " +
            "Generate it with at least sp=rw (add d for destroy, t for tags).",
        );
    }
  }
  if (kinds[0] === "connectionString" && !/AccountName=|SharedAccessSignature=|BlobEndpoint=/i.test(secret)) {
    fail(
      `${path}.connectionString`,
      "is not a storage connection string (no AccountName, BlobEndpoint or SharedAccessSignature). Copy it from the portal's Access " +
        "keys, or give accountKey or sasToken instead.",
    );
  }
}

/** A side's own profile and its own keys would each say who it is: one must go. */
export function validateS3Identity(locator: unknown, credentials: unknown, kind: LocatorKind | undefined, where: string, fail: Fail): void {
  if (kind !== "s3" || !isPlainObject(locator) || !isPlainObject(locator.s3)) return;
  if (locator.s3.profile !== undefined && credentials !== undefined && credentials !== null)
    fail(`${where}.s3.profile`, "and credentials both name who this side is: give one (assumeRole may go with either).");
}

/**
 * The stack config's malformed values, when this resource reads them: `aws:*` for an S3 side, `azure-native:*` for an
 * Azure one. Each names its key and the fix, never the value (some are secrets).
 */
export function validateStackConfig(kinds: Array<LocatorKind | undefined>, config: StackConfig, fail: Fail): void {
  for (const { key, reason } of config.problems) {
    const cloud = key.startsWith("aws:") ? "s3" : "azure";
    if (!kinds.some((k) => k !== undefined && k.toLowerCase().startsWith(cloud))) continue;
    fail(
      key,
      `in the stack's configuration ${reason}. Fix it with \`pulumi config set --path ${key} …\` (or \`pulumi config rm ${key}\`).`,
    );
  }
}
