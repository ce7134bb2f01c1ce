/**
 * Registers CopiedObjects under Pulumi's mocks in a plain Node process, as `pulumi up` runs a program, and prints
 * what each registered (inputs with the serialized provider, secret paths, additionalSecretOutputs) as JSON.
 * jest runs tests in a module realm of its own, which can change closure serialization (pulumi/pulumi#3799); this
 * is the capture to compare with, and the one a program of its own (a packed tarball's) is registered with.
 *
 *   node test/support/capture.ts [--from DIR] < resources.json
 *
 * resources.json: [{ name, args, opts? }]. In args, `{ "$secret": v }` stands for pulumi.secret(v) and
 * `{ "$output": v }` for pulumi.output(v). `--from DIR`: load @pulumi/pulumi and pulumi-copied-object as
 * installed in DIR (a program's directory) rather than this checkout's.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { registerUnderMocks, type PulumiSdk } from "./providerHost.ts";

export interface CaptureRequest {
  name: string;
  args: unknown;
  opts?: Record<string, unknown>;
}

async function main(): Promise<void> {
  const at = process.argv.indexOf("--from");
  const from = at > 0 ? path.resolve(process.argv[at + 1]) : process.cwd();
  const load = createRequire(path.join(from, "package.json"));
  const pulumi = load("@pulumi/pulumi") as PulumiSdk;
  const { CopiedObject } = load("pulumi-copied-object") as typeof import("pulumi-copied-object");
  const requests = JSON.parse(await new Promise<string>((resolve) => {
    let text = "";
    process.stdin.setEncoding("utf8").on("data", (c: string) => (text += c)).on("end", () => resolve(text));
  })) as CaptureRequest[];
  const revive = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(revive);
    if (value === null || typeof value !== "object") return value;
    const o = value as Record<string, unknown>;
    if ("$secret" in o) return pulumi.secret(revive(o.$secret));
    if ("$output" in o) return pulumi.output(revive(o.$output));
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, revive(v)]));
  };
  const registrations = await registerUnderMocks(
    () => requests.map((r) => new CopiedObject(r.name, revive(r.args) as never, r.opts as never)),
    { pulumi },
  );
  process.stdout.write(JSON.stringify(registrations));
}

void main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
