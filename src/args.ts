/**
 * The plain (resolved) shapes of CopiedObject's inputs, and the rules they must obey.
 * Everything here is pure: `check` runs it before any request is sent.
 */

import { canonicalServiceUrl, resolveAzureAccount, type AccountFields } from "./azureAccount";
import { UNKNOWN, containsUnknown, isPlainObject, isUnknown, suggest, type Fail } from "./checks";
import { identityOf, sameBase, sameService, serviceLabel } from "./identity";
import { ambientOf, type Ambient } from "./ambient";
import { validateCredentials, validateS3Identity, validateStackConfig } from "./credentialRules";
import { validateAzureBlobLocator, validateAzureFileLocator, validateS3Locator, validateUrlLocator } from "./locatorRules";
import {
  LOCATOR_KEYS,
  locatorKind,
  type AzureBlobLocator,
  type AzureCredentials,
  type AzureFileLocator,
  type Locator,
  type LocatorKind,
  type S3Credentials,
  type S3Locator,
} from "./locators";
import { validateOptions } from "./optionRules";
import { DEFAULT_TIMEOUT_SECONDS, type CopyOptions } from "./options";
import { isRefusal, PAIRS, routeOf, STRATEGIES, type Refusal, type Strategy } from "./plan";

export { UNKNOWN, containsUnknown, isUnknown, locatorKind };
export type { Strategy };
export { DEFAULT_TIMEOUT_SECONDS, type CopyOptions };
export type { AzureBlobLocator, AzureCredentials, AzureFileLocator, Locator, LocatorKind, S3Credentials, S3Locator };

/**
 * What the provider receives. CopiedObject lifts each locator's `credentials` into a
 * top-level secret property, so that the engine keeps them secret in state whatever
 * it does with nested secrets, and so that `source` and `destination` stay readable.
 */
export interface WireInputs extends CopyOptions {
  source: Locator;
  destination: Locator;
  sourceCredentials?: S3Credentials | AzureCredentials;
  destinationCredentials?: S3Credentials | AzureCredentials;
}

export interface Failure {
  property: string;
  reason: string;
}

/**
 * What a change of each option does to a copy that exists. `content` options shape the stored result, so a
 * change re-copies in place. `tuning` options only shape how a copy runs, so a change writes nothing. A
 * `guard` (sourceEtag) re-copies only when it asks for content other than what was copied. Every option
 * must be classified here: the type refuses a new one that is not.
 */
export const OPTION_EFFECT = {
  metadata: "content",
  tags: "content",
  contentType: "content",
  cacheControl: "content",
  contentDisposition: "content",
  contentEncoding: "content",
  contentLanguage: "content",
  storageClass: "content",
  accessTier: "content",
  serverSideEncryption: "content",
  kmsKeyId: "content",
  sourceEtag: "guard",
  strategy: "tuning",
  partSizeBytes: "tuning",
  concurrency: "tuning",
  timeoutSeconds: "tuning",
  pollIntervalSeconds: "tuning",
  trackSource: "tuning",
  verify: "tuning",
} as const satisfies Record<keyof CopyOptions, "content" | "tuning" | "guard">;

export type OptionKey = keyof typeof OPTION_EFFECT;
export const OPTION_KEYS = Object.keys(OPTION_EFFECT) as OptionKey[];
const TOP_KEYS = ["source", "destination", "sourceCredentials", "destinationCredentials", ...OPTION_KEYS];
/** Validates what `check` receives. Returns every failure, so one preview shows them all. */
export function validateInputs(news: Record<string, unknown>, ambient: Ambient = ambientOf()): Failure[] {
  const failures: Failure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });

  for (const key of Object.keys(news)) {
    if (key === "__provider" || TOP_KEYS.includes(key)) continue;
    fail(key, `is not an option of CopiedObject${suggest(key, TOP_KEYS)}. The options are: ${OPTION_KEYS.join(", ")}.`);
  }
  const sourceKind = validateLocator(news.source, "source", fail);
  const destinationKind = validateLocator(news.destination, "destination", fail);
  validateCredentials(news.sourceCredentials, sourceKind, "source", fail);
  validateCredentials(news.destinationCredentials, destinationKind, "destination", fail);
  validateS3Identity(news.source, news.sourceCredentials, sourceKind, "source", fail);
  validateS3Identity(news.destination, news.destinationCredentials, destinationKind, "destination", fail);
  validateStackConfig([sourceKind, destinationKind], ambient.config, fail);
  validateAccountAgreement(news.source, news.sourceCredentials, sourceKind, "source", fail);
  validateAccountAgreement(news.destination, news.destinationCredentials, destinationKind, "destination", fail);
  validateOptions(news, destinationKind, fail);
  // Identity is asked only of locators that passed their own rules: a malformed one names nothing.
  const located = !failures.some((f) => /^(source|destination)(\.|$)/.test(f.property));
  if (sourceKind && destinationKind)
    validatePair(news as unknown as WireInputs, sourceKind, destinationKind, located ? ambient : undefined, fail);
  return failures;
}

