/**
 * What an Azure Blob integration test needs: Azurite with two accounts, optionally the scripted
 * pending-copy proxy in front of it, Pulumi's real provider host, and the engine's call order.
 */
import type { BlobServiceClient } from "@azure/storage-blob";
import { randomBytes } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { CopiedObject, type CopiedObjectArgs } from "pulumi-copied-object";
import { blobService, startAzurite, type Azurite, type AzuriteAccount } from "./azurite.ts";
import { MiniEngine } from "./engine.ts";
import { ProviderHost, registerUnderMocks, type Registration } from "./providerHost.ts";
import { repoRoot } from "./s3rig.ts";

export interface AzureRig {
  azurite: Azurite;
  host: ProviderHost;
  engine: MiniEngine;
  /** A blob locator on an account, addressed through `endpoint` (e.g. the proxy) when given. */
  at(account: AzuriteAccount, container: string, blob: string, extra?: Record<string, unknown>, endpoint?: string): { azureBlob: Record<string, unknown> & { container: string; blob: string } };
  service(account: AzuriteAccount, endpoint?: string): BlobServiceClient;
  container(account: AzuriteAccount): Promise<string>;
  put(account: AzuriteAccount, container: string, blob: string, body: string | Buffer, options?: { metadata?: Record<string, string>; tags?: Record<string, string>; contentType?: string }): Promise<{ etag: string }>;
  get(account: AzuriteAccount, container: string, blob: string): Promise<Buffer>;
  exists(account: AzuriteAccount, container: string, blob: string): Promise<boolean>;
  register(args: CopiedObjectArgs, opts?: pulumi.CustomResourceOptions, name?: string): Promise<Registration>;
  stop(): Promise<void>;
}

export async function startAzureRig(opts: { env?: NodeJS.ProcessEnv; callTimeoutMs?: number } = {}): Promise<AzureRig> {
  const azurite = await startAzurite();
  const { primary } = azurite.accounts;
  // The provider finds the primary account's key through the environment, as a user's would.
  const host = await ProviderHost.start({
    cwd: repoRoot,
    env: { AZURE_STORAGE_ACCOUNT: primary.name, AZURE_STORAGE_KEY: primary.key, ...opts.env },
    ...(opts.callTimeoutMs ? { callTimeoutMs: opts.callTimeoutMs } : {}),
  });
  await host.configure();
  const rig: AzureRig = {
    azurite,
    host,
    engine: new MiniEngine(host),
    at: (account, container, blob, extra = {}, endpoint) => ({ azureBlob: { accountUrl: endpoint ? `${endpoint}/${account.name}` : account.url, container, blob, ...extra } }),
    service: (account, endpoint) => blobService(account, endpoint),
    async container(account) {
      const name = `c${randomBytes(6).toString("hex")}`;
      await blobService(account).createContainer(name);
      return name;
    },
    async put(account, container, blob, body, options = {}) {
      const client = blobService(account).getContainerClient(container).getBlockBlobClient(blob);
      const out = await client.upload(body, Buffer.byteLength(body), { metadata: options.metadata, tags: options.tags, blobHTTPHeaders: { blobContentType: options.contentType } });
      return { etag: (out.etag ?? "").replace(/"/g, "") };
    },
    async get(account, container, blob) {
      return blobService(account).getContainerClient(container).getBlobClient(blob).downloadToBuffer();
    },
    async exists(account, container, blob) {
      return blobService(account).getContainerClient(container).getBlobClient(blob).exists();
    },
    async register(args, resourceOpts, name = "copy") {
      const [reg] = await registerUnderMocks(() => new CopiedObject(name, args, resourceOpts));
      return reg;
    },
    async stop() {
      // A test may have swapped in a host of its own (after killing this one): stop whichever is current too.
      for (const h of new Set([host, rig.host])) await h.stop();
      await azurite.stop();
    },
  };
  return rig;
}
