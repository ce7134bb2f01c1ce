// The examples are programs as users write them: each type-checks, as its own project with its own tsconfig,
// against the package linked by name (as `npm install` leaves it), under the project's TypeScript 5.9 and under
// TypeScript 6 (installed from the npm registry into .cache/ by scripts/cache-install.cjs).
import { test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { repoRoot } from "../support/s3rig.ts";

const examples = fs.readdirSync(path.join(repoRoot, "examples")).filter((d) => fs.existsSync(path.join(repoRoot, "examples", d, "tsconfig.json")));
const compilers = {
  "TypeScript 5.9": path.join(repoRoot, "node_modules", "typescript"),
  "TypeScript 6": () => execFileSync(process.execPath, [path.join(repoRoot, "scripts", "cache-install.cjs"), "typescript@6"], { encoding: "utf8" }),
};

test("there are examples, and the root Pulumi.yaml runs one of them", () => {
  assert.ok(examples.length >= 4, examples.join(", "));
  const main = /^main:\s*(\S+)/m.exec(fs.readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8"))?.[1];
  assert.ok(main && fs.existsSync(path.join(repoRoot, main, "index.ts")), `Pulumi.yaml's main (${main}) is an example program`);
});

test("Pulumi.yaml declares the config its program reads, each optional key with a default (the CLI demands any without)", () => {
  const project = fs.readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8");
  const main = /^main:\s*(\S+)/m.exec(project)![1];
  // The config block: two-space keys, each with four-space attributes.
  const block = /^config:\n((?: {2}.*\n?)*)/m.exec(project)?.[1] ?? "";
  const declared = new Map<string, { default: boolean }>();
  let key = "";
  for (const line of block.split("\n")) {
    const top = /^ {2}([\w.:-]+):\s*$/.exec(line);
    if (top) declared.set((key = top[1]), { default: false });
    else if (/^ {4}default:/.test(line)) declared.get(key)!.default = true;
  }
  const program = fs.readFileSync(path.join(repoRoot, main, "index.ts"), "utf8");
  const reads = new Map([...program.matchAll(/config\.(get|require)\w*\("([^"]+)"/g)].map((m) => [m[2], m[1]] as const));
  assert.ok(reads.size > 0, "the main program reads its config");
  assert.deepEqual([...declared.keys()].sort(), [...reads.keys()].sort(), "declared keys are the keys the program reads");
  // pulumi/pulumi#21797: a declared key without a default must be set in every stack, even one the program only `get`s.
  for (const [name, how] of reads) if (how === "get") assert.ok(declared.get(name)?.default, `${name} is optional: it needs a default`);
});

for (const [name, where] of Object.entries(compilers)) {
  test(`every example type-checks under ${name}`, () => {
    const dir = typeof where === "function" ? where() : where;
    const version = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version as string;
    assert.equal(version.split(".")[0], name.split(" ")[1].split(".")[0], `${name} is ${version}`);
    for (const example of examples) {
      const tsc = spawnSync(process.execPath, [path.join(dir, "bin", "tsc"), "-p", path.join(repoRoot, "examples", example), "--noEmit"], { encoding: "utf8" });
      assert.equal(tsc.status, 0, `${example} under ${name} ${version}:\n${tsc.stdout}${tsc.stderr}`);
    }
  });
}
