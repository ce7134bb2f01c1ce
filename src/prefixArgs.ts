/**
 * CopiedPrefix's inputs and their rules. Pure. Every rule CopiedObject has for a locator, a pair, a credential or
 * an option is CopiedObject's own (args.ts), asked with the prefix standing in for one object; only what is a
 * prefix's own is judged here: the prefix, the selection, prune, concurrency, the engine, and overlap.
 */
import type { Ambient } from "./ambient";
import { validateInputs, type Failure } from "./args";
import { checkBoolean, containsUnknown, isPlainObject, isUnknown, show, suggest, type Fail } from "./checks";
import { identityOf, sameService } from "./identity";
import { batchObstacles } from "./prefixBatchRules";
import { PREFIX_OPTION_KEYS, type PerObjectOptions } from "./prefixOptions";
import { asObjectLocator, objectAt, prefixKind, prefixOf, validatePrefix, type PrefixKind, type PrefixLocator } from "./prefixLocators";

const TOP_KEYS = ["source", "destination", "sourceCredentials", "destinationCredentials", ...PREFIX_OPTION_KEYS];
const OWN_KEYS = ["include", "exclude", "prune", "concurrency", "engine", "batchRoleArn"];
export const MAX_PREFIX_CONCURRENCY = 256;

export function validatePrefixInputs(news: Record<string, unknown>, ambient: Ambient): Failure[] {
  const failures: Failure[] = [];
  const fail: Fail = (property, reason) => failures.push({ property, reason });
  for (const key of Object.keys(news)) {
    if (key === "__provider" || key === "sourceEtag" || TOP_KEYS.includes(key)) continue;
    fail(key, `is not an option of CopiedPrefix${suggest(key, TOP_KEYS)}. The options are: ${PREFIX_OPTION_KEYS.join(", ")}.`);
  }
  const kinds = (["source", "destination"] as const).map((where) => kindOf(news[where], where, fail));
  for (const [i, where] of (["source", "destination"] as const).entries()) {
    const kind = kinds[i];
    if (kind) validatePrefix((news[where] as Record<string, Record<string, unknown>>)[kind].prefix, kind, where, fail);
  }
  // CopiedObject's rules for everything else, with one placeholder object per side standing for the prefix.
  const perObject = Object.fromEntries(
    Object.entries(news).filter(([k]) => TOP_KEYS.includes(k) && !OWN_KEYS.includes(k) && k !== "source" && k !== "destination"),
  );
  const asObject = {
    ...perObject,
    source: placeholder(asObjectLocator(news.source), "source"),
    destination: placeholder(asObjectLocator(news.destination), "destination"),
  };
  for (const f of validateInputs(asObject, ambient)) {
    if (/^(source|destination)\.(s3\.key|azureBlob\.blob|azureFile\.path)$/.test(f.property)) continue; // the placeholders
    if (f.property === "source" || f.property === "destination") {
      if (kinds.includes(undefined)) continue; // already said, in a prefix's words
    }
    fail(f.property, f.reason.replace(/CopiedObject/g, "CopiedPrefix"));
  }
  validateOwn(news, kinds, fail);
  if (kinds[0] && kinds[1] && !failures.some((f) => /^(source|destination)(\.|$)/.test(f.property))) overlap(news, ambient, fail);
  return failures;
}

function kindOf(value: unknown, where: string, fail: Fail): PrefixKind | undefined {
  if (isUnknown(value)) return undefined;
  const kinds = isPlainObject(value) ? Object.keys(value).filter((k) => value[k] !== undefined && value[k] !== null) : [];
  if (!isPlainObject(value) || kinds.length !== 1) {
    fail(where, "must have exactly one of the keys s3, azureBlob or azureFile, e.g. { s3: { bucket, prefix } }.");
    return undefined;
  }
  if (kinds[0] === "url") return void fail(`${where}.url`, "a URL names one object, not a prefix: use CopiedObject for it.");
  if (!["s3", "azureBlob", "azureFile"].includes(kinds[0])) return void fail(where, `has ${kinds[0]}; use s3, azureBlob or azureFile.`);
  const body = value[kinds[0]];
  if (isPlainObject(body) && body.prefix === undefined)
    fail(`${where}.${kinds[0]}.prefix`, 'is required: the prefix to copy, e.g. "fixtures/" ("" for everything).');
  for (const field of ["key", "blob", "path", "versionId", "snapshot", "shareSnapshot"]) {
    if (isPlainObject(body) && body[field] !== undefined)
      fail(`${where}.${kinds[0]}.${field}`, `does not apply to a prefix${field.length > 4 ? "" : ": give prefix instead"}; remove it.`);
  }
  return kinds[0] as PrefixKind;
}

