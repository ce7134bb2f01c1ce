/** Small value checks shared by the validation rules. Each reports through `fail`; none throws. */

/** The engine's placeholder for a value not known during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export type Fail = (property: string, reason: string) => void;

export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN;
}

/** Deep check, for rules that need a whole value (e.g. comparing locators) during preview. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

export function checkStringMap(value: unknown, path: string, fail: Fail, keyPattern?: RegExp, keyRule?: string): void {
  if (value === undefined || isUnknown(value)) return;
  if (!isPlainObject(value)) return void fail(path, `must be a map of strings, e.g. { team: "data" } (got ${show(value)}).`);
  for (const [k, v] of Object.entries(value)) {
    if (isUnknown(v)) continue;
    if (typeof v !== "string") fail(`${path}.${k}`, `must be a string (got ${show(v)}); convert it with String().`);
    if (keyPattern && !keyPattern.test(k)) fail(`${path}.${k}`, `keys may contain only ${keyRule}.`);
  }
}

export function checkNonEmptyString(value: unknown, path: string, fail: Fail, maxLength: number): void {
  if (isUnknown(value)) return;
  if (typeof value !== "string" || value.length === 0) fail(path, `must be a non-empty string (got ${show(value)}).`);
  else if (value.length > maxLength) fail(path, `is ${value.length} characters; at most ${maxLength}.`);
}

export function checkBoolean(value: unknown, path: string, fail: Fail): void {
  if (!isUnknown(value) && typeof value !== "boolean") fail(path, `must be true or false (got ${show(value)}).`);
}

export function checkHttpUrl(value: unknown, path: string, fail: Fail): void {
  if (isUnknown(value)) return;
  let url: URL | undefined;
  try {
    url = new URL(String(value));
  } catch {
    url = undefined;
  }
  const ok =
    url !== undefined && typeof value === "string" && (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  if (!url || !ok) return void fail(path, `must be an http(s) URL such as "https://s3.example.com" (got ${show(value)}).`);
  // Endpoints are stored in plain text: a SAS query or user:password here would leak. Never echo it.
  if (url.username || url.password || url.search)
    fail(
      path,
      "carries a user name, password or query string (a SAS?), which would be stored unencrypted in the state. Give the bare URL, and " +
        "put the secret in credentials.",
    );
}

export function checkNumber(
  value: unknown,
  path: string,
  fail: Fail,
  rule: { min: number; max: number; integer?: boolean; hint: string },
): void {
  if (value === undefined || isUnknown(value)) return;
  const ok =
    typeof value === "number" &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    value >= rule.min &&
    value <= rule.max;
  if (!ok)
    fail(
      path,
      `must be ${rule.integer ? "a whole number" : "a number"} from ${rule.min} to ${rule.max} (${rule.hint}); got ${show(value)}.`,
    );
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** ` (did you mean "x"?)` for a near miss, so a typo's fix is in the message. */
export function suggest(word: string, candidates: readonly string[]): string {
  const lower = word.toLowerCase();
  const best = candidates.find((c) => c.toLowerCase() === lower) ?? candidates.find((c) => editDistance(c.toLowerCase(), lower) <= 2);
  return best ? ` (did you mean "${best}"?)` : "";
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}
