/**
 * Whole Azure Blob and Azure Files prefixes, for CopiedPrefix. Blob: the container listed page by page in name
 * order, the manifest uploaded as a block blob (visible only once its block list is committed). Files: the
 * directory walked depth-first, each directory's entries sorted into the listing's key order, and the manifest
 * written to a temporary file that is then renamed over the old one.
 */
import { Readable } from "node:stream";
import type { ShareDirectoryClient } from "@azure/storage-file-share";
import { accountNameOf } from "../azureAccount";
import { CopyError } from "../errors";
import type { AzureCredentials } from "../locators";
import { compareKeys, type Listed } from "../manifest";
import type { AzureBlobPrefixLocator, AzureFilePrefixLocator, PrefixLocator } from "../prefixLocators";
import { MiB, normalizeEtag } from "../values";
import { blobContainer, blobFailure, blobHandle, statusOf } from "./azureBlob";
import { fileFailure, fileHandle } from "./azureFile";
import type { PrefixStore } from "./types";

function blobPrefix(location: PrefixLocator): AzureBlobPrefixLocator {
  if (!("azureBlob" in location)) throw new CopyError("Unsupported", "expected an azureBlob prefix");
  return location.azureBlob;
}

function filePrefix(location: PrefixLocator): AzureFilePrefixLocator {
  if (!("azureFile" in location)) throw new CopyError("Unsupported", "expected an azureFile prefix");
  return location.azureFile;
}

const account = (l: { account?: string; accountUrl?: string }) => l.account ?? accountNameOf(l.accountUrl ?? "");
const blobUri = (l: AzureBlobPrefixLocator, name = "") => `azure://${account(l)}/${l.container}/${l.prefix}${name}`;
const fileUri = (l: AzureFilePrefixLocator, name = "") => `azurefile://${account(l)}/${l.share}/${l.prefix}${name}`;
const creds = (c: unknown) => c as AzureCredentials | undefined;

export function blobPrefixStore(): PrefixStore {
  const blob = (l: AzureBlobPrefixLocator, credentials: unknown, name: string) =>
    blobHandle({ ...l, blob: l.prefix + name }, creds(credentials)).client;
  return {
    async *list(location, credentials, signal, side): AsyncGenerator<Listed> {
      const l = blobPrefix(location);
      const pages = blobContainer(l, creds(credentials))
        .listBlobsFlat({ prefix: l.prefix, abortSignal: signal })
        .byPage({ maxPageSize: 5000 });
      for (;;) {
        const page = await pages.next().catch((e: unknown) => {
          throw blobFailure(e, signal, `List Blobs on ${blobUri(l)}`, side);
        });
        if (page.done) return;
        for (const b of page.value.segment.blobItems) {
          if (!b.name.startsWith(l.prefix)) continue;
          yield { key: b.name.slice(l.prefix.length), etag: normalizeEtag(b.properties.etag ?? ""), size: b.properties.contentLength ?? 0 };
        }
      }
    },

    async read(location, credentials, name, signal) {
      const l = blobPrefix(location);
      try {
        return (await blob(l, credentials, name).download(0, undefined, { abortSignal: signal })).readableStreamBody as Readable;
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw blobFailure(e, signal, `Get Blob ${blobUri(l, name)}`, "destination");
      }
    },

    async write(location, credentials, name, body, signal) {
      const l = blobPrefix(location);
      // Blocks are staged as they come and nothing is visible until the block list is committed at the end.
      await blob(l, credentials, name)
        .getBlockBlobClient()
        .uploadStream(body, 4 * MiB, 2, { abortSignal: signal, blobHTTPHeaders: { blobContentType: "application/gzip" } })
        .catch((e: unknown) => {
          throw blobFailure(e, signal, `writing ${blobUri(l, name)}`, "destination");
        });
    },

    async erase(location, credentials, name, signal) {
      const l = blobPrefix(location);
      const client = blob(l, credentials, name);
      await client.deleteIfExists({ deleteSnapshots: "include", abortSignal: signal }).catch((e: unknown) => {
        throw blobFailure(e, signal, `Delete Blob ${blobUri(l, name)}`, "destination");
      });
      // With versioning on, the delete made the current version a previous one: the name is ours alone, so remove them.
      const versions = blobContainer(l, creds(credentials)).listBlobsFlat({
        prefix: l.prefix + name,
        includeVersions: true,
        abortSignal: signal,
      });
      try {
        for await (const v of versions) {
          if (v.name === l.prefix + name && v.versionId) await client.withVersion(v.versionId).deleteIfExists({ abortSignal: signal });
        }
      } catch (e) {
        if (signal.aborted || statusOf(e) !== 400)
          throw blobFailure(e, signal, `removing the versions of ${blobUri(l, name)}`, "destination");
      }
    },

    // Uncommitted blocks cannot be listed by prefix and expire by themselves (7 days); a pending Copy Blob a killed
    // run left is aborted by the per-object pipeline before that key is copied again.
    abandonUploads: async () => 0,
  };
}

