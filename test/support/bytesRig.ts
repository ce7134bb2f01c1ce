/**
 * Bytes on the wire, per copy path: every server this package copies between, with a byte-counting
 * proxy (byteCountingProxy.ts) between Pulumi's real provider host and all of them, so what the
 * provider process sends and receives for one copy can be counted. Shared by the P2 benchmark and
 * its integration test.
 * - S3 (moto): the locators' `endpoint` is the proxy, which passes requests on to moto.
 * - Azure (Azurite, the Files test server, the scripted copy proxy): the provider host gets
 *   HTTP_PROXY=<proxy>, which the Azure SDKs honour (the AWS SDK and gRPC do not read it), so
 *   URLs stay the servers' own and a copy source on the same server is still internal to it.
 * SIMULATIONS, labelled where used: File → File runs on the Files test server (no emulator
 * exists); S3 → Azure uses the scripted copy proxy's `accounts` mode to play the service's read
 * of the presigned S3 URL. That read crosses our proxy (the URL names it) from the benchmark's own
 * process, so the proxy counts it as "other", not as the provider's.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { CreateBucketCommand, DeleteObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { ShareServiceClient, StorageSharedKeyCredential } from "@azure/storage-file-share";
import { CopiedObject, type CopiedObjectArgs } from "pulumi-copied-object";
import { blobService, startAzurite, type Azurite } from "./azurite.ts";
import { startAzureCopyProxy, type AzureCopyProxy } from "./azureCopyProxy.ts";
import { startAzureFilesServer, type AzureFilesServer } from "./azureFilesServer.ts";
import { startByteCountingProxy, type ByteCountingProxy, type ByteTotals } from "./byteCountingProxy.ts";
import { MiniEngine } from "./engine.ts";
import { ProviderHost, registerUnderMocks } from "./providerHost.ts";
import { repoRoot } from "./s3rig.ts";
import { s3Client, startS3Server, type S3Server } from "./s3server.ts";

const MiB = 1024 * 1024;

export type PathName = "S3→S3 single" | "S3→S3 multipart" | "Blob→Blob async" | "Blob→Blob blocks" | "File→File" | "S3→Azure Blob" | "Blob→S3 stream";
export const PATHS: ReadonlyArray<{ name: PathName; serverSide: boolean; about: string }> = [
  { name: "S3→S3 single", serverSide: true, about: "one CopyObject (strategy copy)" },
  { name: "S3→S3 multipart", serverSide: true, about: "UploadPartCopy (strategy multipart)" },
  { name: "Blob→Blob async", serverSide: true, about: "Copy Blob, same account (strategy copy)" },
  { name: "Blob→Blob blocks", serverSide: true, about: "Put Block From URL across accounts (strategy blocks)" },
  { name: "File→File", serverSide: true, about: "Copy File (simulated Files server)" },
  { name: "S3→Azure Blob", serverSide: true, about: "Copy Blob from a presigned S3 URL (service read simulated)" },
  { name: "Blob→S3 stream", serverSide: false, about: "the streaming fallback through the provider (strategy stream)" },
];

export interface CopyFigures {
  ms: number;
  /** Requests the provider sent during the copy (Check + Create). */
  requests: number;
  /** All bytes on the provider's sockets, both ways. */
  wireBytes: number;
  /** wireBytes less payload: heads, protocol bodies, framing. */
  protocolBytes: number;
  /** Object content the provider sent or received. */
  payloadBytes: number;
  /** Payload the provider sent (e.g. uploaded parts). */
  payloadSentBytes: number;
  /** Payload the provider received (e.g. a downloaded source). */
  payloadReceivedBytes: number;
  /** Decoded body bytes, both ways (protocol bodies + payload). */
  bodyBytes: number;
  /** Bytes other processes moved through the proxy meanwhile (the simulated service read of S3). */
  otherBytes: number;
  /** The destination's size, read from its server afterwards. */
  destinationBytes: number;
}

export interface BytesRig {
  proxy: ByteCountingProxy;
  host: ProviderHost;
  /** Uploads the sources of every path at `size` (random bytes), replacing those of another size. */
  seed(size: number): Promise<void>;
  /** One copy on `path` of the seeded size, measured; its destination is deleted afterwards. */
  copy(path: PathName, round: number): Promise<CopyFigures>;
  stop(): Promise<void>;
}

