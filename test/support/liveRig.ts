/**
 * What a live test needs: clients for the real bucket and container (to arrange and inspect, with the same
 * credential chains the provider uses), and Pulumi's real provider host with the engine's call order on top.
 *
 * Every key and blob name a test uses goes through `key()` / `name()`, so nothing is written outside
 * `<run prefix><area>/`, and `stop()` sweeps that area whatever the tests did.
 */
import { createHash } from "node:crypto";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type HeadObjectCommandOutput, type PutObjectCommandInput, type S3Client } from "@aws-sdk/client-s3";
import type { ContainerClient } from "@azure/storage-blob";
import type * as pulumi from "@pulumi/pulumi";
import { CopiedObject, type CopiedObjectArgs, type S3Locator } from "pulumi-copied-object";
import { MiniEngine } from "./engine.ts";
import { ProviderHost, registerUnderMocks, type Registration } from "./providerHost.ts";
import { repoRoot } from "./s3rig.ts";
import { isSkipped, liveContainerClient, liveS3Client, type LiveAzureTarget, type LiveRun, type LiveS3Target } from "./liveTargets.ts";
import { listS3, sweepAzure, sweepS3 } from "./liveSweep.ts";
import { diagnostic } from "./testing.ts";

export interface LiveS3 {
  target: LiveS3Target;
  client: S3Client;
  /** The bucket is versioned (GetBucketVersioning said Enabled). */
  versioned: boolean;
  /** The full key of a test's object name, under the area. */
  key(name: string): string;
  at(name: string, extra?: Partial<S3Locator>): { s3: S3Locator };
  put(name: string, body: Buffer | string, extra?: Partial<PutObjectCommandInput>): Promise<{ etag: string; versionId?: string }>;
  get(name: string, versionId?: string): Promise<Buffer>;
  head(name: string): Promise<HeadObjectCommandOutput>;
  exists(name: string): Promise<boolean>;
  /** Version ids of exactly this key, newest first (delete markers apart). */
  versions(name: string): Promise<{ versions: string[]; deleteMarkers: string[] }>;
  /** Multipart uploads under the area (or under `name` when given). */
  uploads(name?: string): Promise<number>;
}

export interface LiveAzure {
  target: LiveAzureTarget;
  container: ContainerClient;
  name(blob: string): string;
  at(blob: string, extra?: Record<string, unknown>): { azureBlob: { container: string; blob: string } & Record<string, unknown> };
  put(blob: string, body: Buffer | string, options?: { metadata?: Record<string, string>; contentType?: string }): Promise<{ etag: string }>;
  get(blob: string): Promise<Buffer>;
  exists(blob: string): Promise<boolean>;
}

export interface LiveRig {
  run: LiveRun;
  /** `<run prefix><area>/`: everything this rig's tests write. */
  area: string;
  host: ProviderHost;
  engine: MiniEngine;
  s3?: LiveS3;
  azure?: LiveAzure;
  register(args: CopiedObjectArgs, opts?: pulumi.CustomResourceOptions, name?: string): Promise<Registration>;
  /** Sweeps the area on every configured store (throwing if anything is left), then stops the host. */
  stop(): Promise<void>;
}

/** A rig for the tests of one area, on those of `stores` that are configured. */
export async function startLiveRig(run: LiveRun, area: string, stores: Array<"s3" | "azure">): Promise<LiveRig> {
  const prefix = `${run.prefix}${area}/`;
  const s3 = isSkipped(run.s3) || !stores.includes("s3") ? undefined : s3Side(run.s3, prefix);
  const azure = isSkipped(run.azure) || !stores.includes("azure") ? undefined : azureSide(run.azure, prefix);
  // The provider finds its credentials where Pulumi runs: this process's environment, as a user's would.
  const host = await ProviderHost.start({ cwd: repoRoot, callTimeoutMs: 600_000 });
  await host.configure();
  return {
    run,
    area: prefix,
    host,
    engine: new MiniEngine(host),
    ...(s3 ? { s3 } : {}),
    ...(azure ? { azure } : {}),
    async register(args, opts, name = "copy") {
      const [reg] = await registerUnderMocks(() => new CopiedObject(name, args, opts));
      return reg;
    },
    async stop() {
      const failures: unknown[] = [];
      try {
        if (s3) diagnostic(`cleanup: ${await sweepS3(s3.client, s3.target, prefix)} object version(s) and upload(s) removed under s3://${s3.target.bucket}/${prefix}; none left`);
      } catch (e) {
        failures.push(e);
      }
      try {
        if (azure) diagnostic(`cleanup: ${await sweepAzure(azure.container, prefix)} blob(s) removed under ${azure.target.url}/${azure.target.container}/${prefix}; none left`);
      } catch (e) {
        failures.push(e);
      }
      await host.stop();
      s3?.client.destroy();
      if (failures.length) throw failures.length === 1 ? failures[0] : new AggregateError(failures, "cleanup failed");
    },
  };
}

function s3Side(target: LiveS3Target, prefix: string): LiveS3 {
  const client = liveS3Client(target);
  const Bucket = target.bucket;
  const key = (name: string) => `${prefix}${name}`;
  return {
    target,
    client,
    versioned: target.versioning === "Enabled",
    key,
    at: (name, extra = {}) => ({
      s3: { bucket: Bucket, key: key(name), region: target.region, ...(target.endpoint ? { endpoint: target.endpoint, forcePathStyle: true } : {}), ...extra },
    }),
    async put(name, body, extra = {}) {
      const out = await client.send(new PutObjectCommand({ Bucket, Key: key(name), Body: body, ...extra }));
      return { etag: unquote(out.ETag), ...(out.VersionId && out.VersionId !== "null" ? { versionId: out.VersionId } : {}) };
    },
    async get(name, versionId) {
      const out = await client.send(new GetObjectCommand({ Bucket, Key: key(name), VersionId: versionId }));
      return Buffer.from(await out.Body!.transformToByteArray());
    },
    head: (name) => client.send(new HeadObjectCommand({ Bucket, Key: key(name) })),
    async exists(name) {
      try {
        await client.send(new HeadObjectCommand({ Bucket, Key: key(name) }));
        return true;
      } catch (e) {
        if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
        throw e;
      }
    },
    async versions(name) {
      const found = await listS3(client, target, key(name));
      const mine = found.versions.filter((v) => v.key === key(name));
      return { versions: mine.filter((v) => !v.deleteMarker).map((v) => v.versionId!), deleteMarkers: mine.filter((v) => v.deleteMarker).map((v) => v.versionId!) };
    },
    async uploads(name) {
      const found = await listS3(client, target, name === undefined ? prefix : key(name));
      return found.uploads.filter((u) => name === undefined || u.key === key(name)).length;
    },
  };
}

function azureSide(target: LiveAzureTarget, prefix: string): LiveAzure {
  const container = liveContainerClient(target);
  const name = (blob: string) => `${prefix}${blob}`;
  return {
    target,
    container,
    name,
    at: (blob, extra = {}) => ({ azureBlob: { ...target.named, container: target.container, blob: name(blob), ...extra } }),
    async put(blob, body, options = {}) {
      const out = await container.getBlockBlobClient(name(blob)).upload(body, Buffer.byteLength(body), {
        metadata: options.metadata,
        blobHTTPHeaders: { blobContentType: options.contentType },
      });
      return { etag: unquote(out.etag) };
    },
    get: (blob) => container.getBlobClient(name(blob)).downloadToBuffer(),
    exists: (blob) => container.getBlobClient(name(blob)).exists(),
  };
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function unquote(etag: string | undefined): string {
  return (etag ?? "").replace(/"/g, "");
}
