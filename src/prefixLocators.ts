/**
 * CopiedPrefix's locations: CopiedObject's locators with `prefix` in place of `key`, `blob` or `path`, the key
 * mapping, and the selection rules. Pure. Which object a mapped locator names is identity.ts's question, as for
 * CopiedObject: a prefix's objects are CopiedObject locators, built here and nowhere else.
 */
import path from "node:path";
import { isPlainObject, isUnknown, show, type Fail } from "./checks";
import type { AzureBlobLocator, AzureFileLocator, Locator, S3Locator } from "./locators";

/** An S3 bucket and a key prefix (plain string: `fx/` and `fx` differ), with the same fields as an s3 locator. */
export type S3PrefixLocator = Omit<S3Locator, "key" | "versionId"> & {
  /** The key prefix, as a plain string (`""` for the whole bucket): every key that starts with it is under it. */
  prefix: string;
};
/** An Azure container and a blob name prefix. */
export type AzureBlobPrefixLocator = Omit<AzureBlobLocator, "blob" | "snapshot" | "versionId"> & {
  /** The blob name prefix, as a plain string (`""` for the whole container). */
  prefix: string;
};
/** An Azure Files share and a directory (`""` for the share's root, else ending in `/`), walked recursively. */
export type AzureFilePrefixLocator = Omit<AzureFileLocator, "path" | "shareSnapshot"> & {
  /** A directory of the share, ending in `/` (`""` for the root), walked recursively. */
  prefix: string;
};

/** Where a CopiedPrefix copies from or to: exactly one key. */
export type PrefixLocator = { s3: S3PrefixLocator } | { azureBlob: AzureBlobPrefixLocator } | { azureFile: AzureFilePrefixLocator };
export type PrefixKind = "s3" | "azureBlob" | "azureFile";

export function prefixKind(locator: PrefixLocator): PrefixKind {
  return Object.keys(locator)[0] as PrefixKind;
}

export function prefixOf(locator: PrefixLocator): string {
  return Object.values(locator)[0].prefix;
}

/** The object at `relative` below the prefix: the prefix and the relative key joined as strings, nothing added or dropped. */
export function objectAt(locator: PrefixLocator, relative: string): Locator {
  if ("s3" in locator) {
    const { prefix, ...rest } = locator.s3;
    return { s3: { ...rest, key: prefix + relative } };
  }
  if ("azureBlob" in locator) {
    const { prefix, ...rest } = locator.azureBlob;
    return { azureBlob: { ...rest, blob: prefix + relative } };
  }
  const { prefix, ...rest } = locator.azureFile;
  return { azureFile: { ...rest, path: prefix + relative } };
}

/**
 * The relative name under which this resource keeps its manifest (and the marker of a run in progress). It sorts
 * before every ordinary name a listing returns only by chance, so the lister drops it by name, never by place.
 */
export const MANIFEST_NAME = ".copied-prefix-manifest.json.gz";
export const RUNNING_NAME = ".copied-prefix-running";
/** Where `engine: "s3-batch"` keeps a job's CSV manifest, record and report (prefixBatchRules.ts). */
export const BATCH_AREA = ".copied-prefix-batch/";

/** Whether a relative key is taken: it matches an include (or none is given) and no exclude (`path.matchesGlob`). */
export function selected(relative: string, include: readonly string[] | undefined, exclude: readonly string[] | undefined): boolean {
  if (relative === MANIFEST_NAME || relative === RUNNING_NAME || relative.startsWith(BATCH_AREA)) return false;
  const matches = (glob: string) => path.posix.matchesGlob(relative, glob);
  if (include?.length && !include.some(matches)) return false;
  return !exclude?.some(matches);
}

/**
 * The object locator a prefix locator stands for with a placeholder name, so that CopiedObject's own rules judge every
 * other field (bucket, account, endpoint, profile, …). Property paths it fails on are mapped back by the caller.
 */
export function asObjectLocator(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const [kind, body] = Object.entries(value)[0] ?? [];
  if (!isPlainObject(body)) return value;
  const { prefix: _prefix, ...rest } = body;
  const name = { s3: "key", azureBlob: "blob", azureFile: "path" }[kind as PrefixKind];
  return name ? { [kind]: { ...rest, [name]: "placeholder" } } : value;
}

/** The prefix itself: a string, at most 1024 bytes; a Files prefix is a directory. */
export function validatePrefix(value: unknown, kind: PrefixKind, where: string, fail: Fail): void {
  const at = `${where}.${kind}.prefix`;
  if (isUnknown(value)) return;
  if (typeof value !== "string")
    return void fail(at, `must be a string, e.g. "fixtures/" ("" for the whole ${container(kind)}) (got ${show(value)}).`);
  if (Buffer.byteLength(value) > 1000) fail(at, "is longer than 1000 bytes; object names are at most 1024.");
  if (kind === "azureFile") {
    if (value !== "" && !value.endsWith("/"))
      fail(at, `names a directory of the share: end it with "/" (e.g. "${value}/"), or give "" for the share's root.`);
    if (
      value.startsWith("/") ||
      value.split("/").some((part, i, all) => part === ".." || part === "." || (part === "" && i < all.length - 1))
    )
      fail(at, 'must be a relative directory path without "/" at its start, empty parts, "." or ".." (e.g. "seeds/2026/").');
  }
  if (kind === "azureBlob" && value.split("/").some((part) => part === "." || part === ".."))
    fail(at, 'must not contain "." or ".." segments: Azure would resolve them to another name.');
}

function container(kind: PrefixKind): string {
  return kind === "s3" ? "bucket" : kind === "azureBlob" ? "container" : "share";
}
