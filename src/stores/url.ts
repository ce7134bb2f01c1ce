import { CopyError } from "../errors";
import type { Locator } from "../locators";
import { abortReason } from "../operation";
import { normalizeEtag } from "../values";
import type { Store } from "./types";

/** A URL is only ever a source: this store can tell what it holds now (for trackSource), nothing more. */
export function urlStore(fetchImpl: typeof fetch = fetch): Store {
  const notADestination = () => {
    throw new CopyError("Unsupported", "a URL is never a destination");
  };
  return {
    async head(location, credentials, signal) {
      try {
        const { response } = await resolveRedirects(fullUrl(location, credentials), fetchImpl, signal);
        return { etag: normalizeEtag(response.headers.get("etag") ?? ""), contentLength: sizeOf(response) };
      } catch (e) {
        if ((e as CopyError).code === "SourceNotFound") return undefined;
        throw e;
      }
    },
    remove: async () => notADestination(),
    abandonLeftovers: async () => notADestination(),
  };
}

/** The URL as the user gave it: CopiedObject keeps its query apart, as a secret. */
export function fullUrl(location: Locator, credentials: unknown): string {
  if (!("url" in location)) throw new CopyError("Unsupported", "expected a url location");
  const query = (credentials as { query?: string } | undefined)?.query;
  return query ? `${location.url}?${query}` : location.url;
}

export async function resolveRedirects(
  start: string,
  fetchImpl: typeof fetch,
  signal: AbortSignal,
): Promise<{ url: string; response: Response }> {
  let url = start;
  for (let hop = 0; hop <= 5; hop++) {
    let response = await probe(url, "HEAD", fetchImpl, signal);
    // Presigned S3 URLs are signed for GET only, and some servers refuse HEAD: ask for one byte instead.
    if (response.status === 403 || response.status === 405) response = await probe(url, "GET", fetchImpl, signal);
    if (response.status >= 300 && response.status < 400 && response.headers.get("location")) {
      url = new URL(response.headers.get("location")!, url).toString();
      continue;
    }
    if (response.status === 404 || response.status === 410)
      throw new CopyError("SourceNotFound", `${redactedUrl(url)} answered ${response.status}`);
    if (response.status === 401 || response.status === 403)
      throw new CopyError(
        "AccessDenied",
        `${redactedUrl(url)} answered ${response.status}: Azure must be able to read it anonymously or through a signature in the URL`,
      );
    if (!response.ok) throw new CopyError("CopyFailed", `${redactedUrl(url)} answered ${response.status}`);
    return { url, response };
  }
  throw new CopyError("CopyFailed", `${redactedUrl(start)} redirects more than 5 times`);
}

async function probe(url: string, method: "HEAD" | "GET", fetchImpl: typeof fetch, signal: AbortSignal): Promise<Response> {
  const response = await fetchImpl(url, {
    method,
    redirect: "manual",
    signal,
    ...(method === "GET" ? { headers: { range: "bytes=0-0" } } : {}),
  }).catch((e: unknown) => {
    if (signal.aborted) throw abortReason(signal);
    throw new CopyError("SourceNotFound", `${redactedUrl(url)} could not be reached: ${(e as Error).message}`, { cause: e });
  });
  if (method === "GET") await response.body?.cancel();
  return response;
}

/** The whole size: Content-Range's total after a ranged GET, else Content-Length. */
export function sizeOf(response: Response): number {
  const range = /\/(\d+)$/.exec(response.headers.get("content-range") ?? "");
  return Number(range?.[1] ?? response.headers.get("content-length") ?? Number.NaN);
}

/** A URL fit for messages: its query, which may carry a signature, is dropped. */
export function redactedUrl(url: string): string {
  return url.split("?")[0] + (url.includes("?") ? "?…" : "");
}
