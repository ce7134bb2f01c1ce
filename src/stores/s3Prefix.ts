/**
 * A whole S3 prefix, for CopiedPrefix: the source listed page by page in S3's own key order, the manifest read and
 * written as a stream (a PUT, or a multipart upload that is visible only once complete), the uploads a killed run
 * left under the prefix, and the manifest's removal with every version of it.
 */
import type { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { Listed } from "../manifest";
import type { S3Credentials } from "../locators";
import type { PrefixLocator, S3PrefixLocator } from "../prefixLocators";
import { CopyError } from "../errors";
import { normalizeEtag, MiB } from "../values";
import { newS3Client, s3Failure, statusOf } from "./s3";
import type { PrefixStore } from "./types";

type Factory = (location: S3PrefixLocator, credentials?: S3Credentials) => S3Client;

const client: Factory = (location, credentials) => newS3Client({ ...location, key: location.prefix }, credentials) as S3Client;

function s3Prefix(location: PrefixLocator): S3PrefixLocator {
  if (!("s3" in location)) throw new CopyError("Unsupported", "expected an s3 prefix");
  return location.s3;
}

const uri = (l: S3PrefixLocator, name = "") => `s3://${l.bucket}/${l.prefix}${name}`;

export function s3PrefixStore(clientFor: Factory = client): PrefixStore {
  return {
    async *list(location, credentials, signal, side): AsyncGenerator<Listed> {
      const l = s3Prefix(location);
      const s3 = clientFor(l, credentials as S3Credentials | undefined);
      let ContinuationToken: string | undefined;
      do {
        const page = await s3
          .send(new ListObjectsV2Command({ Bucket: l.bucket, Prefix: l.prefix, ContinuationToken }), { abortSignal: signal })
          .catch((e: unknown) => {
            throw s3Failure(e, signal, `ListObjectsV2 on ${uri(l)}`, side);
          });
        for (const o of page.Contents ?? []) {
          if (!o.Key?.startsWith(l.prefix)) continue;
          yield { key: o.Key.slice(l.prefix.length), etag: normalizeEtag(o.ETag ?? ""), size: o.Size ?? 0 };
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
    },

    async read(location, credentials, name, signal): Promise<Readable | undefined> {
      const l = s3Prefix(location);
      try {
        const got = await clientFor(l, credentials as S3Credentials | undefined).send(
          new GetObjectCommand({ Bucket: l.bucket, Key: l.prefix + name }),
          { abortSignal: signal },
        );
        return got.Body as Readable;
      } catch (e) {
        if (statusOf(e) === 404 || (e as { name?: string }).name === "NoSuchKey") return undefined;
        throw s3Failure(e, signal, `GetObject on ${uri(l, name)}`, "destination");
      }
    },

    async write(location, credentials, name, body, signal): Promise<void> {
      const l = s3Prefix(location);
      // One PUT when small; else a multipart upload, which shows nothing until it completes and is aborted on failure.
      const upload = new Upload({
        client: clientFor(l, credentials as S3Credentials | undefined),
        params: { Bucket: l.bucket, Key: l.prefix + name, Body: body, ContentType: "application/gzip" },
        partSize: 8 * MiB,
        queueSize: 2,
      });
      const stop = () => void upload.abort().catch(() => undefined);
      signal.addEventListener("abort", stop, { once: true });
      try {
        await upload.done();
      } catch (e) {
        throw s3Failure(e, signal, `writing ${uri(l, name)}`, "destination");
      } finally {
        signal.removeEventListener("abort", stop);
      }
    },

    async erase(location, credentials, name, signal): Promise<void> {
      const l = s3Prefix(location);
      const s3 = clientFor(l, credentials as S3Credentials | undefined);
      const Key = l.prefix + name;
      // Every version of it and no delete marker: the name is this resource's alone.
      const versions = await s3
        .send(new ListObjectVersionsCommand({ Bucket: l.bucket, Prefix: Key }), { abortSignal: signal })
        .catch(() => undefined);
      const found = versions && [...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])].filter((v) => v.Key === Key);
      // Nothing there: a delete would only leave a marker on a versioned bucket (AWS writes one even for a missing key).
      if (found && found.length === 0) return;
      const ids = (found ?? []).filter((v) => v.VersionId && v.VersionId !== "null").map((v) => v.VersionId!);
      // Unversioned (or the listing was refused): a plain delete.
      const plain = !found || found.some((v) => !v.VersionId || v.VersionId === "null");
      for (const VersionId of [...ids, ...(plain ? [undefined] : [])]) {
        await s3.send(new DeleteObjectCommand({ Bucket: l.bucket, Key, VersionId }), { abortSignal: signal }).catch((e: unknown) => {
          if (statusOf(e) !== 404) throw s3Failure(e, signal, `DeleteObject on ${uri(l, name)}`, "destination");
        });
      }
    },

    async abandonUploads(location, credentials, mine, signal, log): Promise<number> {
      const l = s3Prefix(location);
      const s3 = clientFor(l, credentials as S3Credentials | undefined);
      let aborted = 0;
      let KeyMarker: string | undefined;
      let UploadIdMarker: string | undefined;
      do {
        const page = await s3
          .send(new ListMultipartUploadsCommand({ Bucket: l.bucket, Prefix: l.prefix, KeyMarker, UploadIdMarker }), { abortSignal: signal })
          .catch((e: unknown) => {
            if (statusOf(e) === 403 && !signal.aborted) {
              log.warn(`could not look for multipart uploads a killed run left under ${uri(l)} (403): grant s3:ListBucketMultipartUploads`);
              return undefined;
            }
            throw s3Failure(e, signal, `ListMultipartUploads on ${uri(l)}`, "destination");
          });
        for (const u of page?.Uploads ?? []) {
          if (!u.Key || !u.UploadId || !u.Key.startsWith(l.prefix) || !mine(u.Key.slice(l.prefix.length))) continue;
          await s3.send(new AbortMultipartUploadCommand({ Bucket: l.bucket, Key: u.Key, UploadId: u.UploadId }), { abortSignal: signal });
          aborted++;
        }
        KeyMarker = page?.IsTruncated ? page.NextKeyMarker : undefined;
        UploadIdMarker = page?.IsTruncated ? page.NextUploadIdMarker : undefined;
      } while (KeyMarker);
      if (aborted) log.info(`aborted ${aborted} multipart upload(s) a killed run left under ${uri(l)}`);
      return aborted;
    },
  };
}
