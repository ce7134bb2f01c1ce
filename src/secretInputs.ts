/**
 * Inputs that carry secrets, split before they are registered: a locator's credentials (or a URL's query) go into
 * their own top-level secret input, which the engine keeps secret in state whatever it does with nested secrets.
 * Shared by CopiedObject and CopiedPrefix.
 */
import * as pulumi from "@pulumi/pulumi";

/**
 * Moves a locator's secret part into its own secret input: its credentials, or a URL's query (a SAS or a
 * presigned signature lives there). The engine then keeps it secret in state whatever it does with nested
 * secrets, and the locator itself (bucket, key, the URL's host and path) stays readable in diffs unless
 * the user made it secret. Works alike for literals, Outputs, and secret Outputs of either.
 */
export function splitCredentials(locator: pulumi.Input<unknown> | undefined): {
  locator?: pulumi.Input<unknown>;
  credentials?: pulumi.Input<unknown>;
} {
  if (locator === undefined) return {};
  // The usual literal shape splits at once, so a secret key does not turn bucket and key secret too.
  if (isPlain(locator)) {
    const entries = Object.entries(locator);
    if (entries.length === 1 && entries[0][0] === "url" && typeof entries[0][1] === "string") {
      const { locator: bare, credentials } = apart(locator);
      return { locator: bare, credentials: credentials === undefined ? undefined : pulumi.secret(credentials) };
    }
    if (entries.length === 1 && entries[0][0] === "url" && entries[0][1] !== undefined) {
      const url = pulumi.output(entries[0][1] as pulumi.Input<string>);
      return {
        locator: { url: url.apply((u) => apart({ url: u }).locator.url) },
        credentials: pulumi.secret(url.apply((u) => apart({ url: u }).credentials)),
      };
    }
    if (entries.length === 1 && isPlain(entries[0][1])) {
      const [kind, body] = entries[0];
      const { credentials, ...rest } = body as Record<string, unknown>;
      return { locator: { [kind]: rest }, credentials: credentials === undefined ? undefined : pulumi.secret(credentials) };
    }
  }
  // An Output (secret or not) of a whole locator: split once it resolves.
  const resolved = pulumi.output(locator as pulumi.Input<Record<string, unknown>>);
  return {
    locator: resolved.apply((value) => apart(value).locator),
    credentials: pulumi.secret(resolved.apply((value) => apart(value).credentials)),
  };
}

/** A resolved locator and its secret part. Anything but exactly one kind is left whole, for check to refuse. */
function apart(value: Record<string, unknown> | undefined): { locator: Record<string, unknown>; credentials: unknown } {
  const entries = Object.entries(value ?? {});
  if (entries.length !== 1) return { locator: value ?? {}, credentials: undefined };
  const [kind, body] = entries[0];
  if (kind === "url" && typeof body === "string") {
    const at = body.indexOf("?");
    return at < 0
      ? { locator: { url: body }, credentials: undefined }
      : { locator: { url: body.slice(0, at) }, credentials: { query: body.slice(at + 1) } };
  }
  if (!isPlain(body)) return { locator: { [kind]: body }, credentials: undefined };
  const { credentials, ...rest } = body;
  return { locator: { [kind]: rest }, credentials };
}

function isPlain(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && !pulumi.Output.isInstance(value) && !(value instanceof Promise)
  );
}
