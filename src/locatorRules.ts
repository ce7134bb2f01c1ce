/** The rules each kind of location must obey, run by `check` before any request. Pure. */
import { checkBoolean, checkHttpUrl, checkNonEmptyString, isPlainObject, isUnknown, show, suggest, type Fail } from "./checks";
import { LOCATOR_KEYS } from "./locators";

export function validateS3Locator(value: unknown, path: string, where: "source" | "destination", fail: Fail): void {
  if (isUnknown(value)) return;
  if (!isPlainObject(value)) {
    fail(path, "must be an object with at least bucket and key.");
    return;
  }
  for (const key of Object.keys(value)) {
    if (!LOCATOR_KEYS.s3.includes(key))
      fail(
        `${path}.${key}`,
        `is not a field of an s3 location${suggest(key, LOCATOR_KEYS.s3)}. The fields are: ${LOCATOR_KEYS.s3.join(", ")}.`,
      );
  }
  const customEndpoint = value.endpoint !== undefined;
  checkBucketName(value.bucket, `${path}.bucket`, customEndpoint, fail);
  checkObjectKey(value.key, `${path}.key`, fail);
  if (value.versionId !== undefined) {
    if (where === "destination")
      fail(
        `${path}.versionId`,
        "applies to sources only: S3 assigns the destination's version id, which is output as versionId. Remove it.",
      );
    else checkNonEmptyString(value.versionId, `${path}.versionId`, fail, 1024);
  }
  if (value.region !== undefined && !isUnknown(value.region)) {
    if (typeof value.region !== "string" || !/^[a-z0-9-]{1,64}$/.test(value.region))
      fail(`${path}.region`, `must be an AWS region name such as "eu-west-1" (got ${show(value.region)}).`);
  }
  if (value.endpoint !== undefined) checkHttpUrl(value.endpoint, `${path}.endpoint`, fail);
  if (value.forcePathStyle !== undefined) checkBoolean(value.forcePathStyle, `${path}.forcePathStyle`, fail);
  if (value.credentials !== undefined)
    fail(`${path}.credentials`, "reached the provider nested; pass credentials through CopiedObject, which keeps them secret.");
  if (
    value.profile !== undefined &&
    !isUnknown(value.profile) &&
    (typeof value.profile !== "string" || !/^[\w.@+=,:/-]{1,128}$/.test(value.profile))
  )
    fail(`${path}.profile`, `must be the name of a profile in the shared AWS files, e.g. "prod" (got ${show(value.profile)}).`);
  if (value.assumeRole !== undefined) checkAssumeRole(value.assumeRole, `${path}.assumeRole`, fail);
}

/** IAM's own limits (AssumeRole's parameters), so that a typo fails here and not at STS mid-deploy. */
function checkAssumeRole(value: unknown, path: string, fail: Fail): void {
  if (isUnknown(value)) return;
  if (!isPlainObject(value)) return void fail(path, 'must be an object such as { roleArn: "arn:aws:iam::123456789012:role/name" }.');
  const fields = ["roleArn", "sessionName", "externalId", "durationSeconds"];
  for (const key of Object.keys(value)) {
    if (!fields.includes(key))
      fail(`${path}.${key}`, `is not a field of assumeRole${suggest(key, fields)}. The fields are: ${fields.join(", ")}.`);
  }
  const { roleArn, sessionName, externalId, durationSeconds } = value;
  if (!isUnknown(roleArn) && (typeof roleArn !== "string" || !/^arn:[\w-]+:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(roleArn)))
    fail(`${path}.roleArn`, `must be a role ARN such as "arn:aws:iam::123456789012:role/name" (got ${show(roleArn)}).`);
  if (sessionName !== undefined && !isUnknown(sessionName) && (typeof sessionName !== "string" || !/^[\w+=,.@-]{2,64}$/.test(sessionName)))
    fail(`${path}.sessionName`, "must be 2-64 letters, digits or +=,.@_- (IAM's rule for session names).");
  if (externalId !== undefined && !isUnknown(externalId) && (typeof externalId !== "string" || !/^[\w+=,.@:/-]{2,1224}$/.test(externalId)))
    fail(`${path}.externalId`, "must be 2-1224 letters, digits or +=,.@:/_- (IAM's rule for external ids).");
  const seconds = durationSeconds as number;
  if (durationSeconds !== undefined && !isUnknown(durationSeconds) && (!Number.isInteger(seconds) || seconds < 900 || seconds > 43200))
    fail(`${path}.durationSeconds`, "must be a whole number of seconds from 900 to 43200 (and at most the role's maximum session).");
}

