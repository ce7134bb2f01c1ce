import type { CopyOptions, Locator } from "../args";
import type { Logger } from "../operation";

/** What a store reports of one stored object. ETags are unquoted. */
export interface ObjectState {
  etag: string;
  versionId?: string;
  contentLength: number;
  lastModified?: string;
}

export interface CopyRequest {
  source: Locator;
  destination: Locator;
  sourceCredentials?: unknown;
  destinationCredentials?: unknown;
  options: CopyOptions;
  /** Fires on timeout or shutdown; every wait and request listens to it. */
  signal: AbortSignal;
  log: Logger;
  /** Called just before the first request that writes to the destination, and again with the remote copy's id once known. */
  onStarted(started?: { copyId?: string }): void;
}

export interface CopyOutcome extends ObjectState {
  sourceEtag: string;
  sourceVersionId?: string;
  strategy: string;
  copyId?: string;
}

/** One store's operations on a location of its own kind. */
export interface Store {
  /** The object's current state, or undefined when it does not exist. `side` words the errors. */
  head(location: Locator, credentials: unknown, signal: AbortSignal, side: "source" | "destination"): Promise<ObjectState | undefined>;
  /** Removes the given versions (or the object, when none are given). Missing is not an error. */
  remove(location: Locator, credentials: unknown, versionIds: string[], signal: AbortSignal, log: Logger): Promise<void>;
  /** Cancels unfinished writes to the location left by an earlier run; returns how many. */
  abandonLeftovers(location: Locator, credentials: unknown, signal: AbortSignal, log: Logger): Promise<number>;
  /** A stable, readable id for the resource, e.g. `s3://bucket/key`. */
  describe(location: Locator): string;
}

/** Copies from one kind of store to another. */
export type Copier = (request: CopyRequest) => Promise<CopyOutcome>;
