// `npm test`: typechecks the tests, then runs each tier with jest (jest.config.cjs: one project per tier).
// Usage: node test/run.cjs [unit] [integration] [live] [--match TEXT ...] [--faults] [--no-typecheck]
//   (default: unit and integration, every file; `live`, the suite against a real bucket and container
//   (`npm run test:live`, test/live), runs only when named)
// --faults: the long randomized fault runs (`npm run test:faults`): 20 kill points per store and more
// fault rounds, with a fixed seed unless FAULT_SEED is given; only the fault suites unless --match.
// --no-typecheck: skip the tsc step (test/live/against-local.ts's second pass, right after its first).
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  console.error(
    `Node ${process.versions.node} is too old: the package and its tests need Node 22 or later (package.json engines). ` +
      "Run them through npm (npm test), which uses the project's own Node 24 from devDependencies.",
  );
  process.exit(1);
}
const root = path.resolve(__dirname, "..");
const args = process.argv.slice(2);
const matches = args.flatMap((a, i) => (args[i - 1] === "--match" ? [a] : []));
const faults = args.includes("--faults");
if (faults) {
  process.env.FAULT_SEED ??= "20261121";
  process.env.CRASH_POINTS ??= "20";
  process.env.FAULT_ROUNDS ??= "8";
  if (!matches.length) matches.push("crash", "faults", "source-changes");
  console.log(`fault runs: seed ${process.env.FAULT_SEED}, ${process.env.CRASH_POINTS} kill points per store, ${process.env.FAULT_ROUNDS} fault rounds`);
}
const typecheckFirst = !args.includes("--no-typecheck");
const named = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--match");
const tiers = named.length ? named : ["unit", "integration"];
let files = tiers.flatMap((tier) => listTests(path.join(__dirname, tier)));
if (tiers.includes("integration")) files.push(...listTests(path.join(__dirname, "support")));
if (matches.length) files = files.filter((f) => matches.some((m) => path.basename(f).includes(m)));

if (typecheckFirst) {
  const typecheck = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.test.json"], { cwd: root, stdio: "inherit" });
  if (typecheck.status !== 0) process.exit(typecheck.status ?? 1);
}

// One file at a time (the suites start servers and provider hosts of their own), no per-test deadline:
// a copy's own timeoutSeconds is what a test measures, never jest's clock.
const jest = [require.resolve("jest/bin/jest"), "--runInBand", "--testTimeout=1800000", "--verbose", "--ci"];
const projects = tiers.includes("integration") ? [...tiers, "support"] : tiers;
const run = spawnSync(process.execPath, [...jest, "--selectProjects", ...projects, "--runTestsByPath", ...files.map((f) => path.relative(root, f))], {
  cwd: root,
  stdio: "inherit",
});
process.exit(run.status ?? 1);

function listTests(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true })
    .filter((f) => String(f).endsWith(".test.ts"))
    .map((f) => path.join(dir, String(f)))
    .sort();
}