function checkBucketName(value: unknown, path: string, customEndpoint: boolean, fail: Fail): void {
  if (isUnknown(value)) return;
  if (typeof value !== "string" || value.length === 0) return void fail(path, 'is required: the bucket\'s name, e.g. "my-bucket".');
  // AWS's rules; an S3-compatible server may also allow legacy names (upper case, underscores).
  const pattern = customEndpoint ? /^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/ : /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
  const problems: string[] = [];
  if (!pattern.test(value))
    problems.push(
      customEndpoint
        ? "3-255 letters, digits, dots, hyphens or underscores, starting and ending with a letter or digit"
        : "3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit",
    );
  if (value.includes("..")) problems.push("no two adjacent dots");
  if (/^\d+\.\d+\.\d+\.\d+$/.test(value)) problems.push("not an IP address");
  if (value.startsWith("s3://") || value.includes("/")) problems.push("the bare name, without s3:// or a path (put the path in key)");
  if (problems.length) fail(path, `must be a valid bucket name: ${problems.join("; ")} (got ${show(value)}).`);
}

function checkObjectKey(value: unknown, path: string, fail: Fail): void {
  if (isUnknown(value)) return;
  if (typeof value !== "string" || value.length === 0) return void fail(path, 'is required: the object\'s key, e.g. "db/seed.sql.gz".');
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes > 1024) fail(path, `is ${bytes} bytes long in UTF-8; S3 keys are at most 1024 bytes. Shorten it.`);
}

/** Azure's rules for an account, container and blob (Naming and Referencing Containers, Blobs). */
export function validateAzureBlobLocator(value: unknown, path: string, where: "source" | "destination", fail: Fail): void {
  if (isUnknown(value)) return;
  if (!isPlainObject(value)) return void fail(path, "must be an object with at least container and blob (and accountUrl or account).");
  for (const key of Object.keys(value)) {
    if (!LOCATOR_KEYS.azureBlob.includes(key))
      fail(
        `${path}.${key}`,
        `is not a field of an azureBlob location${suggest(key, LOCATOR_KEYS.azureBlob)}. The fields are: ` +
          `${LOCATOR_KEYS.azureBlob.join(", ")}.`,
      );
  }
  if (value.accountUrl !== undefined && value.account !== undefined) fail(`${path}.account`, "give accountUrl or account, not both.");
  if (value.accountUrl !== undefined) checkAccountUrl(value.accountUrl, `${path}.accountUrl`, "blob", fail);
  if (
    value.account !== undefined &&
    !isUnknown(value.account) &&
    (typeof value.account !== "string" || !/^[a-z0-9]{3,24}$/.test(value.account))
  ) {
    fail(`${path}.account`, `must be a storage account name: 3-24 lowercase letters and digits (got ${show(value.account)}).`);
  }
  const container = value.container;
  if (!isUnknown(container)) {
    const valid =
      typeof container === "string" &&
      (container === "$root" || container === "$web" || /^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$/.test(container));
    if (!valid)
      fail(
        `${path}.container`,
        `must be a container name: 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit (got ` +
          `${show(container)}).`,
      );
  }
  if (!isUnknown(value.blob)) {
    if (typeof value.blob !== "string" || value.blob.length === 0)
      fail(`${path}.blob`, 'is required: the blob\'s name, e.g. "backups/db.bak".');
    else if (value.blob.length > 1024) fail(`${path}.blob`, `is ${value.blob.length} characters; blob names are at most 1024. Shorten it.`);
    // URLs resolve dot segments away: the SDK would address "a/../b" as "b", another blob.
    else if (/(^|\/)\.\.?(\/|$)/.test(value.blob))
      fail(
        `${path}.blob`,
        `has a "." or ".." segment, which URLs resolve away (${show(value.blob)} would address another blob). Rename it without dot ` +
          `segments.`,
      );
  }
  for (const key of ["snapshot", "versionId"] as const) {
    if (value[key] === undefined) continue;
    if (where === "destination")
      fail(
        `${path}.${key}`,
        `applies to sources only: a copy always writes the base ` +
          `blob${key === "versionId" ? " (its new version id is output as versionId)" : ""}. Remove it.`,
      );
    else checkAzureTimestamp(value[key], `${path}.${key}`, fail, key === "snapshot" ? "snapshot" : "version");
  }
  if (value.snapshot !== undefined && value.versionId !== undefined) fail(`${path}.versionId`, "give snapshot or versionId, not both.");
  if (value.credentials !== undefined)
    fail(`${path}.credentials`, "reached the provider nested; pass credentials through CopiedObject, which keeps them secret.");
}

/** An http(s) URL Azure's service can fetch: no user:password (it would sit in state unencrypted). */
export function validateUrlLocator(value: unknown, path: string, fail: Fail): void {
  if (isUnknown(value)) return;
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) {
    return void fail(path, `must be an http(s) URL such as "https://example.com/seed.sql.gz" (got ${show(value)}).`);
  }
  if (url.username || url.password)
    fail(
      path,
      "carries a user name or password, which Azure cannot use on a copy source and would be stored unencrypted. Use a URL with a " +
        "signature (SAS or presigned) instead.",
    );
  if (String(value).length > 8192) fail(path, "is longer than 8 KiB.");
}

