/**
 * A batch run's plan: what the merge of the source listing with the manifest decided for each key (keep, copy by
 * the job, copy by the provider, prune), in key order, kept in a gzipped temporary file between the listing and the
 * job's end. Memory stays flat: the run may cover millions of keys, and their decisions are needed again, in order,
 * once the job is done. Also the count `engine: "auto"` decides by.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { createGunzip, createGzip } from "node:zlib";
import type { Ambient } from "./ambient";
import { merge, none, Peekable, readManifest, unchanged, type Listed, type ManifestEntry } from "./manifest";
import type { PrefixWireInputs } from "./prefixOptions";
import { MANIFEST_NAME, prefixKind } from "./prefixLocators";
import { headerOf, selectedOnly } from "./prefixRun";
import { prefixStoreFor } from "./stores";

/** One key's decision. `l`: the source as listed; `e`: its manifest line before this run. */
export interface PlanLine {
  k: string;
  a: "keep" | "copy" | "big" | "prune";
  l?: Listed;
  e?: ManifestEntry;
}

export class PlanFile {
  readonly #dir: string;
  readonly #file: string;
  readonly #gzip = createGzip();
  readonly #done: Promise<void>;

  private constructor(dir: string) {
    this.#dir = dir;
    this.#file = path.join(dir, "plan.ndjson.gz");
    const out = fs.createWriteStream(this.#file);
    this.#gzip.pipe(out);
    this.#done = new Promise((resolve, reject) => {
      out.once("finish", resolve);
      out.once("error", reject);
      this.#gzip.once("error", reject);
    });
    this.#done.catch(() => undefined);
  }

  static create(): PlanFile {
    return new PlanFile(fs.mkdtempSync(path.join(os.tmpdir(), "copied-prefix-batch-")));
  }

  async add(line: PlanLine): Promise<void> {
    if (!this.#gzip.write(`${JSON.stringify(line)}\n`)) await new Promise((resolve) => this.#gzip.once("drain", resolve));
  }

  async close(): Promise<void> {
    this.#gzip.end();
    await this.#done;
  }

  async *read(): AsyncGenerator<PlanLine> {
    const input = fs.createReadStream(this.#file).pipe(createGunzip());
    for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line) yield JSON.parse(line) as PlanLine;
  }

  dispose(): void {
    this.#gzip.destroy();
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }
}

/**
 * How many objects the next run would copy, counted up to `limit` (the listing stops there): the same merge and the
 * same `unchanged` rule as the run. Every selected object when `recopy`, or when the manifest is another source's.
 */
export async function countToCopy(
  inputs: PrefixWireInputs,
  recopy: boolean,
  ambient: Ambient,
  limit: number,
  signal: AbortSignal,
): Promise<number> {
  const { source, destination, include, exclude } = inputs;
  const body = await prefixStoreFor(prefixKind(destination)).read(destination, inputs.destinationCredentials, MANIFEST_NAME, signal);
  let entries: AsyncIterable<ManifestEntry> = none();
  if (body) {
    const read = await readManifest(body);
    if (read.header.source !== headerOf(inputs, ambient).source) recopy = true;
    entries = read.entries;
  }
  let count = 0;
  try {
    const listing = prefixStoreFor(prefixKind(source)).list(source, inputs.sourceCredentials, signal, "source");
    for await (const item of merge(selectedOnly(listing, include, exclude), new Peekable(entries))) {
      if (item.listed && (recopy || !item.entry || !unchanged(item.entry, item.listed))) count++;
      if (count >= limit) break;
    }
  } finally {
    body?.destroy();
  }
  return count;
}
