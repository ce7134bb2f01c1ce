/** The peers' command-line tools: found, installed (rclone, through apt-get), or explained. */
import { spawn, spawnSync } from "node:child_process";

/**
 * rclone's AWS SDK refuses to start when AWS_CA_BUNDLE is set ("unsupported transport"), as it is
 * on machines behind a TLS-inspecting proxy; every server here is plain http on 127.0.0.1.
 */
export const RCLONE_ENV: NodeJS.ProcessEnv = { AWS_CA_BUNDLE: undefined };

/** Undefined when `rclone` is usable, else why not. Installs it with apt-get when it can. */
export function ensureRclone(): string | undefined {
  if (works("rclone", ["version"])) return undefined;
  if (process.getuid?.() !== 0 || !works("apt-get", ["--version"])) return "rclone is not installed, and apt-get (as root) is not available to install it: install rclone 1.60 or later";
  console.log("[bench] installing rclone with apt-get");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () => spawnSync("apt-get", ["install", "-y", "-qq", "rclone"], { env, stdio: "ignore" }).status === 0;
  if (!install()) spawnSync("apt-get", ["update", "-qq"], { env, stdio: "ignore" });
  return install() || works("rclone", ["version"]) ? undefined : "apt-get could not install rclone (no package index reachable?): install rclone 1.60 or later";
}

/** Undefined when the AWS CLI is on PATH, else why not. */
export function awsCliMissing(): string | undefined {
  return works("aws", ["--version"]) ? undefined : "the AWS CLI (`aws`) is not on PATH: install it with `python3 -m pip install awscli`";
}

/** This process's environment with `env` laid over it; an undefined value removes the variable. */
function merged(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...process.env, ...env };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

function works(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
}

/** Runs a command to the end and returns its wall time (spawned directly: no wrapper's start-up is counted). */
export async function runTimed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ ms: number }> {
  const t0 = performance.now();
  const child = spawn(cmd, args, { env: merged(env), stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err = (err + c).slice(-3000)));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`${cmd} exited ${code}: ${err.trim().split("\n").slice(-3).join(" / ")}`);
  return { ms };
}

/**
 * Runs a command to the end and returns its wall time and peak RSS. The peak comes from the
 * kernel (getrusage of the waited child, through a python wrapper), not from sampling.
 */
export async function runMeasured(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ ms: number; peakRssBytes: number }> {
  const wrapper = "import resource,subprocess,sys\nr=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.PIPE)\nsys.stderr.buffer.write(r.stderr[-3000:])\nprint(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\nsys.exit(r.returncode)";
  const t0 = performance.now();
  const child = spawn("python3", ["-c", wrapper, cmd, ...args], { env: merged(env), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`${cmd} exited ${code}: ${err.trim().split("\n").slice(-3).join(" / ")}`);
  return { ms, peakRssBytes: Number(out.trim()) * 1024 };
}
