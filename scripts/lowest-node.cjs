// The lowest Node.js that package.json's `engines` claims, installed once into .cache/ from the npm registry
// (the node-<platform>-<arch> package the `node` package itself installs), so that the tests can run the
// package's run-time code on it. Prints the binary's path.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { cacheInstall } = require("./cache-install.cjs");

const engines = JSON.parse(fs.readFileSync(path.resolve(__dirname, "..", "package.json"), "utf8")).engines.node;
const major = /^>=\s*(\d+)/.exec(engines)?.[1];
if (!major) throw new Error(`engines.node is "${engines}": expected ">=N"`);
const dir = cacheInstall(`node-${process.platform}-${process.arch}@${major}`);
process.stdout.write(path.join(dir, "bin", process.platform === "win32" ? "node.exe" : "node"));
