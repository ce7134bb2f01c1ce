export { CopiedObject, type CopiedObjectArgs, type LocatorInput } from "./copiedObject";
export type {
  AzureBlobLocator,
  AzureCredentials,
  AzureFileLocator,
  CopyOptions,
  Locator,
  S3Credentials,
  S3Locator,
  Strategy,
} from "./args";
export { CopyError, isCopyError, codeOfMessage, type CopyErrorCode } from "./errors";
export type { CopyStatus } from "./state";
