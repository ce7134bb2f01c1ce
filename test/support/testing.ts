/**
 * The test API every suite uses: jest's, with the two habits the suites kept from node:test, a diagnostic
 * line (the figures the README quotes are printed with it) and a skip that says why.
 */
import { afterAll, beforeAll, describe, test as jestTest } from "@jest/globals";

export { afterAll as after, beforeAll as before, describe };

/** A line of the test output, kept apart from console noise: measured figures, counts, what a run found. */
export function diagnostic(message: string): void {
  process.stdout.write(`ℹ ${message}\n`);
}

type Body = () => unknown;

/** `test(name, body)`, or `test(name, { skip: reason }, body)`: a skipped test keeps its reason in its name. */
export function test(name: string, options: { skip?: string | false } | Body, body?: Body): void {
  const [skip, fn] = typeof options === "function" ? [undefined, options] : [options.skip, body!];
  if (skip) jestTest.skip(`${name} (skipped: ${skip})`, async () => undefined);
  else jestTest(name, async () => void (await fn()));
}
