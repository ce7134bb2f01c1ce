import { CopyError } from "../errors";
import { normalizeEtag } from "../diff";
import { fullUrl, redactedUrl, resolveRedirects, sizeOf } from "./copySources";
import type { Store } from "./types";

/** A URL is only ever a source: this store can tell what it holds now (for trackSource), nothing more. */
export function urlStore(fetchImpl: typeof fetch = fetch): Store {
  const notADestination = () => {
    throw new CopyError("Unsupported", "a URL is never a destination");
  };
  return {
    describe: (location) => redactedUrl("url" in location ? location.url : ""),
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
