/**
 * Stable failure codes. Programs and tests match on these, never on message text.
 * The message always starts with `code: ` because the provider host forwards only
 * `message` to the engine, so the code must survive inside it.
 */
export type CopyErrorCode =
  | "InvalidInput"
  | "Unsupported"
  | "SourceNotFound"
  | "DestinationNotFound"
  | "AccessDenied"
  | "SourceChanged"
  | "CopyFailed"
  | "CopyAborted"
  | "CopyTimedOut";

/**
 * A copy's failure, with a stable `code`. Across the provider boundary only the message survives: read the code
 * back with {@link codeOfMessage}.
 * @example if (isCopyError(e) && e.code === "SourceChanged") { ... }
 */
export class CopyError extends Error {
  override readonly name = "CopyError";
  /** What went wrong, stably: `InvalidInput`, `SourceNotFound`, `SourceChanged`, `CopyTimedOut`, and so on. */
  readonly code: CopyErrorCode;
  /** The message without its code, for errors that add to another's explanation. */
  readonly detail: string;

  constructor(code: CopyErrorCode, detail: string, options?: { cause?: unknown }) {
    super(`${code}: ${detail}`, options);
    this.code = code;
    this.detail = detail;
  }
}

/**
 * True for a CopyError from any copy of this module. The provider host can load the
 * package twice (program-time and run-time paths), so `instanceof` alone is not enough.
 */
export function isCopyError(e: unknown): e is CopyError {
  if (e instanceof CopyError) return true;
  const candidate = e as { name?: unknown; code?: unknown } | null;
  return typeof candidate === "object" && candidate !== null && candidate.name === "CopyError" && typeof candidate.code === "string";
}

const CODES: readonly CopyErrorCode[] = [
  "InvalidInput",
  "Unsupported",
  "SourceNotFound",
  "DestinationNotFound",
  "AccessDenied",
  "SourceChanged",
  "CopyFailed",
  "CopyAborted",
  "CopyTimedOut",
];
const CODE_IN_MESSAGE = new RegExp(`(?:^|[\\s:(])(${CODES.join("|")}): `);

/**
 * Reads the code back out of a message that crossed the provider boundary, where the
 * engine and the CLI may have put their own prefixes in front of it.
 */
export function codeOfMessage(message: string): CopyErrorCode | undefined {
  return CODE_IN_MESSAGE.exec(message)?.[1] as CopyErrorCode | undefined;
}
