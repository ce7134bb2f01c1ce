/**
 * Loads each store and copier on first use, by the names plan.ts's table of pairs gives: in Pulumi's
 * host an S3-only program then never loads Azure's SDKs, whose modules alone cost 26 MiB of RSS
 * (bench/README.md, P5). This file decides nothing about pairs; it only finds the code.
 */
import type { LocatorKind } from "../locators";
import type { Driver } from "../plan";
import type { PrefixKind } from "../prefixLocators";
import type { DriverFactory, PrefixStore, SourceOpener, SourceReader, Store } from "./types";

export type {
  CopyDriver,
  CopyJob,
  CopyOperation,
  DriverFactory,
  LeftBehind,
  ObjectState,
  PrefixStore,
  Store,
  WriteEvidence,
  Written,
} from "./types";

const s3 = () => require("./s3") as typeof import("./s3");
const blob = () => require("./azureBlob") as typeof import("./azureBlob");
const file = () => require("./azureFile") as typeof import("./azureFile");
const sources = () => require("./copySources") as typeof import("./copySources");
const stream = () => require("./stream") as typeof import("./stream");

const stores: Record<LocatorKind, () => Store> = {
  s3: () => s3().s3Store(),
  azureBlob: () => blob().azureBlobStore(),
  azureFile: () => file().azureFileStore(),
  url: () => (require("./url") as typeof import("./url")).urlStore(),
};

/** How an Azure destination's service reads each kind of source. */
const readers: Record<LocatorKind, () => SourceReader> = {
  s3: () => sources().s3Source(),
  azureBlob: () => sources().azureBlobSource(),
  azureFile: () => file().azureFileSource(),
  url: () => sources().urlSource(),
};

/** How the provider itself reads each kind of source, for strategy "stream". */
const openers: Record<LocatorKind, () => SourceOpener> = {
  s3: () => stream().openS3(),
  azureBlob: () => blob().openBlob(),
  azureFile: () => file().openFile(),
  url: () => stream().openUrl(),
};

const drivers: Record<Driver, (from: LocatorKind) => DriverFactory> = {
  s3ToS3: () => (require("./s3Copy") as typeof import("./s3Copy")).s3ToS3(),
  toAzureBlob: (from) => (require("./azureBlobCopy") as typeof import("./azureBlobCopy")).toAzureBlob(readers[from]()),
  toAzureFile: (from) => (require("./azureFileCopy") as typeof import("./azureFileCopy")).toAzureFile(readers[from]()),
  streamToS3: (from) => stream().streamToS3(openers[from]()),
};

/** Whole prefixes, for CopiedPrefix. */
const prefixStores: Record<PrefixKind, () => PrefixStore> = {
  s3: () => (require("./s3Prefix") as typeof import("./s3Prefix")).s3PrefixStore(),
  azureBlob: () => (require("./azurePrefix") as typeof import("./azurePrefix")).blobPrefixStore(),
  azureFile: () => (require("./azurePrefix") as typeof import("./azurePrefix")).filePrefixStore(),
};

const made = new Map<string, unknown>();

function once<T>(key: string, make: () => T): T {
  if (!made.has(key)) made.set(key, make());
  return made.get(key) as T;
}

export function storeFor(kind: LocatorKind): Store {
  return once(`store:${kind}`, stores[kind]);
}

/** The copier that plan.ts's route names, reading this kind of source. */
export function driverFor(driver: Driver, from: LocatorKind): DriverFactory {
  return once(`driver:${driver}:${from}`, () => drivers[driver](from));
}

export function prefixStoreFor(kind: PrefixKind): PrefixStore {
  return once(`prefix:${kind}`, prefixStores[kind]);
}
