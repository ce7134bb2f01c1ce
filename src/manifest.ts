/**
 * A CopiedPrefix's manifest: one line per object it holds at the destination, sorted by key, gzipped NDJSON. It
 * lives beside the data (the state holds its digest and counts only, so the state stays small at any count), and
 * it is read and written as a stream, merged with the source's listing in one pass: memory does not grow with the
 * number of objects.
 */
import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { PassThrough, type Readable } from "node:stream";
import { createGunzip, createGzip } from "node:zlib";

/** One object this resource wrote. Short names: the manifest of 100,000 objects is read on every diff. */
export interface ManifestEntry {
  /** The key below the prefix. */
  k: string;
  /** The source's ETag and size as copied; `""` when the last copy of this key failed after writing. */
  e: string;
  s: number;
  /** The source's version, when versioned. */
  sv?: string;
  /** The destination's ETag and Last-Modified after the write. */
  de?: string;
  dl?: string;
  /** Every destination version this resource wrote for the key, oldest first (versioned stores only). */
  dv?: string[];
}

export interface ManifestHeader {
  /** Layout version. */
  v: 1;
  /** What was copied to where, as identity.ts names them: a manifest of another pair is not this resource's. */
  source: string;
  destination: string;
}

/** One object of a source listing, in the store's key order. */
export interface Listed {
  key: string;
  etag: string;
  size: number;
  versionId?: string;
}

/** Listing order: UTF-8 bytes, as S3 and Azure list (JavaScript's own order differs above U+FFFF). */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Reads a manifest: its header, then its entries, in order. */
export async function readManifest(body: Readable): Promise<{ header: ManifestHeader; entries: AsyncGenerator<ManifestEntry> }> {
  const lines = createInterface({ input: body.pipe(createGunzip()), crlfDelay: Infinity })[Symbol.asyncIterator]();
  const first = await lines.next();
  const header = first.done ? undefined : (JSON.parse(first.value) as ManifestHeader);
  if (!header || header.v !== 1) throw new Error(`not a CopiedPrefix manifest (layout ${header?.v ?? "none"})`);
  async function* entries(): AsyncGenerator<ManifestEntry> {
    for (let line = await lines.next(); !line.done; line = await lines.next())
      if (line.value) yield JSON.parse(line.value) as ManifestEntry;
  }
  return { header, entries: entries() };
}

/** Counts and digest of a written manifest: what the state keeps of it. */
export interface ManifestSummary {
  count: number;
  bytes: number;
  /** sha256 of the entries' lines: equal manifests, equal digests. */
  digest: string;
}

/** A manifest being written: entries go in, in key order; `body` is the gzipped stream a store uploads. */
export class ManifestWriter {
  readonly body: Readable;
  readonly #gzip = createGzip();
  readonly #hash = createHash("sha256");
  #count = 0;
  #bytes = 0;
  #last: string | undefined;

  constructor(header: ManifestHeader) {
    const out = new PassThrough();
    this.#gzip.pipe(out);
    this.body = out;
    this.#gzip.write(`${JSON.stringify(header)}\n`);
  }

  /** Waits while the upload is behind, so that nothing piles up in memory. */
  async add(entry: ManifestEntry): Promise<void> {
    if (this.#last !== undefined && compareKeys(this.#last, entry.k) >= 0) throw new Error(`manifest out of order at ${entry.k}`);
    this.#last = entry.k;
    const line = `${JSON.stringify(entry)}\n`;
    this.#hash.update(line);
    this.#count++;
    this.#bytes += entry.s;
    if (!this.#gzip.write(line)) await new Promise((resolve) => this.#gzip.once("drain", resolve));
  }

  end(): ManifestSummary {
    this.#gzip.end();
    return { count: this.#count, bytes: this.#bytes, digest: this.#hash.digest("hex") };
  }

  /** Stops the stream on a failure, so that its upload fails and nothing half-written lands. */
  destroy(error: Error): void {
    this.#gzip.destroy(error);
    this.body.destroy(error);
  }
}

/** One key of the merge: in the listing, in the manifest, or both. */
export interface Merged {
  key: string;
  listed?: Listed;
  entry?: ManifestEntry;
}

/** An async iterator that can look one item ahead, and hand over what it has not yielded. */
export class Peekable<T> {
  readonly #source: AsyncIterator<T>;
  #held: IteratorResult<T> | undefined;

  constructor(source: AsyncIterable<T>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  async peek(): Promise<T | undefined> {
    this.#held ??= await this.#source.next();
    return this.#held.done ? undefined : this.#held.value;
  }

  async take(): Promise<T | undefined> {
    const value = await this.peek();
    this.#held = undefined;
    return value;
  }

  /** Everything not yet taken, the item looked at included. */
  async *rest(): AsyncGenerator<T> {
    for (let value = await this.take(); value !== undefined; value = await this.take()) yield value;
  }
}

/**
 * Merges the listing and the manifest by key. Both must be in `compareKeys` order: a listing out of order is an
 * error, never a silent wrong merge. Stopping early leaves the manifest's remaining entries in `manifest.rest()`.
 */
export async function* merge(listing: AsyncIterable<Listed>, manifest: Peekable<ManifestEntry>): AsyncGenerator<Merged> {
  const list = new Peekable(listing);
  let previous: string | undefined;
  for (;;) {
    const [x, y] = [await list.peek(), await manifest.peek()];
    if (!x && !y) return;
    const order = !x ? 1 : !y ? -1 : compareKeys(x.key, y.k);
    const key = order <= 0 ? x!.key : y!.k;
    if (previous !== undefined && compareKeys(previous, key) >= 0) throw new Error(`the listing is out of order at ${key}`);
    previous = key;
    yield {
      key,
      ...(order <= 0 ? { listed: (await list.take())! } : {}),
      ...(order >= 0 ? { entry: (await manifest.take())! } : {}),
    };
  }
}

/** An empty manifest, for a first run. */
export async function* none(): AsyncGenerator<ManifestEntry> {}

/** Whether the copy recorded for a key is of the source as listed now. */
export function unchanged(entry: ManifestEntry, listed: Listed): boolean {
  if (!entry.e) return false;
  if (entry.sv && listed.versionId) return entry.sv === listed.versionId;
  return entry.e === listed.etag && entry.s === listed.size;
}
