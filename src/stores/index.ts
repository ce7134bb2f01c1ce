import { locatorKind, type Locator } from "../args";
import { CopyError } from "../errors";
import { azureBlobStore } from "./azureBlob";
import { toAzureBlob } from "./azureBlobCopy";
import { azureFileSource, azureFileStore } from "./azureFile";
import { toAzureFile } from "./azureFileCopy";
import { azureBlobSource, s3Source, urlSource } from "./copySources";
import { s3Store } from "./s3";
import { s3ToS3 } from "./s3Copy";
import { openBlob, openFile, openUrl, streamToS3 } from "./stream";
import { urlStore } from "./url";
import type { Copier, Store } from "./types";

export type { Copier, CopyOutcome, CopyRequest, ObjectState, Store } from "./types";

const stores: Partial<Record<string, Store>> = { s3: s3Store(), azureBlob: azureBlobStore(), azureFile: azureFileStore(), url: urlStore() };
const copiers: Partial<Record<string, Copier>> = {
  "s3->s3": s3ToS3(),
  "azureBlob->azureBlob": toAzureBlob(azureBlobSource()),
  "url->azureBlob": toAzureBlob(urlSource()),
  "s3->azureBlob": toAzureBlob(s3Source()),
  "azureFile->azureBlob": toAzureBlob(azureFileSource()),
  "azureFile->azureFile": toAzureFile(azureFileSource()),
  "azureBlob->azureFile": toAzureFile(azureBlobSource()),
  // No server-side path into S3 exists: only with strategy "stream", through the provider.
  "azureBlob->s3": streamToS3(openBlob()),
  "azureFile->s3": streamToS3(openFile()),
  "url->s3": streamToS3(openUrl()),
};

export function storeFor(location: Locator): Store {
  const store = stores[locatorKind(location)];
  if (!store) throw new CopyError("Unsupported", `${locatorKind(location)} locations are not supported yet`);
  return store;
}

export function copierFor(source: Locator, destination: Locator): Copier {
  const pair = `${locatorKind(source)}->${locatorKind(destination)}`;
  const copier = copiers[pair];
  if (!copier) throw new CopyError("Unsupported", `copying ${pair.replace("->", " to ")} is not supported yet`);
  return copier;
}
