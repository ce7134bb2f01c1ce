/** pulumi-copied-object: the CopiedObject resource, its argument types, and its errors. */
export { CopiedObject, type CopiedObjectArgs, type LocatorInput } from "./copiedObject";
export { CopiedPrefix, type CopiedPrefixArgs, type PrefixLocatorInput } from "./copiedPrefix";
export type { PrefixEngine, PrefixOptions } from "./prefixOptions";
export type { AzureBlobPrefixLocator, AzureFilePrefixLocator, PrefixLocator, S3PrefixLocator } from "./prefixLocators";
export type {
  AssumeRole,
  AzureBlobLocator,
  AzureCredentials,
  AzureFileLocator,
  AzureServicePrincipal,
  Locator,
  S3Credentials,
  S3Locator,
} from "./locators";
export {
  customStorageClass,
  type AccessTier,
  type CopyOptions,
  type CustomStorageClass,
  type ServerSideEncryption,
  type StorageClass,
} from "./options";
export type { Strategy } from "./plan";
export { CopyError, isCopyError, codeOfMessage, type CopyErrorCode } from "./errors";
export type { CopyStatus } from "./state";
