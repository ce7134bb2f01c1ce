// Installs one npm package (NAME@RANGE) into .cache/, once, outside the project's dependencies, and prints
// its directory: tools the tests need in a second version (the lowest Node engines claims, TypeScript 6).
"use strict";
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

function cacheInstall(spec) {
  const root = path.resolve(__dirname, "..");
  const name = spec.slice(0, spec.lastIndexOf("@"));
  const prefix = path.join(root, ".cache", spec.replace(/[^A-Za-z0-9.@-]+/g, "_"));
  const dir = path.join(prefix, "node_modules", name);
  if (!fs.existsSync(path.join(dir, "package.json"))) {
    fs.mkdirSync(prefix, { recursive: true });
    const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ["npm", []];
    const args = [...npm[1], "install", "--prefix", prefix, "--no-save", "--no-audit", "--no-fund", "--prefer-offline", spec];
    execFileSync(npm[0], args, { stdio: ["ignore", "ignore", "inherit"] });
  }
  return dir;
}

module.exports = { cacheInstall };
if (require.main === module) process.stdout.write(cacheInstall(process.argv[2]));