function placeholder(locator: unknown, where: string): unknown {
  if (!isPlainObject(locator)) return locator;
  const [kind, body] = Object.entries(locator)[0] ?? [];
  if (!isPlainObject(body)) return locator;
  const name = { s3: "key", azureBlob: "blob", azureFile: "path" }[kind as PrefixKind];
  return name ? { [kind]: { ...body, [name]: `${where}-placeholder` } } : locator;
}

function validateOwn(news: Record<string, unknown>, kinds: Array<PrefixKind | undefined>, fail: Fail): void {
  for (const key of ["include", "exclude"]) {
    const value = news[key];
    if (value === undefined || isUnknown(value)) continue;
    if (!Array.isArray(value) || value.some((g) => !isUnknown(g) && (typeof g !== "string" || g === "")))
      fail(key, `must be a list of globs on the key below the prefix, e.g. ["**/*.sql.gz"] (got ${show(value)}).`);
  }
  if (news.prune !== undefined) checkBoolean(news.prune, "prune", fail);
  const c = news.concurrency;
  if (c !== undefined && !isUnknown(c) && (!Number.isInteger(c) || (c as number) < 1 || (c as number) > MAX_PREFIX_CONCURRENCY))
    fail("concurrency", `must be a whole number of objects copied at once, 1 to ${MAX_PREFIX_CONCURRENCY} (got ${show(c)}).`);
  if (news.sourceEtag !== undefined) fail("sourceEtag", "pins one object; a prefix has many. Use CopiedObject, or remove it.");
  const engine = news.engine;
  if (engine !== undefined && !isUnknown(engine) && !["auto", "provider", "s3-batch"].includes(engine as string))
    fail("engine", `must be "auto", "provider" or "s3-batch" (got ${show(engine)}).`);
  const role = news.batchRoleArn;
  if (
    role !== undefined &&
    !isUnknown(role) &&
    (typeof role !== "string" || !/^arn:[\w-]+:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(role))
  )
    fail("batchRoleArn", `must be an IAM role ARN such as "arn:aws:iam::123456789012:role/batch-copy" (got ${show(role)}).`);
  if (engine === "s3-batch") {
    if (kinds.some((k) => k !== undefined && k !== "s3")) fail("engine", '"s3-batch" copies S3 to S3 only (S3 Batch Operations).');
    if (role === undefined) fail("batchRoleArn", 'is required with engine "s3-batch": the IAM role S3 Batch Operations runs the job as.');
    // What a job cannot express fails here, before anything is written ("auto" stays on the provider instead).
    if (kinds[0] === "s3" && kinds[1] === "s3" && !containsUnknown(news)) {
      const [source, destination] = [news.source, news.destination] as Array<{ s3: { prefix: string } }>;
      for (const o of batchObstacles(source.s3, destination.s3, news as PerObjectOptions))
        fail(o.property, `${o.reason}. Or use engine "provider".`);
    }
  }
}

/** Source and destination prefixes on one bucket, container or share must not contain one another. */
function overlap(news: Record<string, unknown>, ambient: Ambient, fail: Fail): void {
  const source = news.source as PrefixLocator;
  const destination = news.destination as PrefixLocator;
  const a = identityOf(objectAt(source, ""), news.sourceCredentials, ambient);
  const b = identityOf(objectAt(destination, ""), news.destinationCredentials, ambient);
  if (!a || !b || !sameService(a, b) || a.container !== b.container) return;
  const [p, q] = [a.name, b.name];
  if (p.startsWith(q) || q.startsWith(p)) {
    const kind = prefixKind(destination);
    fail(
      `destination.${kind}.prefix`,
      `"${prefixOf(destination)}" and the source's "${prefixOf(source)}" overlap in one ${kind === "s3" ? "bucket" : kind === "azureBlob" ? "container" : "share"}: ` +
        "each run would copy its own copies. Use prefixes that do not contain one another.",
    );
  }
}
