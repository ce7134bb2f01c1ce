/**
 * The stack's configuration as @pulumi/aws and @pulumi/azure-native read it (`aws:region`, `aws:profile`,
 * `azure-native:clientId`, …), parsed once when the engine configures the provider. Pure. Values are the
 * user's stack config: they live in the provider process only, never in the state, and a malformed one is
 * reported by key, never echoed (some are secrets).
 */

import type { AssumeRole } from "./locators";

export type { AssumeRole };

export interface AwsConfig {
  region?: string;
  profile?: string;
  sharedCredentialsFiles?: string[];
  sharedConfigFiles?: string[];
  accessKey?: string;
  secretKey?: string;
  token?: string;
  /** Assumed in order, each with the credentials of the one before (a role chain). */
  assumeRoles: AssumeRole[];
  /**
   * `aws:endpoints`' S3, STS and S3 Control entries (LocalStack and other S3-compatible stacks set them; S3 Control
   * is where `engine: "s3-batch"` creates its jobs).
   */
  endpoints: { s3?: string; sts?: string; s3control?: string };
  s3UsePathStyle?: boolean;
}

/** The azure-native settings that choose an Azure AD identity and a cloud. */
export interface AzureConfig {
  clientId?: string;
  clientSecret?: string;
  tenantId?: string;
  useMsi?: boolean;
  useOidc?: boolean;
  oidcToken?: string;
  oidcTokenFilePath?: string;
  oidcRequestUrl?: string;
  oidcRequestToken?: string;
  /** `public`, `usgovernment` or `china`. */
  environment?: string;
}

export interface StackConfig {
  aws: AwsConfig;
  azure: AzureConfig;
  /** Keys whose value could not be read, each with why (never the value). */
  problems: Array<{ key: string; reason: string }>;
}

export const EMPTY_STACK_CONFIG: StackConfig = Object.freeze({ aws: { assumeRoles: [], endpoints: {} }, azure: {}, problems: [] });

/** The clouds azure-native knows, with their endpoint suffix and Azure AD authority. */
export const AZURE_CLOUDS: Record<string, { suffix: string; authorityHost: string }> = {
  public: { suffix: "core.windows.net", authorityHost: "https://login.microsoftonline.com" },
  usgovernment: { suffix: "core.usgovcloudapi.net", authorityHost: "https://login.microsoftonline.us" },
  china: { suffix: "core.chinacloudapi.cn", authorityHost: "https://login.chinacloudapi.cn" },
};

/** `get` is the configure request's `config.get`: full keys (`aws:region`), values as the engine sends them. */
export function readStackConfig(get: (key: string) => unknown): StackConfig {
  const problems: StackConfig["problems"] = [];
  const text = (key: string): string | undefined => {
    const value = get(key);
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    problems.push({ key, reason: "must be a string" });
    return undefined;
  };
  const flag = (key: string): boolean | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    if (/^(true|false)$/i.test(value)) return /^true$/i.test(value);
    problems.push({ key, reason: "must be true or false" });
    return undefined;
  };
  // Structured config arrives as JSON text (as pulumi.Config.getObject reads it) or already parsed.
  const structured = (key: string): unknown => {
    const value = get(key);
    if (typeof value !== "string") return value ?? undefined;
    try {
      return JSON.parse(value);
    } catch {
      problems.push({ key, reason: "is not valid JSON" });
      return undefined;
    }
  };
  const strings = (key: string): string[] | undefined => {
    const value = structured(key);
    if (value === undefined || value === null) return undefined;
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.length ? value : undefined;
    problems.push({ key, reason: "must be a list of paths" });
    return undefined;
  };
  const environment = text("azure-native:environment")?.toLowerCase();
  if (environment !== undefined && !AZURE_CLOUDS[environment])
    problems.push({ key: "azure-native:environment", reason: `must be one of ${Object.keys(AZURE_CLOUDS).join(", ")}` });
  return {
    aws: {
      region: text("aws:region"),
      profile: text("aws:profile"),
      sharedCredentialsFiles: strings("aws:sharedCredentialsFiles"),
      sharedConfigFiles: strings("aws:sharedConfigFiles"),
      accessKey: text("aws:accessKey"),
      secretKey: text("aws:secretKey"),
      token: text("aws:token"),
      assumeRoles: [
        ...roles(structured("aws:assumeRoles"), "aws:assumeRoles", problems),
        ...roles(structured("aws:assumeRole"), "aws:assumeRole", problems),
      ],
      endpoints: endpoints(structured("aws:endpoints"), problems),
      s3UsePathStyle: flag("aws:s3UsePathStyle"),
    },
    azure: {
      clientId: text("azure-native:clientId"),
      clientSecret: text("azure-native:clientSecret"),
      tenantId: text("azure-native:tenantId"),
      useMsi: flag("azure-native:useMsi"),
      useOidc: flag("azure-native:useOidc"),
      oidcToken: text("azure-native:oidcToken"),
      oidcTokenFilePath: text("azure-native:oidcTokenFilePath"),
      oidcRequestUrl: text("azure-native:oidcRequestUrl"),
      oidcRequestToken: text("azure-native:oidcRequestToken"),
      environment: environment && AZURE_CLOUDS[environment] ? environment : undefined,
    },
    problems,
  };
}

