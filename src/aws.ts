/**
 * `pulumi-copied-object/aws`: locators from the @pulumi/aws resources a program already declares. Types only are
 * taken from @pulumi/aws (an optional peer dependency): nothing here loads it, and the core entry point and the
 * provider never import this file.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as aws from "@pulumi/aws";
import type { LocatorInput } from "./copiedObject";
import type { AssumeRole } from "./locators";

/** How to reach an object besides its bucket and key. Every field may be a `pulumi.Input`. */
export interface S3ObjectOptions {
  /** Source only: copy this version. */
  versionId?: pulumi.Input<string>;
  /**
   * Use this provider's account, as its resources do: its `region`, and its `accessKey`/`secretKey`/`token` when it
   * was given keys (kept secret), else its `profile`. An aws.Provider's `assumeRoles` cannot be read back: give
   * `assumeRole` here. @default the stack's `aws:*` config
   */
  provider?: aws.Provider;
  /** The bucket's region. @default the bucket resource's own region, else the provider's, else the stack's */
  region?: pulumi.Input<string>;
  /** A named profile of the shared AWS files (overrides the provider's). */
  profile?: pulumi.Input<string>;
  /** A role to assume for this side. */
  assumeRole?: pulumi.Input<AssumeRole>;
  /** An S3-compatible server. @default AWS */
  endpoint?: pulumi.Input<string>;
  /** Path-style addressing. @default true with an endpoint */
  forcePathStyle?: pulumi.Input<boolean>;
}

/**
 * An S3 object as a CopiedObject locator: a bucket resource (its name and region are read from it, and the copy
 * waits for it) or a bucket name, and a key.
 * @example new CopiedObject("seed", { source: s3Object("prod-seeds", "db.gz"), destination: s3Object(devBucket, "db.gz") })
 */
export function s3Object(
  bucket: aws.s3.Bucket | pulumi.Input<string>,
  key: pulumi.Input<string>,
  options: S3ObjectOptions = {},
): LocatorInput {
  const resource = isBucket(bucket) ? bucket : undefined;
  const { provider, versionId, region, profile, assumeRole, endpoint, forcePathStyle } = options;
  const keys = provider ? providerKeys(provider) : undefined;
  const body = {
    bucket: resource ? resource.bucket : (bucket as pulumi.Input<string>),
    key,
    ...(versionId !== undefined ? { versionId } : {}),
    ...regionOf(region, resource, provider),
    // A side's own profile and keys cannot both be given: keys win, as in aws.Provider.
    ...(profile !== undefined
      ? { profile }
      : provider
        ? { profile: pulumi.all([provider.profile, keys!]).apply(([p, k]) => (k ? undefined : p)) as pulumi.Output<string> }
        : {}),
    ...(assumeRole !== undefined ? { assumeRole } : {}),
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(forcePathStyle !== undefined ? { forcePathStyle } : {}),
    ...(keys && profile === undefined ? { credentials: keys } : {}),
  };
  return { s3: body } as LocatorInput;
}

function regionOf(region: S3ObjectOptions["region"], bucket: aws.s3.Bucket | undefined, provider: aws.Provider | undefined) {
  if (region !== undefined) return { region };
  const found = bucket?.region ?? provider?.region;
  return found ? { region: found as pulumi.Output<string> } : {};
}

/** The provider's static keys, secret, or undefined (as an Output) when it has none. */
function providerKeys(
  provider: aws.Provider,
): pulumi.Output<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined> {
  return pulumi.secret(
    pulumi
      .all([provider.accessKey, provider.secretKey, provider.token])
      .apply(([accessKeyId, secretAccessKey, token]) =>
        accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(token ? { sessionToken: token } : {}) } : undefined,
      ),
  );
}

/** Duck-typed, so that this module never loads @pulumi/aws. */
function isBucket(value: unknown): value is aws.s3.Bucket {
  return pulumi.CustomResource.isInstance(value) && pulumi.Output.isInstance((value as { bucket?: unknown }).bucket);
}
