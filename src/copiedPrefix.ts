import * as pulumi from "@pulumi/pulumi";
import type { AzureCredentials, S3Credentials } from "./locators";
import type { PrefixOptions } from "./prefixOptions";
import type { AzureBlobPrefixLocator, AzureFilePrefixLocator, S3PrefixLocator } from "./prefixLocators";
import { splitCredentials } from "./secretInputs";

type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };
type Kind = "s3" | "azureBlob" | "azureFile";
type Only<K extends Kind, T> = { [P in K]: T } & { [P in Exclude<Kind, K>]?: never };

/**
 * A whole prefix to copy from or to: exactly one of `s3` (bucket + prefix), `azureBlob` (container + prefix) or
 * `azureFile` (share + directory, walked recursively). The other fields are those of CopiedObject's locators.
 * @example { s3: { bucket: "prod-seeds", prefix: "fixtures/" } }
 */
export type PrefixLocatorInput =
  | Only<"s3", pulumi.Input<Inputs<Omit<S3PrefixLocator, "credentials">> & { credentials?: pulumi.Input<Inputs<S3Credentials>> }>>
  | Only<"azureBlob", pulumi.Input<Inputs<Omit<AzureBlobPrefixLocator, "credentials">> & { credentials?: pulumi.Input<AzureCredentials> }>>
  | Only<"azureFile", pulumi.Input<Inputs<Omit<AzureFilePrefixLocator, "credentials">> & { credentials?: pulumi.Input<AzureCredentials> }>>;

/**
 * The arguments of a CopiedPrefix.
 * @example
 * new CopiedPrefix("fixtures", {
 *   source: { s3: { bucket: "prod-seeds", prefix: "fixtures/" } },
 *   destination: { s3: { bucket: devBucket.bucket, prefix: "fixtures/" } },
 *   prune: true,
 * });
 */
export interface CopiedPrefixArgs extends Inputs<Omit<PrefixOptions, "metadata" | "tags" | "include" | "exclude">> {
  /** The objects to copy: everything under the prefix that the selection takes. */
  source: pulumi.Input<PrefixLocatorInput>;
  /** Where the copies go: the destination prefix followed by each key less the source prefix. Changing it replaces the resource. */
  destination: pulumi.Input<PrefixLocatorInput>;
  /** Globs (`path.matchesGlob`) on the key below the source prefix: a key is taken when it matches one. @default every key */
  include?: pulumi.Input<pulumi.Input<string>[]>;
  /** Globs on the key below the source prefix: a key that matches one is left out. */
  exclude?: pulumi.Input<pulumi.Input<string>[]>;
  /** Replaces every object's metadata. @default each source's */
  metadata?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Replaces every object's tags. @default each source's */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

const shim: pulumi.dynamic.ResourceProvider = {
  configure: (req) => require("pulumi-copied-object/dist/prefixProvider.js").configure(req),
  check: (olds, news) => require("pulumi-copied-object/dist/prefixProvider.js").check(olds, news),
  diff: (id, olds, news) => require("pulumi-copied-object/dist/prefixProvider.js").diff(id, olds, news),
  create: (inputs) => require("pulumi-copied-object/dist/prefixProvider.js").create(inputs),
  read: (id, props) => require("pulumi-copied-object/dist/prefixProvider.js").read(id, props),
  update: (id, olds, news) => require("pulumi-copied-object/dist/prefixProvider.js").update(id, olds, news),
  delete: (id, props) => require("pulumi-copied-object/dist/prefixProvider.js").delete(id, props),
};

/**
 * Every object under a prefix, container or directory, copied server-side object by object (the same copy as
 * CopiedObject's), kept in step on each up (only what is new or changed is copied; with `prune`, copies whose source
 * is gone are removed), and removed on destroy: exactly the objects and versions it wrote.
 */
export class CopiedPrefix extends pulumi.dynamic.Resource {
  /** Objects this resource holds at the destination. */
  declare public readonly objectCount: pulumi.Output<number>;
  /** Their total size in bytes. */
  declare public readonly totalBytes: pulumi.Output<number>;
  /** Objects the last run copied (new or changed). */
  declare public readonly copiedCount: pulumi.Output<number>;
  /** Objects the last run found selected and unchanged. */
  declare public readonly skippedCount: pulumi.Output<number>;
  /** Copies the last run removed because their source was gone (with `prune`). */
  declare public readonly removedCount: pulumi.Output<number>;
  /** sha256 of the manifest: the same objects copied from the same sources, the same digest. */
  declare public readonly manifestDigest: pulumi.Output<string>;
  /** `success`; after a run kept as a partial result, `failed` or `aborted` (the next up resumes it). */
  declare public readonly copyStatus: pulumi.Output<"success" | "failed" | "aborted">;
  /** Which engine ran the last copy: `provider` or `s3-batch`. */
  declare public readonly engine: pulumi.Output<string>;
  /** How long the last run took, in milliseconds. */
  declare public readonly durationMs: pulumi.Output<number>;

  constructor(name: string, args: CopiedPrefixArgs, opts?: pulumi.CustomResourceOptions) {
    const source = splitCredentials(args?.source);
    const destination = splitCredentials(args?.destination);
    const secretOutputs = ["args", "sourceCredentials", "destinationCredentials"];
    super(
      shim,
      name,
      {
        objectCount: undefined,
        totalBytes: undefined,
        copiedCount: undefined,
        skippedCount: undefined,
        removedCount: undefined,
        manifestDigest: undefined,
        copyStatus: undefined,
        durationMs: undefined,
        ...args,
        engine: args?.engine,
        source: source.locator,
        destination: destination.locator,
        sourceCredentials: source.credentials,
        destinationCredentials: destination.credentials,
      },
      { ...opts, additionalSecretOutputs: [...new Set([...(opts?.additionalSecretOutputs ?? []), ...secretOutputs])] },
      "pulumi-copied-object",
      "CopiedPrefix",
    );
  }
}