/** `aws:assumeRoles` is a list; the older `aws:assumeRole` one object. Both spell the fields alike. */
function roles(value: unknown, key: string, problems: StackConfig["problems"]): AssumeRole[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  const out: AssumeRole[] = [];
  list.forEach((item, i) => {
    const at = Array.isArray(value) ? `${key}[${i}]` : key;
    if (typeof item !== "object" || item === null) return void problems.push({ key: at, reason: "must be an object with roleArn" });
    const role = item as Record<string, unknown>;
    // An entry without a role is how an empty block in YAML arrives: nothing to assume.
    if (role.roleArn === undefined || role.roleArn === "") return;
    if (typeof role.roleArn !== "string" || !/^arn:[^:]+:iam::\d{12}:role\/.+/.test(role.roleArn))
      return void problems.push({ key: `${at}.roleArn`, reason: "must be a role ARN (arn:aws:iam::123456789012:role/name)" });
    const durationSeconds = role.duration === undefined || role.duration === "" ? undefined : seconds(role.duration);
    if (durationSeconds === null) return void problems.push({ key: `${at}.duration`, reason: 'must be a duration such as "1h" or "15m"' });
    out.push({
      roleArn: role.roleArn,
      ...(typeof role.sessionName === "string" && role.sessionName ? { sessionName: role.sessionName } : {}),
      ...(typeof role.externalId === "string" && role.externalId ? { externalId: role.externalId } : {}),
      ...(durationSeconds ? { durationSeconds } : {}),
    });
  });
  return out;
}

/** `aws:endpoints` is a list of objects keyed by service; only s3, sts and s3control matter here. */
function endpoints(value: unknown, problems: StackConfig["problems"]): AwsConfig["endpoints"] {
  if (value === undefined || value === null) return {};
  const out: AwsConfig["endpoints"] = {};
  for (const entry of Array.isArray(value) ? value : [value]) {
    if (typeof entry !== "object" || entry === null) {
      problems.push({ key: "aws:endpoints", reason: "must be a list of objects such as [{ s3: 'http://…' }]" });
      continue;
    }
    for (const service of ["s3", "sts", "s3control"] as const) {
      const url = (entry as Record<string, unknown>)[service];
      if (url === undefined || url === "") continue;
      if (typeof url !== "string" || !/^https?:\/\/[^/]/i.test(url))
        problems.push({ key: `aws:endpoints.${service}`, reason: "must be an http(s) URL" });
      else out[service] = url;
    }
  }
  return out;
}

/** A Go duration ("1h", "15m", "1h30m", "900s") or a number of seconds; null when malformed. */
function seconds(value: unknown): number | null {
  if (typeof value === "number") return value > 0 ? value : null;
  if (typeof value !== "string") return null;
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)];
  if (!parts.length || parts.map((p) => p[0]).join("") !== value) return /^\d+$/.test(value) ? Number(value) : null;
  return Math.round(parts.reduce((sum, [, n, unit]) => sum + Number(n) * (unit === "h" ? 3600 : unit === "m" ? 60 : 1), 0));
}

/** Whether any key the package reads for this cloud is set: then an old state's shim, which never gets the config, matters. */
export function configures(config: StackConfig, cloud: "aws" | "azure"): boolean {
  const section = config[cloud] as unknown as Record<string, unknown>;
  return Object.values(section).some((v) =>
    Array.isArray(v) ? v.length > 0 : typeof v === "object" && v ? Object.keys(v).length > 0 : v !== undefined,
  );
}
