/**
 * Which endpoint, region and credentials one S3 side of a copy uses. Pure: the S3 store builds its SDK
 * client from this answer and identity.ts names the object by it, so the two cannot disagree. The order,
 * for each setting: the locator's own fields, then its explicit credentials, then the stack's `aws:*`
 * config, then the environment and the AWS SDK's default chain.
 */
import type { Ambient } from "./ambient";
import type { S3Credentials, S3Locator } from "./locators";
import type { AssumeRole } from "./stackConfig";

/** Where the credentials a side starts from come from. */
export type AwsBase =
  | { kind: "static"; accessKeyId: string; secretAccessKey: string; sessionToken?: string; from: "locator" | "stack" }
  | { kind: "profile"; profile: string; from: "locator" | "stack" }
  /** The SDK's default chain: environment variables, AWS_PROFILE, SSO, web identity, container and instance roles. */
  | { kind: "chain" };

export interface S3Access {
  /** Undefined: the SDK finds it (the profile's region), else `fallbackRegion`. */
  region?: string;
  /** With a custom endpoint, a region no setting gives: S3-compatible servers ignore it, but SigV4 needs one. */
  fallbackRegion?: string;
  /** Undefined: AWS itself. */
  endpoint?: string;
  forcePathStyle?: boolean;
  base: AwsBase;
  /** Assumed in order on top of `base`, each with the credentials of the one before. */
  roles: AssumeRole[];
  /** Where the roles are assumed (`aws:endpoints` sts). */
  stsEndpoint?: string;
  /** The shared files the stack config names, for profiles and the chain; undefined: the SDK's defaults. */
  credentialsFile?: string;
  configFile?: string;
  /** Where the roles came from, for messages. */
  rolesFrom?: "locator" | "stack";
}

export function resolveS3Access(location: S3Locator, credentials: S3Credentials | undefined, ambient: Ambient): S3Access {
  const { env } = ambient;
  const aws = ambient.config.aws;
  const endpoint = location.endpoint ?? aws.endpoints.s3 ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const region = location.region || aws.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  const own: AwsBase | undefined = credentials
    ? { kind: "static", ...pick(credentials), from: "locator" }
    : location.profile
      ? { kind: "profile", profile: location.profile, from: "locator" }
      : undefined;
  const stack: AwsBase | undefined =
    aws.accessKey && aws.secretKey
      ? {
          kind: "static",
          accessKeyId: aws.accessKey,
          secretAccessKey: aws.secretKey,
          ...(aws.token ? { sessionToken: aws.token } : {}),
          from: "stack",
        }
      : aws.profile
        ? { kind: "profile", profile: aws.profile, from: "stack" }
        : undefined;
  // A side's own role replaces the stack's chain; a side's own credentials leave the stack's roles out.
  const roles = location.assumeRole ? [location.assumeRole] : own ? [] : aws.assumeRoles;
  return {
    ...(region ? { region } : {}),
    ...(!region && endpoint ? { fallbackRegion: "us-east-1" } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(location.forcePathStyle !== undefined || aws.s3UsePathStyle !== undefined || endpoint
      ? { forcePathStyle: location.forcePathStyle ?? aws.s3UsePathStyle ?? true }
      : {}),
    base: own ?? stack ?? { kind: "chain" },
    roles,
    ...(roles.length ? { rolesFrom: location.assumeRole ? ("locator" as const) : ("stack" as const) } : {}),
    ...(roles.length && aws.endpoints.sts ? { stsEndpoint: aws.endpoints.sts } : {}),
    ...(aws.sharedCredentialsFiles?.length ? { credentialsFile: aws.sharedCredentialsFiles[0] } : {}),
    ...(aws.sharedConfigFiles?.length ? { configFile: aws.sharedConfigFiles[0] } : {}),
  };
}

/** A copy of the fields only: the SDK marks the object it is given, and ours goes back into state. */
function pick(c: S3Credentials): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } {
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) };
}

/** Which credentials a side used, in words, for errors: names keys and profiles, never a secret. */
export function describeS3Access(access: S3Access, side: "source" | "destination"): string {
  const base = access.base;
  const from =
    base.kind === "static"
      ? base.from === "locator"
        ? `${side}.s3.credentials`
        : "the stack's aws:accessKey"
      : base.kind === "profile"
        ? `profile "${base.profile}" (${base.from === "locator" ? `${side}.s3.profile` : "the stack's aws:profile"})`
        : "the AWS default chain (environment, AWS_PROFILE, SSO, instance or container role)";
  const roles = access.roles.map((r) => r.roleArn).join(" then ");
  const where = access.rolesFrom === "locator" ? `${side}.s3.assumeRole` : "the stack's aws:assumeRoles";
  return roles ? `role ${roles} (${where}), assumed with ${from}` : from;
}
