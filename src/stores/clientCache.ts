/**
 * SDK clients reused across provider calls inside the provider process, one per endpoint and
 * credential. A new client per call builds its middleware stack and config chain again, opens new
 * connections (a TLS handshake per copy on a real cloud), and for DefaultAzureCredential fetches a
 * new token. Nothing here reaches state or logs: the cache is module state of the provider process,
 * and its keys are SHA-256 digests of the client's whole configuration, so no secret is kept
 * readable, not even as a key.
 */
import { createHash } from "node:crypto";

/**
 * Set to `1` in the provider's environment to build a new client on every call, as the package
 * did before the cache. For measuring the cache (bench P4 runs both in one run) and as an escape
 * hatch; not a user option.
 */
export const NO_CLIENT_CACHE_ENV = "COPIED_OBJECT_NO_CLIENT_CACHE";

/** A deploy touches few endpoints and credentials; the cap only bounds a pathological one. */
export const MAX_CACHED_CLIENTS = 32;

export class ClientCache<T> {
  readonly #entries = new Map<string, T>();
  readonly #max: number;

  constructor(max = MAX_CACHED_CLIENTS) {
    this.#max = max;
  }

  /**
   * The client built before for this configuration, or a new one from `build`. `config` must hold
   * every value `build` reads (resolved, including those taken from the environment), secrets too:
   * only its digest is kept.
   */
  get(config: unknown, build: () => T): T {
    if (process.env[NO_CLIENT_CACHE_ENV] === "1") return build();
    const key = digest(config);
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      // Least recently used goes first: move the hit to the end.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const made = build();
    this.#entries.set(key, made);
    // An evicted client is only dropped, never destroyed: a copy in flight may still be using it.
    // Its idle keep-alive sockets hold no reference on the process, and the garbage collector takes the rest.
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    return made;
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** SHA-256 of a canonical JSON form: key order does not matter, undefined members are left out. */
export function digest(config: unknown): string {
  return createHash("sha256").update(canonical(config)).digest("hex");
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonical(v))).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const members = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
