/** The rules for each kind of location. Pure; see args.ts for the whole input. */
import { checkBoolean, checkHttpUrl, checkNonEmptyString, isPlainObject, isUnknown, show, suggest, type Fail } from "./checks";
import type { LocatorKind } from "./args";

export const LOCATOR_KEYS: Record<LocatorKind, readonly string[]> = {
  s3: ["bucket", "key", "versionId", "region", "endpoint", "forcePathStyle", "credentials"],
  azureBlob: ["accountUrl", "account", "container", "blob", "snapshot", "versionId", "credentials"],
  azureFile: ["accountUrl", "account", "share", "path", "shareSnapshot", "credentials"],
  url: [],
};

export function validateS3Locator(value: unknown, path: string, where: "source" | "destination", fail: Fail): void {
  if (isUnknown(value)) return;
  if (!isPlainObject(value)) {
    fail(path, "must be an object with at least bucket and key.");
    return;
  }
  for (const key of Object.keys(value)) {
    if (!LOCATOR_KEYS.s3.includes(key)) fail(`${path}.${key}`, `is not a field of an s3 location${suggest(key, LOCATOR_KEYS.s3)}. The fields are: ${LOCATOR_KEYS.s3.join(", ")}.`);
  }
  const customEndpoint = value.endpoint !== undefined;
  checkBucketName(value.bucket, `${path}.bucket`, customEndpoint, fail);
  checkObjectKey(value.key, `${path}.key`, fail);
  if (value.versionId !== undefined) {
    if (where === "destination") fail(`${path}.versionId`, "applies to sources only: S3 assigns the destination's version id, which is output as versionId. Remove it.");
    else checkNonEmptyString(value.versionId, `${path}.versionId`, fail, 1024);
  }
  if (value.region !== undefined && !isUnknown(value.region)) {
    if (typeof value.region !== "string" || !/^[a-z0-9-]{1,64}$/.test(value.region)) fail(`${path}.region`, `must be an AWS region name such as "eu-west-1" (got ${show(value.region)}).`);
  }
  if (value.endpoint !== undefined) checkHttpUrl(value.endpoint, `${path}.endpoint`, fail);
  if (value.forcePathStyle !== undefined) checkBoolean(value.forcePathStyle, `${path}.forcePathStyle`, fail);
  if (value.credentials !== undefined) fail(`${path}.credentials`, "reached the provider nested; pass credentials through CopiedObject, which keeps them secret.");
}

function checkBucketName(value: unknown, path: string, customEndpoint: boolean, fail: Fail): void {
  if (isUnknown(value)) return;
  if (typeof value !== "string" || value.length === 0) return void fail(path, "is required: the bucket's name, e.g. \"my-bucket\".");
  // AWS's rules; an S3-compatible server may also allow legacy names (upper case, underscores).
  const pattern = customEndpoint ? /^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/ : /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
  const problems: string[] = [];
  if (!pattern.test(value)) problems.push(customEndpoint ? "3-255 letters, digits, dots, hyphens or underscores, starting and ending with a letter or digit" : "3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit");
  if (value.includes("..")) problems.push("no two adjacent dots");
  if (/^\d+\.\d+\.\d+\.\d+$/.test(value)) problems.push("not an IP address");
  if (value.startsWith("s3://") || value.includes("/")) problems.push("the bare name, without s3:// or a path (put the path in key)");
  if (problems.length) fail(path, `must be a valid bucket name: ${problems.join("; ")} (got ${show(value)}).`);
}

function checkObjectKey(value: unknown, path: string, fail: Fail): void {
  if (isUnknown(value)) return;
  if (typeof value !== "string" || value.length === 0) return void fail(path, "is required: the object's key, e.g. \"db/seed.sql.gz\".");
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes > 1024) fail(path, `is ${bytes} bytes long in UTF-8; S3 keys are at most 1024 bytes. Shorten it.`);
}

export function validateCredentials(value: unknown, kind: LocatorKind | undefined, where: string, fail: Fail): void {
  if (value === undefined || isUnknown(value)) return;
  const path = `${where}.${kind ?? "?"}.credentials`;
  if (!isPlainObject(value)) return void fail(path, "must be an object.");
  if (kind === "s3") {
    for (const key of Object.keys(value)) {
      if (!["accessKeyId", "secretAccessKey", "sessionToken"].includes(key)) fail(`${path}.${key}`, "is not a field of S3 credentials: use accessKeyId, secretAccessKey and, for temporary credentials, sessionToken.");
    }
    // Never echo the value: it is a credential.
    for (const key of ["accessKeyId", "secretAccessKey"]) {
      if (isUnknown(value[key])) continue;
      if (typeof value[key] !== "string" || value[key] === "") fail(`${path}.${key}`, "is required when credentials are given (or omit credentials to use the AWS default chain).");
    }
    if (value.sessionToken !== undefined && !isUnknown(value.sessionToken) && typeof value.sessionToken !== "string") fail(`${path}.sessionToken`, "must be a string.");
  }
}

