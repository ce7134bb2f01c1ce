/**
 * The narrow interfaces between the pipeline and the stores. A store answers for its own kind of
 * location (head, remove, leftovers); a driver supplies one copier's own steps, and pipeline.ts runs
 * them in the same order for every pair. Everything a step hands back to the pipeline is JSON-safe.
 */
import type { Readable } from "node:stream";
import type { CopyOptions } from "../args";
import type { Locator } from "../locators";
import type { Logger } from "../operation";
import type { CopyError } from "../errors";
import type { Listed } from "../manifest";
import type { PrefixLocator } from "../prefixLocators";

/** What a store reports of one stored object. ETags are unquoted. */
export interface ObjectState {
  etag: string;
  versionId?: string;
  contentLength: number;
  lastModified?: string;
}

/** What a write left on the destination, as far as its response said. */
export interface Written {
  versionId?: string;
  etag?: string;
  lastModified?: string;
}

/** One remote copy as the pipeline tracks it: JSON-safe, so that it can go into partial state. */
export type CopyOperation =
  | { status: "pending"; copyId?: string; uploadId?: string }
  | { status: "success"; copyId?: string; written: Written }
  | { status: "failed"; copyId?: string; reason: string }
  | { status: "aborted"; copyId?: string; reason: string };

/** What a failed copy left behind, as its cleanup found it. */
export interface LeftBehind {
  /** What the destination holds that this copy wrote, when known. */
  written?: Written;
  /** The remote copy may still be running: its abort failed. */
  running?: boolean;
}

/** What this resource knows it wrote to a destination. Delete removes only that, and only while it is still there. */
export interface WriteEvidence {
  /** Versions it wrote, on a versioned store: exactly these are removed. */
  versionIds: string[];
  /** The last write's ETag and Last-Modified, which name it where there is no version. */
  etag?: string;
  lastModified?: string;
}

/** One store's operations on a location of its own kind. */
export interface Store {
  /** The object's current state, or undefined when it does not exist. `side` words the errors. */
  head(location: Locator, credentials: unknown, signal: AbortSignal, side: "source" | "destination"): Promise<ObjectState | undefined>;
  /** Removes what the evidence names, if the destination still holds it; otherwise keeps it and says why. Missing is not an error. */
  remove(location: Locator, credentials: unknown, evidence: WriteEvidence, signal: AbortSignal, log: Logger): Promise<void>;
  /** Cancels unfinished writes to the location left by an earlier run; returns how many. */
  abandonLeftovers(location: Locator, credentials: unknown, signal: AbortSignal, log: Logger): Promise<number>;
}

/** One copy's inputs, as the pipeline hands them to a driver. */
export interface CopyJob {
  source: Locator;
  destination: Locator;
  sourceCredentials?: unknown;
  destinationCredentials?: unknown;
  options: CopyOptions;
  /** Fires on timeout or shutdown; every wait and request listens to it. */
  signal: AbortSignal;
  log: Logger;
  /**
   * What a listing already said of the source (CopiedPrefix): a driver may pin the copy to this ETag instead of
   * reading the source first, and skip the per-key sweep (the run swept the whole prefix once).
   */
  listed?: { etag: string; contentLength: number };
}

/** The source as a driver read it: every later request is pinned to this ETag (and version). */
export interface SourceRead {
  /** For messages; never a URL with a signature. */
  label: string;
  etag: string;
  versionId?: string;
  contentLength: number;
}

/** A plan's public face: the strategy it chose. */
export interface PlanChoice {
  strategy: string;
}

/**
 * One copier's own steps, in the order pipeline.ts calls them. A driver is made per copy and may keep
 * what an earlier step learnt (clients, the destination as it was) for a later one.
 */
