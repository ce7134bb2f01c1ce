// Makes `require("pulumi-copied-object")` resolve to this checkout from any directory below it,
// as it will for a user who installed the package. The serialized provider shim requires the
// package by name, so the provider host (cwd = the program directory) must find it this way.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const link = path.join(root, "node_modules", "pulumi-copied-object");
try {
  if (fs.readlinkSync(link) === "..") process.exit(0);
  fs.rmSync(link, { recursive: true, force: true });
} catch {
  // not a link yet
}
fs.mkdirSync(path.dirname(link), { recursive: true });
fs.symlinkSync("..", link, "dir");
