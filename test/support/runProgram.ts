/**
 * Runs a Pulumi program under Pulumi's mocks with the fake cloud (fakeCloud.ts), in a plain Node process, as
 * `pulumi up` or `pulumi preview` would run it: outside jest's module realm (whose closure serialization differs,
 * DESIGN.md §6), and once per process, since a program runs once per load. Prints as JSON what every resource
 * registered, the state the fake cloud gave each, and the invokes it answered.
 *
 *   node test/support/runProgram.ts < '{ "program": "examples/seed-environment", "project": "seed-environment",
 *                                        "config": { "sourceBucket": "prod" }, "preview": false }'
 */
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { fakeCloud } from "./fakeCloud.ts";
import { loadProgram } from "./programLoader.ts";
import { registerUnderMocks } from "./providerHost.ts";

export interface ProgramRun {
  /** The program's directory, relative to the working directory or absolute. */
  program: string;
  project: string;
  config: Record<string, string>;
  preview?: boolean;
}

async function main(): Promise<void> {
  const run = JSON.parse(await new Promise<string>((resolve) => {
    let text = "";
    process.stdin.setEncoding("utf8").on("data", (c: string) => (text += c)).on("end", () => resolve(text));
  })) as ProgramRun;
  const cloud = fakeCloud(!run.preview);
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(run.config).map(([k, v]) => [`${run.project}:${k}`, v])));
  const registrations = await registerUnderMocks(() => loadProgram(path.resolve(run.program)), {
    project: run.project,
    mocks: cloud.mocks,
    preview: run.preview ?? false,
  });
  process.stdout.write(JSON.stringify({ registrations, states: cloud.states, calls: cloud.calls }));
}

void main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