export function filePrefixStore(): PrefixStore {
  const file = (l: AzureFilePrefixLocator, credentials: unknown, name: string) =>
    fileHandle({ ...l, path: l.prefix + name }, creds(credentials));
  return {
    async *list(location, credentials, signal, side): AsyncGenerator<Listed> {
      const l = filePrefix(location);
      const { service } = file(l, credentials, "");
      const root = service.getShareClient(l.share).rootDirectoryClient;
      const start = l.prefix ? root.getDirectoryClient(l.prefix.replace(/\/$/, "")) : root;
      yield* walk(start, "", l, signal, side);
    },

    async read(location, credentials, name, signal) {
      const l = filePrefix(location);
      try {
        return (await file(l, credentials, name).client.download(0, undefined, { abortSignal: signal })).readableStreamBody as Readable;
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw fileFailure(e, signal, `Get File ${fileUri(l, name)}`, "destination");
      }
    },

    async write(location, credentials, name, body, signal) {
      const l = filePrefix(location);
      const { client, service } = file(l, credentials, `${name}.tmp`);
      const doing = `writing ${fileUri(l, name)}`;
      try {
        // A file is created at its full size, so the body is gathered first (the manifest is gzipped: MiBs, not GiBs).
        const chunks: Buffer[] = [];
        for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
        let dir = service.getShareClient(l.share).rootDirectoryClient;
        for (const part of l.prefix.split("/").filter(Boolean)) {
          dir = dir.getDirectoryClient(part);
          await dir.createIfNotExists({ abortSignal: signal });
        }
        await client.uploadData(Buffer.concat(chunks), { abortSignal: signal });
        // Rename replaces the old manifest in one step: a reader sees the old one or the new one, never a part.
        await client.rename(l.prefix + name, { replaceIfExists: true, abortSignal: signal });
      } catch (e) {
        throw fileFailure(e, signal, doing, "destination");
      }
    },

    async erase(location, credentials, name, signal) {
      const l = filePrefix(location);
      await file(l, credentials, name)
        .client.deleteIfExists({ abortSignal: signal })
        .catch((e: unknown) => {
          throw fileFailure(e, signal, `Delete File ${fileUri(l, name)}`, "destination");
        });
    },

    // A temporary manifest a killed run left is overwritten by the next write; copies in flight are the pipeline's.
    abandonUploads: async () => 0,
  };
}

type Entry = { key: string; name: string; directory: boolean; etag?: string; size?: number };

/**
 * Depth-first, each directory's entries sorted by their key (a directory as `name/`): every key under `d/` starts
 * with `d/`, so sorting the directory by `d/` puts all of it in place, and the whole walk comes out in key order.
 * Only one directory's entries are held at a time per level.
 */
async function* walk(
  dir: ShareDirectoryClient,
  at: string,
  l: AzureFilePrefixLocator,
  signal: AbortSignal,
  side: "source" | "destination",
): AsyncGenerator<Listed> {
  const entries: Entry[] = [];
  try {
    for await (const page of dir.listFilesAndDirectories({ includeEtag: true, abortSignal: signal }).byPage({ maxPageSize: 5000 })) {
      for (const f of page.segment.fileItems)
        entries.push({ key: at + f.name, name: f.name, directory: false, etag: f.properties.etag, size: f.properties.contentLength });
      for (const d of page.segment.directoryItems) entries.push({ key: `${at}${d.name}/`, name: d.name, directory: true });
    }
  } catch (e) {
    if (statusOf(e) === 404 && at === "" && side === "source")
      throw new CopyError("SourceNotFound", `${fileUri(l)} is not a directory of the share; check source.azureFile.prefix`);
    throw fileFailure(e, signal, `List Directories and Files on ${fileUri(l, at)}`, side);
  }
  entries.sort((a, b) => compareKeys(a.key, b.key));
  for (const e of entries) {
    if (e.directory) yield* walk(dir.getDirectoryClient(e.name), e.key, l, signal, side);
    else yield { key: e.key, etag: normalizeEtag(e.etag ?? ""), size: e.size ?? 0 };
  }
}
