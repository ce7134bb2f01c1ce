import * as pulumi from "@pulumi/pulumi";
import { splitCredentials } from "./secretInputs";
import type { AzureBlobLocator, AzureCredentials, AzureFileLocator, CopyOptions, S3Credentials, S3Locator } from "./args";

type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };
type Kind = "s3" | "azureBlob" | "azureFile" | "url";
/** Exactly one key: the others are `never`, so that `{ s3, url }` together does not compile. */
type Only<K extends Kind, T> = { [P in K]: T } & { [P in Exclude<Kind, K>]?: never };

/**
 * Where to copy from or to: exactly one of `s3`, `azureBlob`, `azureFile` or (a source only) `url`. Every field
 * may be a `pulumi.Input`; `credentials` are always kept secret, and a URL's query (it may carry a signature) too.
 * @example { s3: { bucket: "prod-seeds", key: "db/seed.sql.gz" } }
 * @example { azureBlob: { account: "prodacct", container: "seeds", blob: "db.bak", credentials: { accountKey } } }
 * @example { url: "https://example.com/seed.sql.gz" }
 */
export type LocatorInput =
  | Only<"s3", pulumi.Input<Inputs<Omit<S3Locator, "credentials">> & { credentials?: pulumi.Input<Inputs<S3Credentials>> }>>
  | Only<"azureBlob", pulumi.Input<Inputs<Omit<AzureBlobLocator, "credentials">> & { credentials?: pulumi.Input<AzureCredentials> }>>
  | Only<"azureFile", pulumi.Input<Inputs<Omit<AzureFileLocator, "credentials">> & { credentials?: pulumi.Input<AzureCredentials> }>>
  | Only<"url", pulumi.Input<string>>;

/**
 * The arguments of a CopiedObject. See the README for every option's behaviour per store.
 * @example
 * new CopiedObject("seed", {
 *   source: { s3: { bucket: "prod-seeds", key: "db/seed.sql.gz" } },
 *   destination: { s3: { bucket: devBucket.bucket, key: "seed.sql.gz" } },
 * });
 */
export interface CopiedObjectArgs extends Inputs<Omit<CopyOptions, "metadata" | "tags">> {
  /** The object to copy. A `versionId` pins one version (e.g. to promote it over the current one). */
  source: pulumi.Input<LocatorInput>;
  /** Where the copy is written. Changing it replaces the resource. */
  destination: pulumi.Input<LocatorInput>;
  /** Replaces the source's user metadata. @default the source's metadata */
  metadata?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Replaces the source's tags. @default the source's tags */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * The provider as it is serialized into the state. It captures nothing and requires the
 * installed package by name inside each method, so that old state runs current code and
 * no SDK client or credential is ever serialized.
 */
const shim: pulumi.dynamic.ResourceProvider = {
  configure: (req) => require("pulumi-copied-object/dist/provider.js").configure(req),
  check: (olds, news) => require("pulumi-copied-object/dist/provider.js").check(olds, news),
  diff: (id, olds, news) => require("pulumi-copied-object/dist/provider.js").diff(id, olds, news),
  create: (inputs) => require("pulumi-copied-object/dist/provider.js").create(inputs),
  read: (id, props) => require("pulumi-copied-object/dist/provider.js").read(id, props),
  update: (id, olds, news) => require("pulumi-copied-object/dist/provider.js").update(id, olds, news),
  delete: (id, props) => require("pulumi-copied-object/dist/provider.js").delete(id, props),
};

/**
 * A server-side copy of one stored object, waited for, aborted on cancel or timeout,
 * and re-copied when its source changes.
 */
export class CopiedObject extends pulumi.dynamic.Resource {
  /** The destination's ETag, unquoted. */
  declare public readonly etag: pulumi.Output<string>;
  /** The destination's version id; undefined when the bucket is not versioned. */
  declare public readonly versionId: pulumi.Output<string | undefined>;
  /** The source ETag that was copied. */
  declare public readonly sourceEtag: pulumi.Output<string>;
  /** The source version that was copied, when the source is versioned. */
  declare public readonly sourceVersionId: pulumi.Output<string | undefined>;
  /** The destination's size in bytes. */
  declare public readonly contentLength: pulumi.Output<number>;
  /** When the destination was last written, as an ISO 8601 string. */
  declare public readonly lastModified: pulumi.Output<string | undefined>;
  /** The remote copy's id (Azure only). */
  declare public readonly copyId: pulumi.Output<string | undefined>;
  /**
   * `success`; after a failed or interrupted copy kept as a partial result, `failed` or `aborted`, or `pending` when
   * the remote copy could not be aborted and may still be running (the next up copies again; destroy aborts it).
   */
  declare public readonly copyStatus: pulumi.Output<"success" | "pending" | "failed" | "aborted">;
  /** The path taken: `copy` or `multipart` (S3), `copy`, `sync` or `blocks` (Azure Blob), `copy` (Azure Files), or `stream`. */
  declare public readonly strategy: pulumi.Output<string>;
  /** How long the copy took, in milliseconds. */
  declare public readonly durationMs: pulumi.Output<number>;

  constructor(name: string, args: CopiedObjectArgs, opts?: pulumi.CustomResourceOptions) {
    const source = splitCredentials(args?.source);
    const destination = splitCredentials(args?.destination);
    // `args` nests every input, and the engine re-marks only top-level outputs named like a secret input:
    // it is encrypted whole, so that a secret nested in it (metadata, tags, a locator) never sits in state in plaintext.
    const secretOutputs = ["args", "sourceCredentials", "destinationCredentials"];
    super(
      shim,
      name,
      {
        // Output placeholders first: `sourceEtag` and `strategy` are inputs too, and the user's win.
        etag: undefined,
        versionId: undefined,
        sourceEtag: undefined,
        sourceVersionId: undefined,
        contentLength: undefined,
        lastModified: undefined,
        copyId: undefined,
        copyStatus: undefined,
        strategy: undefined,
        durationMs: undefined,
        ...args,
        source: source.locator,
        destination: destination.locator,
        sourceCredentials: source.credentials,
        destinationCredentials: destination.credentials,
      },
      { ...opts, additionalSecretOutputs: [...new Set([...(opts?.additionalSecretOutputs ?? []), ...secretOutputs])] },
      "pulumi-copied-object",
      "CopiedObject",
    );
  }
}