export async function startBytesRig(): Promise<BytesRig> {
  const started: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const stopOne of started.reverse()) await stopOne().catch(() => undefined);
  };
  try {
    const s3server = await startS3Server();
    started.push(() => s3server.stop());
    const azurite = await startAzurite({ onDisk: true });
    started.push(() => azurite.stop());
    const { primary } = azurite.accounts;
    // A short pending time, so a File copy is polled a few times as a real one would be.
    const files = await startAzureFilesServer({ copyDelayMs: 1000 });
    started.push(() => files.close());
    const copyProxy = await startAzureCopyProxy(azurite.endpoint, { accounts: [{ name: primary.name, key: primary.key }], sourceTimeoutMs: 900_000 });
    started.push(() => copyProxy.close());
    let host: ProviderHost | undefined;
    const hostOf = (url: string) => new URL(url).host;
    const proxy = await startByteCountingProxy({
      upstream: s3server.endpoint,
      forwardTo: () => [hostOf(azurite.endpoint), hostOf(files.endpoint), hostOf(copyProxy.endpoint)],
      clientPids: () => (host ? [host.pid] : []),
    });
    started.push(() => proxy.close());
    host = await ProviderHost.start({
      cwd: repoRoot,
      callTimeoutMs: 30 * 60_000,
      env: {
        AWS_ACCESS_KEY_ID: s3server.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3server.secretAccessKey,
        AWS_REGION: s3server.region,
        AWS_EC2_METADATA_DISABLED: "true",
        AZURE_STORAGE_ACCOUNT: primary.name,
        AZURE_STORAGE_KEY: primary.key,
        // Upper case only: the Azure SDKs read it, gRPC reads only the lower-case names.
        HTTP_PROXY: proxy.endpoint,
        NO_PROXY: "",
      },
    });
    started.push(() => host!.stop());
    await host.configure();
    return rigOn({ s3server, azurite, files, copyProxy, proxy, host, stop });
  } catch (e) {
    await stop();
    throw e;
  }
}

interface Parts { s3server: S3Server; azurite: Azurite; files: AzureFilesServer; copyProxy: AzureCopyProxy; proxy: ByteCountingProxy; host: ProviderHost; stop(): Promise<void> }

