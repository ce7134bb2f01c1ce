/**
 * The AWS SDK credential providers for an S3 side, built from awsAccess.ts's answer: static keys, a named
 * profile (fromIni, reading the stack's shared files), or the default chain; then each role assumed with
 * fromTemporaryCredentials on top of the one before. The providers cache and refresh what they obtain.
 */
import { fromIni, fromNodeProviderChain, fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import type { S3Access } from "../awsAccess";

/** Keys, or a provider of them (every from* function returns the same provider type). */
export type AwsCredentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | ReturnType<typeof fromIni>;

/** Undefined: let the client run the default chain itself. */
export function credentialsFor(access: S3Access): AwsCredentials | undefined {
  const files = {
    ...(access.credentialsFile ? { filepath: access.credentialsFile } : {}),
    ...(access.configFile ? { configFilepath: access.configFile } : {}),
  };
  const base = access.base;
  let credentials: AwsCredentials | undefined =
    base.kind === "static"
      ? {
          accessKeyId: base.accessKeyId,
          secretAccessKey: base.secretAccessKey,
          ...(base.sessionToken ? { sessionToken: base.sessionToken } : {}),
        }
      : base.kind === "profile"
        ? fromIni({ profile: base.profile, ...files })
        : Object.keys(files).length
          ? fromNodeProviderChain(files)
          : undefined;
  for (const role of access.roles) {
    credentials = fromTemporaryCredentials({
      ...(credentials ? { masterCredentials: credentials } : {}),
      params: {
        RoleArn: role.roleArn,
        RoleSessionName: role.sessionName ?? "pulumi-copied-object",
        ...(role.externalId ? { ExternalId: role.externalId } : {}),
        ...(role.durationSeconds ? { DurationSeconds: role.durationSeconds } : {}),
      },
      clientConfig: {
        region: access.region ?? "us-east-1",
        ...(access.stsEndpoint ? { endpoint: access.stsEndpoint } : {}),
      },
    });
  }
  return credentials;
}
