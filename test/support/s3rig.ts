/**
 * Everything an S3 integration test needs: a real S3 server, a client for arranging and
 * inspecting it, Pulumi's real provider host, and the engine's call sequence on top.
 */
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import fs from "node:fs";
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type HeadObjectCommandOutput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { CopiedObject, codeOfMessage, type CopiedObjectArgs, type S3Locator } from "pulumi-copied-object";
import type * as pulumi from "@pulumi/pulumi";
import { MiniEngine } from "./engine.ts";
import { ProviderHost, registerUnderMocks, type Registration } from "./providerHost.ts";
import { s3Client, startS3Server, type S3Server } from "./s3server.ts";

/**
 * The checkout's root, found from the working directory (npm scripts and jest run there): this file then needs
 * neither import.meta nor __dirname, and loads alike as ESM (Node, for the demo and bench) and CommonJS (jest).
 */
export const repoRoot = findRepoRoot(process.cwd());

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    const ours = fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, "utf8")).name === "pulumi-copied-object";
    if (ours && fs.existsSync(path.join(dir, "test"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`run the tests from the checkout (no pulumi-copied-object checkout above ${from})`);
  }
}

export interface S3Rig {
  server: S3Server;
  s3: S3Client;
  host: ProviderHost;
  engine: MiniEngine;
  /** An s3 locator on the test server. */
  at(bucket: string, key: string, extra?: Partial<S3Locator>): { s3: S3Locator };
  bucket(opts?: { versioned?: boolean }): Promise<string>;
  put(bucket: string, key: string, body: Buffer | string, extra?: Partial<PutObjectCommandInput>): Promise<{ etag: string; versionId?: string }>;
  get(bucket: string, key: string, versionId?: string): Promise<Buffer>;
  head(bucket: string, key: string): Promise<HeadObjectCommandOutput>;
  exists(bucket: string, key: string): Promise<boolean>;
  tags(bucket: string, key: string): Promise<Record<string, string>>;
  uploads(bucket: string, key?: string): Promise<number>;
  versions(bucket: string, key: string): Promise<string[]>;
  register(args: CopiedObjectArgs, opts?: pulumi.CustomResourceOptions, name?: string): Promise<Registration>;
  stop(): Promise<void>;
}

export async function startS3Rig(opts: { cwd?: string; server?: S3Server } = {}): Promise<S3Rig> {
  const server = opts.server ?? (await startS3Server());
  const s3 = s3Client(server);
  // The provider finds credentials through the AWS default chain, as it would for a user.
  const host = await ProviderHost.start({
    cwd: opts.cwd ?? repoRoot,
    env: {
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
      AWS_REGION: server.region,
      AWS_EC2_METADATA_DISABLED: "true",
    },
  });
  await host.configure();
  const rig: S3Rig = {
    server,
    s3,
    host,
    engine: new MiniEngine(host),
    at: (bucket, key, extra = {}) => ({ s3: { bucket, key, endpoint: server.endpoint, forcePathStyle: true, ...extra } }),
    async bucket({ versioned = false } = {}) {
      const name = `t-${randomBytes(6).toString("hex")}`;
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      if (versioned) await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: "Enabled" } }));
      return name;
    },
    async put(bucket, key, body, extra = {}) {
      const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...extra }));
      return { etag: (out.ETag ?? "").replace(/"/g, ""), ...(out.VersionId && out.VersionId !== "null" ? { versionId: out.VersionId } : {}) };
    },
    async get(bucket, key, versionId) {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
      return Buffer.from(await out.Body!.transformToByteArray());
    },
    head: (bucket, key) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
    async exists(bucket, key) {
      try {
        await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (e) {
        if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
        throw e;
      }
    },
    async tags(bucket, key) {
      const out = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
      return Object.fromEntries((out.TagSet ?? []).map((t) => [t.Key!, t.Value!]));
    },
    async uploads(bucket, key) {
      const out = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
      return (out.Uploads ?? []).filter((u) => key === undefined || u.Key === key).length;
    },
    async versions(bucket, key) {
      const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
      return (out.Versions ?? []).filter((v) => v.Key === key).map((v) => v.VersionId!);
    },
    async register(args, resourceOpts, name = "copy") {
      const [reg] = await registerUnderMocks(() => new CopiedObject(name, args, resourceOpts));
      return reg;
    },
    async stop() {
      // A test may have swapped in a host of its own (after killing this one): stop whichever is current too.
      for (const h of new Set([host, rig.host])) await h.stop();
      if (!opts.server) await server.stop();
    },
  };
  return rig;
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The stable code of a CopyError whose message crossed the gRPC boundary. */
export function codeOf(error: unknown): string | undefined {
  return codeOfMessage((error as Error)?.message ?? "");
}