function rigOn({ s3server, azurite, files, copyProxy, proxy, host, stop }: Parts): BytesRig {
  const engine = new MiniEngine(host);
  const s3 = s3Client(s3server); // arranging and checking go straight to the servers, never through the proxy
  const { primary, secondary } = azurite.accounts;
  const fileAccount = files.accounts[0];
  const shares = new ShareServiceClient(fileAccount.url, new StorageSharedKeyCredential(fileAccount.name, fileAccount.key));
  const name = (prefix: string) => `${prefix}${randomBytes(5).toString("hex")}`;
  let size = 0;
  let at = { bucket: "", container: "", container2: "", share: "" };
  const dest = { bucket: "", container: "" };
  const s3At = (bucket: string, key: string) => ({ s3: { bucket, key, endpoint: proxy.endpoint, forcePathStyle: true } });

  async function clear() {
    if (!at.bucket) return;
    // Sources of the last size: free the servers' memory before the next size's arrive.
    await blobService(primary).deleteContainer(at.container).catch(() => undefined);
    await blobService(secondary).deleteContainer(at.container2).catch(() => undefined);
    await shares.deleteShare(at.share).catch(() => undefined);
    await s3.send(new DeleteObjectCommand({ Bucket: at.bucket, Key: "object" })).catch(() => undefined);
  }

  const args = (path: PathName, round: number): { args: CopiedObjectArgs; check(): Promise<number> } => {
    const key = `${path.replace(/\W+/g, "-")}-${round}`;
    const s3Check = async () => Number((await s3.send(new HeadObjectCommand({ Bucket: dest.bucket, Key: key }))).ContentLength);
    const blobCheck = async () => Number((await blobService(primary).getContainerClient(dest.container).getBlobClient(key).getProperties()).contentLength);
    switch (path) {
      case "S3→S3 single":
        return { args: { source: s3At(at.bucket, "object"), destination: s3At(dest.bucket, key), strategy: "copy" }, check: s3Check };
      case "S3→S3 multipart":
        // moto's UploadPartCopy re-reads the whole source per part, so 1 GiB uses 128 MiB parts (the default).
        return { args: { source: s3At(at.bucket, "object"), destination: s3At(dest.bucket, key), strategy: "multipart", partSizeBytes: size <= 64 * MiB ? 5 * MiB : 128 * MiB }, check: s3Check };
      case "Blob→Blob async":
        return { args: { source: { azureBlob: { accountUrl: primary.url, container: at.container, blob: "object" } }, destination: { azureBlob: { accountUrl: primary.url, container: dest.container, blob: key } }, strategy: "copy" }, check: blobCheck };
      case "Blob→Blob blocks":
        return {
          args: {
            source: { azureBlob: { accountUrl: secondary.url, container: at.container2, blob: "object", credentials: { accountKey: secondary.key } } },
            destination: { azureBlob: { accountUrl: primary.url, container: dest.container, blob: key } },
            strategy: "blocks",
            // Several blocks at 10 MiB too; the default (64 MiB) at 1 GiB.
            ...(size <= 64 * MiB ? { partSizeBytes: 4 * MiB } : {}),
          },
          check: blobCheck,
        };
      case "File→File":
        return {
          args: { source: { azureFile: { accountUrl: fileAccount.url, share: at.share, path: "object" } }, destination: { azureFile: { accountUrl: fileAccount.url, share: at.share, path: `copies/${key}` } } },
          check: async () => files.peek(`/${fileAccount.name}/${at.share}/copies/${key}`)?.content.length ?? -1,
        };
      case "S3→Azure Blob":
        return { args: { source: s3At(at.bucket, "object"), destination: { azureBlob: { accountUrl: `${copyProxy.endpoint}/${primary.name}`, container: dest.container, blob: key } } }, check: blobCheck };
      case "Blob→S3 stream":
        return { args: { source: { azureBlob: { accountUrl: primary.url, container: at.container, blob: "object" } }, destination: s3At(dest.bucket, key), strategy: "stream" }, check: s3Check };
    }
  };

  return {
    proxy,
    host,
    async seed(bytes) {
      await clear();
      size = bytes;
      at = { bucket: name("src-"), container: name("src"), container2: name("src"), share: name("s") };
      if (!dest.bucket) {
        Object.assign(dest, { bucket: name("dst-"), container: name("dst") });
        await s3.send(new CreateBucketCommand({ Bucket: dest.bucket }));
        await blobService(primary).createContainer(dest.container);
      }
      await s3.send(new CreateBucketCommand({ Bucket: at.bucket }));
      await new Upload({ client: s3, params: { Bucket: at.bucket, Key: "object", Body: randomStream(bytes) }, partSize: 64 * MiB, queueSize: 2 }).done();
      for (const [account, container] of [[primary, at.container], [secondary, at.container2]] as const) {
        const c = blobService(account).getContainerClient(container);
        await c.create();
        await c.getBlockBlobClient("object").uploadStream(randomStream(bytes), 8 * MiB, 4);
      }
      const share = shares.getShareClient(at.share);
      await share.create();
      await share.rootDirectoryClient.getFileClient("object").uploadStream(randomStream(bytes), bytes, 4 * MiB, 4);
    },
    async copy(path, round) {
      const { args: copyArgs, check } = args(path, round);
      const [reg] = await registerUnderMocks(() => new CopiedObject(`copy${round}`, copyArgs));
      const meter = proxy.measure();
      const t0 = performance.now();
      const { deployed } = await engine.up(reg);
      const ms = performance.now() - t0;
      const { client, other } = meter.end();
      const destinationBytes = await check();
      await engine.destroy(deployed);
      return figures(ms, client, other, destinationBytes);
    },
    async stop() {
      await clear().catch(() => undefined);
      await stop();
    },
  };
}

function figures(ms: number, client: ByteTotals, other: ByteTotals, destinationBytes: number): CopyFigures {
  const wireBytes = client.rawIn + client.rawOut;
  const payloadBytes = client.payloadIn + client.payloadOut;
  return {
    ms,
    requests: client.requests,
    wireBytes,
    protocolBytes: wireBytes - payloadBytes,
    payloadBytes,
    payloadSentBytes: client.payloadIn,
    payloadReceivedBytes: client.payloadOut,
    bodyBytes: client.requestBody + client.responseBody,
    otherBytes: other.rawIn + other.rawOut,
    destinationBytes,
  };
}

/** `size` random bytes, 1 MiB at a time: never valid UTF-8 for long, and never held whole. */
export function randomStream(size: number): Readable {
  let left = size;
  return new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const n = Math.min(MiB, left);
      left -= n;
      this.push(randomBytes(n));
    },
  });
}