export interface CopyDriver<S extends SourceRead = SourceRead, P extends PlanChoice = PlanChoice> {
  /** Reads the source once, and pins what will be copied. Sends nothing to the destination. */
  readSource(): Promise<S>;
  /** Strategy and layout, from plan.ts. May refuse (InvalidInput) a size the strategy cannot copy. */
  plan(source: S): P;
  /** Looks at the destination and sweeps what a killed run left there, before the first write. */
  prepare(source: S, plan: P): Promise<void>;
  /** The first write to the destination. */
  start(source: S, plan: P): Promise<CopyOperation>;
  /** Waits for a pending operation to end, listening to the signal. */
  wait(operation: CopyOperation & { status: "pending" }, source: S, plan: P): Promise<CopyOperation>;
  /** After success: what the copy could not set itself (tags, headers), and the source read again where nothing pinned it. */
  finish(source: S, plan: P, written: Written): Promise<void>;
  /** The destination as the copy left it. */
  describe(written: Written): Promise<ObjectState | undefined>;
  /** Fails with CopyFailed when the destination does not match the source (verify: true). */
  verify(source: S, plan: P, after: ObjectState): void | Promise<void>;
  /** A failure as a CopyError that blames the right side. */
  explain(error: unknown, source: S | undefined): Promise<CopyError>;
  /**
   * After any failure (`operation` is undefined until the first write was sent): stops the remote copy, removes
   * what it left where this copy created it, and lets go of the source. Returns what is left on the destination
   * that this copy wrote, when known.
   */
  cleanUp(operation: CopyOperation | undefined, error: CopyError): Promise<LeftBehind>;
}

export type DriverFactory = (job: CopyJob) => CopyDriver;

/** What an Azure destination needs of any source: a URL its service can read, and what to copy. */
export interface CopySource extends SourceRead {
  contentMD5?: Uint8Array;
  blockBlob: boolean;
  /** Azure sources: `auto` copies within one account with async Copy Blob. */
  accountName?: string;
  headers: { contentType?: string; cacheControl?: string; contentDisposition?: string; contentEncoding?: string; contentLanguage?: string };
  metadata?: Record<string, string>;
  /** Azure copies an Azure source's metadata itself; other sources' must be sent. */
  serviceCopiesMetadata: boolean;
  /** Read by the destination's service. Carries a SAS or a presigned signature: never log or store it. */
  url: string;
  /** A source condition Azure enforces on its read (Azure sources only). */
  ifMatch?: string;
  tags(): Promise<Record<string, string> | undefined>;
  /** The source's ETag now, to catch a change Azure could not pin. */
  etagNow(): Promise<string | undefined>;
}

export interface SourceContext {
  sourceCredentials?: unknown;
  timeoutSeconds?: number;
  signal: AbortSignal;
  log: Logger;
}

/** Reads one kind of source for an Azure destination. */
export type SourceReader = (location: Locator, context: SourceContext) => Promise<CopySource>;

/** A source opened for reading through this process (only where no server-side path exists). */
export interface OpenedSource extends SourceRead {
  contentType?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  metadata?: Record<string, string>;
  tags?: Record<string, string>;
  body: Readable;
}

export type SourceOpener = (location: Locator, credentials: unknown, signal: AbortSignal) => Promise<OpenedSource>;

/** One store's operations on a whole prefix, for CopiedPrefix. Names are relative to the prefix. */
export interface PrefixStore {
  /** The objects under the prefix, page by page, in key order (UTF-8 bytes), named relative to the prefix. */
  list(location: PrefixLocator, credentials: unknown, signal: AbortSignal, side: "source" | "destination"): AsyncIterable<Listed>;
  /** The object at a relative name (the manifest), or undefined when it does not exist. */
  read(location: PrefixLocator, credentials: unknown, name: string, signal: AbortSignal): Promise<Readable | undefined>;
  /** Writes an object at a relative name, visible whole or not at all. */
  write(location: PrefixLocator, credentials: unknown, name: string, body: Readable, signal: AbortSignal): Promise<void>;
  /** Removes the object at a relative name, with every version of it. Missing is not an error. */
  erase(location: PrefixLocator, credentials: unknown, name: string, signal: AbortSignal): Promise<void>;
  /** Aborts unfinished writes under the prefix whose relative names `mine` accepts; returns how many. */
  abandonUploads(
    location: PrefixLocator,
    credentials: unknown,
    mine: (name: string) => boolean,
    signal: AbortSignal,
    log: Logger,
  ): Promise<number>;
}