/** Azure's rules for a share and a file path (Naming and Referencing Shares, Directories, Files). */
export function validateAzureFileLocator(value: unknown, path: string, where: "source" | "destination", fail: Fail): void {
  if (isUnknown(value)) return;
  if (!isPlainObject(value)) return void fail(path, "must be an object with at least share and path (and accountUrl or account).");
  for (const key of Object.keys(value)) {
    if (!LOCATOR_KEYS.azureFile.includes(key))
      fail(
        `${path}.${key}`,
        `is not a field of an azureFile location${suggest(key, LOCATOR_KEYS.azureFile)}. The fields are: ` +
          `${LOCATOR_KEYS.azureFile.join(", ")}.`,
      );
  }
  if (value.accountUrl !== undefined && value.account !== undefined) fail(`${path}.account`, "give accountUrl or account, not both.");
  if (value.accountUrl !== undefined) checkAccountUrl(value.accountUrl, `${path}.accountUrl`, "file", fail);
  if (
    value.account !== undefined &&
    !isUnknown(value.account) &&
    (typeof value.account !== "string" || !/^[a-z0-9]{3,24}$/.test(value.account))
  ) {
    fail(`${path}.account`, `must be a storage account name: 3-24 lowercase letters and digits (got ${show(value.account)}).`);
  }
  if (!isUnknown(value.share) && (typeof value.share !== "string" || !/^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$/.test(value.share))) {
    fail(
      `${path}.share`,
      `must be a share name: 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit (got ` +
        `${show(value.share)}).`,
    );
  }
  if (!isUnknown(value.path)) {
    const p = value.path;
    if (typeof p !== "string" || p.replace(/^\/+/, "") === "" || p.endsWith("/"))
      fail(`${path}.path`, 'is required: the file\'s path in the share, e.g. "backups/db.bak" (directories are created on a destination).');
    else if (p.length > 2048 || p.split("/").some((part) => part.length > 255 || /["\\:|<>*?]/.test(part)))
      fail(`${path}.path`, 'has a part over 255 characters or one of " \\ : | < > * ?, which Azure Files forbids.');
    else {
      // Azure Files forbids these names; "." and ".." would also be resolved away by the URL ("../x" addresses another share).
      const bad = p
        .replace(/^\/+/, "")
        .split("/")
        .find((part) => part === "" || part === "." || part === ".." || /^(CON|PRN|AUX|NUL|CLOCK\$|COM[1-9]|LPT[1-9])$/i.test(part));
      if (bad !== undefined)
        fail(
          `${path}.path`,
          `has the part ${show(bad)}, which Azure Files forbids (no empty parts, ".", "..", or CON, PRN, AUX, NUL, COM1-9, LPT1-9, ` +
            `CLOCK$). Rename it.`,
        );
    }
  }
  if (value.shareSnapshot !== undefined) {
    if (where === "destination") fail(`${path}.shareSnapshot`, "applies to sources only: a copy always writes the live share. Remove it.");
    else checkAzureTimestamp(value.shareSnapshot, `${path}.shareSnapshot`, fail, "share snapshot");
  }
  if (value.credentials !== undefined)
    fail(`${path}.credentials`, "reached the provider nested; pass credentials through CopiedObject, which keeps them secret.");
}

/** An account URL: http(s), no secret in it, and not another service's endpoint (a file URL for a blob). */
function checkAccountUrl(value: unknown, path: string, service: "blob" | "file", fail: Fail): void {
  checkHttpUrl(value, path, fail);
  if (typeof value !== "string") return;
  const host = /^https?:\/\/([a-z0-9]+)\.(blob|file|queue|table|dfs|web)\.(core\.[a-z.]+)(?::\d+)?\/?$/i.exec(value);
  if (host && host[2].toLowerCase() !== service) {
    fail(
      path,
      `is the account's ${host[2]} endpoint; an ${service === "blob" ? "azureBlob" : "azureFile"} location needs its ${service} endpoint ` +
        `(did you mean "https://${host[1]}.${service}.${host[3]}"?).`,
    );
  }
}

/** Azure names snapshots and versions by their UTC time, e.g. "2026-11-21T09:30:00.1234567Z". */
function checkAzureTimestamp(value: unknown, path: string, fail: Fail, what: string): void {
  if (isUnknown(value)) return;
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$/.test(value)) return;
  fail(path, `must be the ${what}'s timestamp as Azure lists it, e.g. "2026-11-21T09:30:00.1234567Z" (got ${show(value)}).`);
}
