// Makes a fresh clone ready for `npm test` and `npm run demo`, which run it first: nothing else is needed.
// - `npm ci` when node_modules is missing or older than package-lock.json (it builds the package and links it
//   by its own name, through the `prepare` script);
// - moto, the local S3 server: found on PATH, or in the project's .venv; else installed there with pip; else
//   one line saying what to run.
// Plain CommonJS that any Node with npm runs: the project's own Node 24 arrives with `npm ci`.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const run = (command, args, options = {}) => spawnSync(command, args, { cwd: root, stdio: "inherit", ...options });
const quiet = (command, args) => spawnSync(command, args, { cwd: root, stdio: "ignore" });

function depsStale() {
  const installed = path.join(root, "node_modules", ".package-lock.json");
  if (!fs.existsSync(installed)) return "node_modules is missing";
  const lock = fs.statSync(path.join(root, "package-lock.json")).mtimeMs;
  // npm install writes both files at once, in either order: only a lockfile clearly newer (a pull) is stale.
  return fs.statSync(installed).mtimeMs < lock - 2000 ? "node_modules is older than package-lock.json" : undefined;
}

const stale = depsStale();
if (stale) {
  console.log(`${stale}: running npm ci`);
  const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath, "ci"]] : ["npm", ["ci"]];
  const installed = run(npm[0], npm[1]);
  if (installed.status !== 0) process.exit(installed.status ?? 1);
}
// npm install (not ci) prunes the self-link; make sure it is there whichever way node_modules was made.
run(process.execPath, [path.join(root, "scripts", "link-self.js")]);

const venv = path.join(root, ".venv", "bin");
const hasMoto = () => quiet("moto_server", ["--help"]).status === 0 || quiet(path.join(venv, "moto_server"), ["--help"]).status === 0;
if (!hasMoto()) {
  console.log("moto_server is not installed: installing moto[server] into .venv with pip");
  const made = quiet("python3", ["-m", "venv", path.join(root, ".venv")]).status === 0;
  const pip = made && run(path.join(venv, "pip"), ["install", "--quiet", "moto[server]"]).status === 0;
  if (!pip || !hasMoto()) {
    console.error('moto (the local S3 server the tests and demo use) is missing and pip could not install it: run `python3 -m pip install "moto[server]"`, then npm test again');
    process.exit(1);
  }
}
