/**
 * Which object a locator names: one canonical form per kind. This module is the only place that
 * decides "same object": check's self-copy rules, diff's replace decision, the resource id, the
 * versions kept across updates, and the service a copy needs all ask it. Pure.
 *
 * Different bucket, key, container, blob, share, path or service means a different object; every
 * other difference is a respelling of the same object. Where a spelling cannot be resolved, the
 * answer errs towards "different": a replace is safe (delete removes only what it wrote, see
 * pipeline.ts), while calling two objects the same would skip a copy.
 */
import type { Ambient } from "./ambient";
import { resolveS3Access } from "./awsAccess";
import { resolveAzureAccount, type AzureService } from "./azureAccount";
import { containsUnknown } from "./checks";
import type { AzureCredentials, Locator, LocatorKind, S3Credentials, S3Locator } from "./locators";

export interface ObjectIdentity {
  kind: LocatorKind;
  /**
   * The service holding it: an AWS partition (`aws`, `aws-cn`, `aws-us-gov`, …) for AWS S3, whatever the
   * region or endpoint spelling; the canonical endpoint of any other S3 server; the account's canonical
   * service URL on Azure; `scheme://host[:port]` for a URL.
   */
  service: string;
  /** Bucket, container or share; empty for a URL. */
  container: string;
  /** Key or blob name as stored; a Files path without its leading `/` and in lower case (Azure Files ignores case); a URL's path. */
  name: string;
  /** A source's pinned version, snapshot or share snapshot. */
  version?: string;
}

/** The identity of a locator, or undefined while any part of it is unknown (during preview) or malformed (check says why). */
export function identityOf(locator: Locator, credentials: unknown, ambient: Ambient): ObjectIdentity | undefined {
  if (containsUnknown(locator) || containsUnknown(credentials)) return undefined;
  try {
    return identify(locator, credentials, ambient);
  } catch {
    return undefined;
  }
}

function identify(locator: Locator, credentials: unknown, ambient: Ambient): ObjectIdentity {
  if ("s3" in locator) {
    const { bucket, key, versionId } = locator.s3;
    // The endpoint and region the client will use, stack config and environment included.
    const service = s3Service(resolveS3Access(locator.s3, credentials as S3Credentials | undefined, ambient));
    return { kind: "s3", service, container: bucket, name: key, ...(versionId ? { version: versionId } : {}) };
  }
  if ("azureBlob" in locator) {
    const { container, blob, snapshot, versionId } = locator.azureBlob;
    const service = azureService(locator.azureBlob, credentials, ambient, "blob");
    const version = snapshot ? `snapshot=${snapshot}` : versionId ? `versionid=${versionId}` : undefined;
    return { kind: "azureBlob", service, container, name: blob, ...(version ? { version } : {}) };
  }
  if ("azureFile" in locator) {
    const { share, path, shareSnapshot } = locator.azureFile;
    const service = azureService(locator.azureFile, credentials, ambient, "file");
    return {
      kind: "azureFile",
      service,
      container: share,
      name: path.replace(/^\/+/, "").toLowerCase(),
      ...(shareSnapshot ? { version: shareSnapshot } : {}),
    };
  }
  const url = new URL(locator.url);
  return { kind: "url", service: `${url.protocol}//${url.host}`, container: "", name: url.pathname };
}

/** The same object, and the same pinned version of it. */
export function sameObject(a: ObjectIdentity | undefined, b: ObjectIdentity | undefined): boolean {
  return !!a && !!b && sameBase(a, b) && a.version === b.version;
}

/** The same object, whatever version of it is pinned. */
export function sameBase(a: ObjectIdentity | undefined, b: ObjectIdentity | undefined): boolean {
  return !!a && !!b && a.kind === b.kind && a.service === b.service && a.container === b.container && a.name === b.name;
}

/** Both on one service, so that the service can copy between them itself. */
export function sameService(a: ObjectIdentity | undefined, b: ObjectIdentity | undefined): boolean {
  return !!a && !!b && a.kind === b.kind && a.service === b.service;
}

/**
 * The resource id: readable, and one string per object. `s3://bucket/key` on AWS (as 0.1.0 wrote it);
 * `s3+<endpoint>/bucket/key` on other S3 servers; the object's URL on Azure. Nothing parses it.
 */
export function objectId(id: ObjectIdentity): string {
  switch (id.kind) {
    case "s3":
      if (id.service === "aws") return `s3://${id.container}/${id.name}`;
      return id.service.includes("://") ? `s3+${id.service}/${id.container}/${id.name}` : `s3+${id.service}://${id.container}/${id.name}`;
    case "azureBlob":
    case "azureFile":
      return `${id.service}/${id.container}/${id.name}`;
    case "url":
      return `${id.service}${id.name}`;
  }
}

/** A readable name for a service in messages, e.g. "AWS S3" or "http://127.0.0.1:9000". */
export function serviceLabel(id: ObjectIdentity): string {
  if (id.kind === "s3" && !id.service.includes("://")) return id.service === "aws" ? "AWS S3" : `AWS S3 (${id.service} partition)`;
  return id.service;
}

/** AWS names buckets uniquely per partition, so every AWS endpoint and region of one partition is one service. */
export function s3Service(location: Pick<S3Locator, "endpoint" | "region">): string {
  if (!location.endpoint) return partitionOf(location.region);
  let url: URL;
  try {
    url = new URL(location.endpoint);
  } catch {
    return location.endpoint;
  }
  const host = url.hostname.toLowerCase();
  if (host.endsWith(".amazonaws.com.cn")) return "aws-cn";
  if (host === "amazonaws.com" || host.endsWith(".amazonaws.com")) return host.includes("us-gov-") ? "aws-us-gov" : "aws";
  // URL has already dropped a default port and lowered the scheme and host; only the trailing slash is left.
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}

/** True when the locator's S3 service is AWS itself, in any partition. */
export function isAwsService(service: string): boolean {
  return !service.includes("://");
}

function partitionOf(region: string | undefined): string {
  const prefixes: Array<[string, string]> = [
    ["cn-", "aws-cn"],
    ["us-gov-", "aws-us-gov"],
    ["us-isob-", "aws-iso-b"],
    ["us-isof-", "aws-iso-f"],
    ["eu-isoe-", "aws-iso-e"],
    ["us-iso-", "aws-iso"],
  ];
  return prefixes.find(([prefix]) => region?.startsWith(prefix))?.[1] ?? "aws";
}

function azureService(
  fields: { accountUrl?: string; account?: string },
  credentials: unknown,
  ambient: Ambient,
  service: AzureService,
): string {
  const resolved = resolveAzureAccount(fields, credentials as AzureCredentials | undefined, ambient, service);
  // Unresolvable (no account anywhere): the copy will fail to find one; compare what was written.
  return resolved?.url ?? `unresolved-${service}:${fields.accountUrl ?? fields.account ?? ""}`;
}
