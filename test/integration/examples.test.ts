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
