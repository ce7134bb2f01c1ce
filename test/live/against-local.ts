// `npm run test:live:local`: proves the live suite runs, in CI and here, by pointing it at local servers through
// the very variables a real cloud uses. Starts moto and Azurite (test/support), creates a versioned bucket and a
// container, sets LIVE_* and the credentials' standard variables, and runs `node test/run.cjs live`; then runs
// the S3 files again on an unversioned bucket (the other branch of destroy and of the sweep). Afterwards every
// bucket and the container must be empty, versions, delete markers and multipart uploads included: what the
// suite wrote, it removed. The servers are stopped by their process group's PID, whatever happened.
//
//   node test/live/against-local.ts [--match TEXT ...]     (arguments go to test/run.cjs)
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { CreateBucketCommand, PutBucketVersioningCommand } from "@aws-sdk/client-s3";
import { blobService, startAzurite, type Azurite } from "../support/azurite.ts";
import { s3Client, startS3Server, type S3Server } from "../support/s3server.ts";
import { listBlobs, listS3 } from "../support/liveSweep.ts";

const root = process.cwd();
const passthrough = process.argv.slice(2);
const started = Date.now();
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

let moto: S3Server | undefined;
let azurite: Azurite | undefined;
let status = 1;
try {
  [moto, azurite] = await Promise.all([startS3Server({ moto: true }), startAzurite()]);
  const s3 = s3Client(moto);
  const versioned = `live-versioned-${randomBytes(4).toString("hex")}`;
  const plain = `live-plain-${randomBytes(4).toString("hex")}`;
  for (const Bucket of [versioned, plain]) await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: "Enabled" } }));
  const { primary } = azurite.accounts;
  const container = `live${randomBytes(4).toString("hex")}`;
  await blobService(primary).createContainer(container);
  console.log(`against-local: moto at ${moto.endpoint}, Azurite at ${azurite.endpoint} (pid ${azurite.pid}); bucket ${versioned} (versioned), ${plain}, container ${container}; ready in ${seconds(started)}`);

  // Only what a real run would set: the LIVE_* variables and the stores' standard credential variables.
  const base: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(LIVE_|AWS_|AZURE_)/.test(k) && k !== "S3_TEST_ENDPOINT"),
  );
  const aws = {
    AWS_ACCESS_KEY_ID: moto.accessKeyId,
    AWS_SECRET_ACCESS_KEY: moto.secretAccessKey,
    AWS_REGION: moto.region,
    AWS_EC2_METADATA_DISABLED: "true",
    LIVE_S3_ENDPOINT: moto.endpoint,
  };
  const azure = { LIVE_AZURE_ACCOUNT_URL: primary.url, LIVE_AZURE_CONTAINER: container, AZURE_STORAGE_ACCOUNT: primary.name, AZURE_STORAGE_KEY: primary.key };

  const passes: Array<[string, NodeJS.ProcessEnv, string[]]> = [
    ["versioned bucket + Azure container", { ...base, ...aws, ...azure, LIVE_S3_BUCKET: versioned }, passthrough],
    // The S3 files again, on an unversioned bucket; the typecheck has just run.
    ["unversioned bucket, S3 only", { ...base, ...aws, LIVE_S3_BUCKET: plain }, [...(passthrough.includes("--match") ? passthrough.filter((a) => a !== "--no-typecheck") : ["--match", "s3", "--match", "cleanup"]), "--no-typecheck"]],
  ];
  const results: string[] = [];
  status = 0;
  for (const [label, env, args] of passes) {
    const t = Date.now();
    console.log(`\nagainst-local: ${label}: node test/run.cjs live ${args.join(" ")}`);
    const code = await runNode([path.join(root, "test", "run.cjs"), "live", ...args], env);
    results.push(`${label}: ${code === 0 ? "passed" : `FAILED (exit ${code})`} in ${seconds(t)}`);
    if (code !== 0) status = code;
  }

  // Everything the suite wrote, it removed: nothing at all is left in the buckets or the container.
  const leftovers: string[] = [];
  for (const [bucket, versioning] of [[versioned, "Enabled"], [plain, "Off"]] as const) {
    const left = await listS3(s3, { bucket, region: moto.region, endpoint: moto.endpoint, versioning }, "");
    if (left.versions.length || left.uploads.length) leftovers.push(`s3://${bucket}: ${JSON.stringify(left).slice(0, 400)}`);
  }
  const blobs = await listBlobs(blobService(primary).getContainerClient(container), "");
  if (blobs.length) leftovers.push(`${primary.url}/${container}: ${JSON.stringify(blobs).slice(0, 400)}`);
  results.push(leftovers.length ? `LEFTOVERS after the runs:\n    ${leftovers.join("\n    ")}` : "after the runs, both buckets (versions, delete markers, uploads) and the container (blobs, snapshots, uncommitted) are empty");
  if (leftovers.length) status ||= 1;
  console.log(`\nagainst-local: ${results.map((r) => `\n  ${r}`).join("")}\n  total ${seconds(started)}`);
} catch (e) {
  console.error(`against-local: ${(e as Error).stack ?? String(e)}`);
  status = 1;
} finally {
  // By PID: each server's own process group.
  await Promise.all([moto?.stop(), azurite?.stop()]);
}
process.exit(status);

/** Runs a Node script with this Node, inheriting the terminal; resolves to its exit code. */
function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: "inherit" });
    child.on("error", () => resolve(1));
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
