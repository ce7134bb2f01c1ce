/**
 * Finding credentials where they must not be: distinctive values ("canaries") searched for in
 * every text a user or an operator can read (state, outputs, errors, logs), in each form a value
 * takes on the way there: as it is, URL-encoded (a signature inside a URL), and base64 (a value
 * inside a header or a blob of JSON). Also reads the signatures out of the SAS and presigned URLs
 * the servers saw, so that secrets the package generates itself become canaries too.
 */

export interface Canary {
  /** What it is, e.g. "s3.secretAccessKey" or "generated blob SAS sig"; printed instead of the value. */
  label: string;
  /** The family, for "at least one of each" checks: "s3-key", "account-key", "sas", "blob-sas", ... */
  kind: string;
  value: string;
}

export interface Hit {
  surface: string;
  label: string;
  kind: string;
  encoding: string;
  count: number;
}

/** Short values could match by chance: a canary must be at least this long. */
export const MIN_CANARY_LENGTH = 12;

/** The forms a value can take in text: plain, URL-encoded, base64 and base64url of its UTF-8. */
export function formsOf(value: string): Array<{ encoding: string; text: string }> {
  const forms = new Map<string, string>();
  const add = (encoding: string, text: string) => {
    if (!forms.has(text)) forms.set(text, encoding);
  };
  add("plain", value);
  add("url-encoded", encodeURIComponent(value));
  // URLSearchParams writes a space as + and keeps * unescaped; harmless duplicates otherwise.
  add("form-encoded", new URLSearchParams({ v: value }).toString().slice(2));
  add("base64", Buffer.from(value, "utf8").toString("base64"));
  add("base64url", Buffer.from(value, "utf8").toString("base64url"));
  return [...forms].map(([text, encoding]) => ({ encoding, text }));
}

function occurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) count++;
  return count;
}

/** Every form of every canary found in `text`. */
export function scan(surface: string, text: string, canaries: Canary[]): Hit[] {
  const hits: Hit[] = [];
  for (const canary of canaries) {
    for (const { encoding, text: form } of formsOf(canary.value)) {
      const count = occurrences(text, form);
      if (count > 0) hits.push({ surface, label: canary.label, kind: canary.kind, encoding, count });
    }
  }
  return hits;
}

/** Same values once, the first label kept. */
export function uniqueCanaries(canaries: Canary[]): Canary[] {
  const seen = new Map<string, Canary>();
  for (const c of canaries) if (!seen.has(c.value)) seen.set(c.value, c);
  return [...seen.values()];
}

/**
 * The signature values in a URL that carries one:
 * - an Azure SAS (`sig`): `blob-sas` for sr=b/bs/bv/c, `file-sas` for sr=f/s, `account-sas` for ss;
 * - an S3 presigned URL: `s3-presigned` for X-Amz-Signature, X-Amz-Credential and X-Amz-Security-Token.
 * Values are returned decoded, as they were before they went into the URL.
 */
export function signaturesIn(url: string, origin: string): Canary[] {
  let params: URLSearchParams;
  try {
    params = new URL(url).searchParams;
  } catch {
    return [];
  }
  const out: Canary[] = [];
  const sig = params.get("sig");
  if (sig) {
    const sr = params.get("sr") ?? "";
    const kind = ["b", "bs", "bv", "c"].includes(sr) ? "blob-sas" : ["f", "s"].includes(sr) ? "file-sas" : params.get("ss") ? "account-sas" : "sas";
    out.push({ label: `${kind} sig (${origin})`, kind, value: sig });
  }
  for (const name of ["X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token"]) {
    const value = params.get(name);
    if (value) out.push({ label: `presigned ${name} (${origin})`, kind: "s3-presigned", value });
  }
  return out;
}
