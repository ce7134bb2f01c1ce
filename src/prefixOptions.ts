/**
 * CopiedPrefix's option types, and what a change of each does (PREFIX_OPTION_EFFECT). Pure. The per-object options
 * are CopiedObject's: what their change does to each object is args.ts's answer (OPTION_EFFECT), taken from there.
 */
import { OPTION_EFFECT } from "./args";
import type { AzureCredentials, S3Credentials } from "./locators";
import type { CopyOptions } from "./options";
import type { PrefixLocator } from "./prefixLocators";

/** The options of CopiedObject that apply to every object of a prefix, as they apply to one. */
const PER_OBJECT_KEYS = [
  "metadata",
  "tags",
  "contentType",
  "cacheControl",
  "contentDisposition",
  "contentEncoding",
  "contentLanguage",
  "storageClass",
  "accessTier",
  "serverSideEncryption",
  "kmsKeyId",
  "strategy",
  "trackSource",
  "verify",
  "timeoutSeconds",
] as const satisfies ReadonlyArray<keyof CopyOptions>;

/** The per-object options of CopiedObject that apply to every object of a prefix. */
export type PerObjectOptions = Pick<CopyOptions, (typeof PER_OBJECT_KEYS)[number]>;

/** Who copies the objects of a prefix. */
export type PrefixEngine = "auto" | "provider" | "s3-batch";

export interface PrefixOptions extends PerObjectOptions {
  /**
   * Globs (Node's `path.matchesGlob`) on the key below the source prefix: a key is taken when it matches one.
   * @default every key
   * @example include: ["*.sql.gz", "db/**"]
   */
  include?: string[];
  /** Globs on the key below the source prefix: a key that matches one is left out, even when an include takes it. */
  exclude?: string[];
  /**
   * Remove the copies whose source is gone (only copies this resource wrote; another writer's objects stay).
   * @default false
   */
  prune?: boolean;
  /**
   * Objects copied at once, 1 to 256 (each copy is one server-side request or a multipart copy of its own).
   * @default 32
   */
  concurrency?: number;
  /**
   * Who copies the objects. `"provider"`: this package, object by object, server-side. `"s3-batch"`: an S3 Batch
   * Operations job (S3 → S3 only; needs `batchRoleArn`; see docs/s3-batch.md for the role, regions, costs and limits).
   * `"auto"`: the provider, unless `batchRoleArn` is given and more than 100,000 objects (BATCH_AUTO_THRESHOLD) are to
   * be copied and a job can express the copy. Changing it writes nothing.
   * @default "auto"
   * @example engine: "s3-batch", batchRoleArn: "arn:aws:iam::123456789012:role/batch-copy"
   */
  engine?: PrefixEngine;
  /**
   * The IAM role S3 Batch Operations runs a job as: it must trust batchoperations.s3.amazonaws.com and may read the
   * source and write the destination. The job is created in the role's account, in the destination's region.
   * @example batchRoleArn: "arn:aws:iam::123456789012:role/batch-copy"
   */
  batchRoleArn?: string;
}

/** What the provider receives: credentials lifted into their own secret inputs, as for CopiedObject. */
export interface PrefixWireInputs extends PrefixOptions {
  source: PrefixLocator;
  destination: PrefixLocator;
  sourceCredentials?: S3Credentials | AzureCredentials;
  destinationCredentials?: S3Credentials | AzureCredentials;
}

type PerObjectEffect = { [K in (typeof PER_OBJECT_KEYS)[number]]: (typeof OPTION_EFFECT)[K] };

/**
 * What a change of each option does to a prefix that was copied: `content` copies every object again, `selection`
 * changes which objects are taken or kept (the next run copies or prunes the difference), `tuning` writes nothing.
 */
export const PREFIX_OPTION_EFFECT = {
  ...(Object.fromEntries(PER_OBJECT_KEYS.map((k) => [k, OPTION_EFFECT[k]])) as PerObjectEffect),
  include: "selection",
  exclude: "selection",
  prune: "selection",
  concurrency: "tuning",
  engine: "tuning",
  batchRoleArn: "tuning",
} as const satisfies Record<keyof PrefixOptions, "content" | "selection" | "tuning">;

export const PREFIX_OPTION_KEYS = Object.keys(PREFIX_OPTION_EFFECT) as Array<keyof PrefixOptions>;
