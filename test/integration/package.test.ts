// The package as users get it: `npm pack` from this checkout, installed with @pulumi/pulumi (and @pulumi/aws, as
// the README's quick start uses it) into a fresh program directory outside the repository. The program the README
// shows is type-checked there, and a copy runs end to end through Pulumi's real provider host on moto, with the
// provider shim loading the installed tarball by name.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MiniEngine } from "../support/engine.ts";
import { captureInPlainNode, ProviderHost } from "../support/providerHost.ts";
import { repoRoot, startS3Rig, type S3Rig } from "../support/s3rig.ts";

let dir: string;
let tarball: string;
let files: string[];
let rig: S3Rig;
const version = (name: string) => JSON.parse(fs.readFileSync(path.join(repoRoot, "node_modules", name, "package.json"), "utf8")).version as string;
const npm = (args: string[], cwd: string) => execFileSync(process.execPath, [process.env.npm_execpath ?? require_npm(), ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** npm's CLI script, next to the node running the tests when npm did not start them. */
function require_npm(): string {
  const out = spawnSync("npm", ["prefix", "-g"], { encoding: "utf8" });
  return path.join(out.stdout.trim(), "lib", "node_modules", "npm", "bin", "npm-cli.js");
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "copied-object-user-"));
  const packed = JSON.parse(npm(["pack", "--json", "--pack-destination", dir], repoRoot)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = path.join(dir, packed[0].filename);
  files = packed[0].files.map((f) => f.path);
  const program = path.join(dir, "program");
  fs.mkdirSync(program);
  fs.writeFileSync(path.join(program, "package.json"), JSON.stringify({ name: "seed-dev", private: true, main: "index.ts" }));
  // The same @pulumi versions this checkout tests with; npm's cache holds them after `npm ci`.
  npm(["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, `@pulumi/pulumi@${version("@pulumi/pulumi")}`, `@pulumi/aws@${version("@pulumi/aws")}`], program);
  rig = await startS3Rig();
});
after(async () => {
  await rig?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("the tarball ships built code, types, the LICENSE and source maps with their sources, and no tests", () => {
  for (const file of ["package.json", "README.md", "LICENSE", "dist/index.js", "dist/index.d.ts", "dist/provider.js", "dist/copiedObject.d.ts"]) {
    assert.ok(files.includes(file), `${file} is in the tarball`);
  }
  assert.deepEqual(files.filter((f) => /^(test|src|bench|scripts|examples)\//.test(f)), [], "no tests or sources");
  assert.match(fs.readFileSync(path.join(repoRoot, "LICENSE"), "utf8"), /Apache License\s+Version 2\.0, January 2004/);
  const map = JSON.parse(fs.readFileSync(path.join(dir, "program", "node_modules", "pulumi-copied-object", "dist", "pipeline.js.map"), "utf8"));
  assert.equal(map.sourcesContent?.length, map.sources.length, "every map carries its source");
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "program", "node_modules", "pulumi-copied-object", "package.json"), "utf8"));
  for (const field of ["repository", "homepage", "bugs", "keywords", "license"]) assert.ok(manifest[field], `package.json has ${field}`);
  assert.equal(manifest.exports["./dist/provider.js"], "./dist/provider.js", "the path old state's shim requires is exported");
});

test("the README's quick start type-checks in the user's program, against the installed package's types", () => {
  const program = path.join(dir, "program");
  const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const quickStart = /## Quick start[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(quickStart, "the README has a Quick start with a TypeScript program");
  fs.writeFileSync(path.join(program, "index.ts"), quickStart);
  fs.writeFileSync(path.join(program, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, target: "es2022", module: "nodenext", moduleResolution: "nodenext", noEmit: true, skipLibCheck: true }, files: ["index.ts"] }));
  const tsc = spawnSync(process.execPath, [path.join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", program], { encoding: "utf8" });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
});

test("pulumi-copied-object/aws and /azure resolve from the tarball (nodenext and node10), load neither cloud package, and the README's helper program type-checks once @pulumi/azure-native is installed", () => {
  const program = path.join(dir, "program");
  const tsc = (file: string, moduleResolution: string) => {
    const module = moduleResolution === "node10" ? "commonjs" : "nodenext";
    fs.writeFileSync(path.join(program, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, target: "es2022", module, moduleResolution, noEmit: true, skipLibCheck: true }, files: [file] }));
    return spawnSync(process.execPath, [path.join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", program], { encoding: "utf8" });
  };
  // A program using @pulumi/aws only: the /aws helper needs nothing else installed.
  fs.writeFileSync(path.join(program, "aws-only.ts"), 'import * as aws from "@pulumi/aws";\nimport { s3Object } from "pulumi-copied-object/aws";\nexport const l = s3Object(new aws.s3.Bucket("b"), "k");\n');
  for (const resolution of ["nodenext", "node10"]) {
    const out = tsc("aws-only.ts", resolution);
    assert.equal(out.status, 0, `${resolution}: ${out.stdout}${out.stderr}`);
  }
  const loaded = execFileSync(process.execPath, ["-e", 'require("pulumi-copied-object/aws"); require("pulumi-copied-object/azure"); console.log(Object.keys(require.cache).filter((k) => /node_modules[\\/]@pulumi[\\/](aws|azure-native)[\\/]/.test(k)).length)'], { cwd: program, encoding: "utf8" });
  assert.equal(loaded.trim(), "0", "importing the helpers loads neither @pulumi/aws nor @pulumi/azure-native");

  npm(["install", "--no-audit", "--no-fund", "--prefer-offline", `@pulumi/azure-native@${version("@pulumi/azure-native")}`], program);
  const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const helpers = /### With @pulumi\/aws and @pulumi\/azure-native[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(helpers, "the README shows the helpers in a TypeScript program");
  fs.writeFileSync(path.join(program, "helpers.ts"), helpers);
  const out = tsc("helpers.ts", "nodenext");
  assert.equal(out.status, 0, out.stdout + out.stderr);
});

test("a copy runs end to end from the installed tarball: registered in the program's own @pulumi/pulumi, created and destroyed through the real host on moto", async () => {
  const program = path.join(dir, "program");
  const [src, dst] = [await rig.bucket(), await rig.bucket()];
  await rig.put(src, "db/seed.sql.gz", "from the tarball");
  const [reg] = captureInPlainNode([{ name: "seed", args: { source: rig.at(src, "db/seed.sql.gz"), destination: rig.at(dst, "seed.sql.gz") } }], program);
  assert.match(String(reg.inputs.__provider), /require\("pulumi-copied-object\/dist\/provider\.js"\)/);
  const host = await ProviderHost.start({
    cwd: program,
    env: { AWS_ACCESS_KEY_ID: rig.server.accessKeyId, AWS_SECRET_ACCESS_KEY: rig.server.secretAccessKey, AWS_REGION: rig.server.region, AWS_EC2_METADATA_DISABLED: "true" },
  });
  try {
    await host.configure();
    const engine = new MiniEngine(host);
    const { deployed } = await engine.up(reg);
    assert.equal((await rig.get(dst, "seed.sql.gz")).toString(), "from the tarball");
    assert.equal(deployed.outputs.copyStatus, "success");
    // The host loaded the installed copy, not this checkout: its realpath is inside the program.
    assert.ok(fs.realpathSync(path.join(program, "node_modules", "pulumi-copied-object")).startsWith(fs.realpathSync(program)));
    await engine.destroy(deployed);
    assert.equal(await rig.exists(dst, "seed.sql.gz"), false);
  } finally {
    await host.stop();
  }
});