function validateLocator(value: unknown, where: "source" | "destination", fail: Fail): LocatorKind | undefined {
  if (isUnknown(value)) return undefined;
  if (!isPlainObject(value)) {
    const kinds = `{ s3 }, { azureBlob }, { azureFile }${where === "source" ? " or { url }" : ""}`;
    // A string is never echoed: it may be a URL with a signature.
    if (typeof value === "string") fail(where, `is a string; give an object with exactly one of ${kinds}, e.g. { s3: { bucket, key } }.`);
    else fail(where, `is required: give exactly one of ${kinds}.`);
    return undefined;
  }
  const kinds = Object.keys(value).filter((k) => value[k] !== undefined && value[k] !== null);
  if (kinds.length !== 1) {
    fail(
      where,
      `must have exactly one of the keys s3, azureBlob, azureFile${where === "source" ? ", url" : ""} (got ` +
        `${kinds.length ? kinds.join(", ") : "none"}).`,
    );
    return undefined;
  }
  const kind = kinds[0];
  if (!(kind in LOCATOR_KEYS)) {
    fail(`${where}.${kind}`, `is not a kind of location${suggest(kind, Object.keys(LOCATOR_KEYS))}. Use s3, azureBlob, azureFile or url.`);
    return undefined;
  }
  const typed = kind as LocatorKind;
  if (typed === "url" && where === "destination") {
    fail("destination.url", "a URL can only be a source: nothing can be written to it. Copy to an s3, azureBlob or azureFile destination.");
    return undefined;
  }
  const body = value[kind];
  if (typed === "s3") validateS3Locator(body, `${where}.s3`, where, fail);
  if (typed === "azureBlob") validateAzureBlobLocator(body, `${where}.azureBlob`, where, fail);
  if (typed === "url") validateUrlLocator(body, "source.url", fail);
  if (typed === "azureFile") validateAzureFileLocator(body, `${where}.azureFile`, where, fail);
  return typed;
}

/**
 * The pair and strategy (plan.ts's table), with the services S3 to S3 needs, and an object copied onto
 * itself; both asked of identity.ts, which alone decides "same object" and "same service".
 */
function validatePair(inputs: WireInputs, from: LocatorKind, to: LocatorKind, ambient: Ambient | undefined, fail: Fail): void {
  const strategy = inputs.strategy;
  const source = ambient && identityOf(inputs.source, inputs.sourceCredentials, ambient);
  const destination = ambient && identityOf(inputs.destination, inputs.destinationCredentials, ambient);
  if (isUnknown(strategy) || (strategy !== undefined && !STRATEGIES.includes(strategy))) {
    if (!PAIRS[`${from}->${to}`]) fail("destination", (routeOf(from, to) as Refusal).reason);
    return;
  }
  const services =
    source && destination
      ? { same: sameService(source, destination), source: serviceLabel(source), destination: serviceLabel(destination) }
      : undefined;
  const route = routeOf(from, to, strategy, services);
  if (isRefusal(route)) return void fail(route.property, route.reason);
  if (source && destination && sameBase(source, destination) && !source.version) {
    const [field, what, how] = SELF_COPY[to];
    fail(`destination.${to}.${field}`, `is the source ${what} itself. ${how}`);
  }
}

const SELF_COPY: Record<LocatorKind, [string, string, string]> = {
  s3: ["key", "object", "To promote an older version over the current one, set source.s3.versionId; otherwise copy to another key."],
  azureBlob: [
    "blob",
    "blob",
    "To promote a snapshot or version over the base blob, set source.azureBlob.snapshot or versionId; otherwise copy to another blob.",
  ],
  azureFile: [
    "path",
    "file",
    "To restore a file from a share snapshot, set source.azureFile.shareSnapshot; otherwise copy to another path.",
  ],
  url: ["url", "URL", ""],
};

/** A connection string decides the endpoint: an account or URL that names another one is a contradiction, caught here. */
function validateAccountAgreement(value: unknown, credentials: unknown, kind: LocatorKind | undefined, where: string, fail: Fail): void {
  if (
    (kind !== "azureBlob" && kind !== "azureFile") ||
    !isPlainObject(value) ||
    !isPlainObject(credentials) ||
    containsUnknown([value, credentials])
  )
    return;
  const fields = value[kind] as AccountFields;
  if (
    typeof credentials.connectionString !== "string" ||
    !isPlainObject(fields) ||
    (fields.account === undefined && fields.accountUrl === undefined)
  )
    return;
  const service = kind === "azureBlob" ? "blob" : "file";
  const actual = resolveAzureAccount({}, { connectionString: credentials.connectionString }, ambientOf(), service);
  if (!actual) return;
  // An account name must be the connection string's; an account URL, its endpoint.
  const field = fields.accountUrl !== undefined ? "accountUrl" : "account";
  const named = field === "accountUrl" ? canonicalServiceUrl(String(fields.accountUrl)) : fields.account;
  if (named !== (field === "accountUrl" ? actual.url : actual.accountName)) {
    const theirs = field === "accountUrl" ? actual.url : `account ${actual.accountName}`;
    fail(
      `${where}.${kind}.${field}`,
      `names ${named}, but credentials.connectionString is for ${theirs} (${actual.url}), where requests would go. Give the connection ` +
        `string of that account, or remove ${field}.`,
    );
  }
}
