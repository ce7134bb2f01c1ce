/** Whole Azure Blob and Azure Files prefixes, for CopiedPrefix. */
import { CopyError } from "../errors";
import type { PrefixStore } from "./types";

const missing = (): never => {
  throw new CopyError("Unsupported", "not yet");
};

export function blobPrefixStore(): PrefixStore {
  return { list: missing, read: missing, write: missing, erase: missing, abandonUploads: missing };
}

export function filePrefixStore(): PrefixStore {
  return { list: missing, read: missing, write: missing, erase: missing, abandonUploads: missing };
}
