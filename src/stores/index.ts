import { locatorKind, type Locator } from "../args";
import { CopyError } from "../errors";
import type { Copier, Store } from "./types";

export type { Copier, CopyOutcome, CopyRequest, ObjectState, Store } from "./types";

// Each backend, and so each SDK, is loaded on first use: in Pulumi's host an S3-only program then
// never loads Azure's SDKs, whose modules alone cost 26 MiB of RSS (bench/README.md, P5).
const s3 = () => require("./s3") as typeof import("./s3");
const blob = () => require("./azureBlob") as typeof import("./azureBlob");
const file = () => require("./azureFile") as typeof import("./azureFile");
const sources = () => require("./copySources") as typeof import("./copySources");
const toBlob = () => (require("./azureBlobCopy") as typeof import("./azureBlobCopy")).toAzureBlob;
const toFile = () => (require("./azureFileCopy") as typeof import("./azureFileCopy")).toAzureFile;
const stream = () => require("./stream") as typeof import("./stream");

const stores: Partial<Record<string, () => Store>> = {
  s3: () => s3().s3Store(),
  azureBlob: () => blob().azureBlobStore(),
  azureFile: () => file().azureFileStore(),
  url: () => (require("./url") as typeof import("./url")).urlStore(),
};
const copiers: Partial<Record<string, () => Copier>> = {
  "s3->s3": () => (require("./s3Copy") as typeof import("./s3Copy")).s3ToS3(),
  "azureBlob->azureBlob": () => toBlob()(sources().azureBlobSource()),
  "url->azureBlob": () => toBlob()(sources().urlSource()),
  "s3->azureBlob": () => toBlob()(sources().s3Source()),
  "azureFile->azureBlob": () => toBlob()(file().azureFileSource()),
  "azureFile->azureFile": () => toFile()(file().azureFileSource()),
  "azureBlob->azureFile": () => toFile()(sources().azureBlobSource()),
  // No server-side path into S3 exists: only with strategy "stream", through the provider.
  "azureBlob->s3": () => stream().streamToS3(stream().openBlob()),
  "azureFile->s3": () => stream().streamToS3(file().openFile()),
  "url->s3": () => stream().streamToS3(stream().openUrl()),
};
const made = new Map<string, Store | Copier>();

function once<T extends Store | Copier>(key: string, make: (() => T) | undefined): T | undefined {
  if (!made.has(key) && make) made.set(key, make());
  return made.get(key) as T | undefined;
}

export function storeFor(location: Locator): Store {
  const store = once(`store:${locatorKind(location)}`, stores[locatorKind(location)]);
  if (!store) throw new CopyError("Unsupported", `${locatorKind(location)} locations are not supported yet`);
  return store;
}

export function copierFor(source: Locator, destination: Locator): Copier {
  const pair = `${locatorKind(source)}->${locatorKind(destination)}`;
  const copier = once(`copier:${pair}`, copiers[pair]);
  if (!copier) throw new CopyError("Unsupported", `copying ${pair.replace("->", " to ")} is not supported yet`);
  return copier;
}
