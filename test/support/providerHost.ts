/**
 * Drives Pulumi's real Node dynamic-provider host over gRPC, as the engine does, since no Pulumi
 * CLI can run here. `registerUnderMocks` captures what a program registers (including the
 * serialized `__provider`); `ProviderHost` spawns the host and calls its provider methods.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import * as pulumi from "@pulumi/pulumi";
import provproto from "@pulumi/pulumi/proto/provider_pb.js";
import provrpc from "@pulumi/pulumi/proto/provider_grpc_pb.js";
import statusproto from "@pulumi/pulumi/proto/status_pb.js";
import structproto from "google-protobuf/google/protobuf/struct_pb.js";

export interface Registration {
  type: string;
  name: string;
  urn: string;
  /** Plaintext, as the engine sends them to a provider that does not accept secrets. */
  inputs: Record<string, unknown>;
  /** Input paths registered as secret, e.g. "source" or "source.s3.credentials", in the form `a.b[0]`. */
  secretPaths: string[];
  additionalSecretOutputs: string[];
  /** The engine never calls Delete for such a resource. */
  retainOnDelete: boolean;
  /** URNs the resource waits for: its `dependsOn`, and the resources its inputs' Outputs came from. */
  dependencies: string[];
  /** Per top-level input, the URNs its value came from (RegisterResourceRequest's propertyDependencies). */
  propertyDependencies: Record<string, string[]>;
  /** A resource read, not managed (`Resource.get`): the id it was read by. Its `inputs` are the read's properties. */
  readId?: string;
}

/** How `registerUnderMocks` runs a program. */
export interface MockOptions {
  project?: string;
  stack?: string;
  /** The @pulumi/pulumi the program's resources come from (a program of its own installs its own). */
  pulumi?: typeof pulumi;
  /**
   * Plays the providers (possibly async). Either may be left out: `newResource` then returns the inputs as the
   * state, `call` its inputs as the result.
   */
  mocks?: Partial<pulumi.runtime.Mocks>;
  /**
   * As `pulumi preview` runs a program: an output the mocks leave out of a resource's state is unknown, and reaches
   * the resources that use it as the engine's unknown sentinel. @default false
   */
  preview?: boolean;
}

export interface ResourceRef {
  type: string;
  name: string;
  urn: string;
}

type Props = Record<string, unknown>;

// Wire signatures from @pulumi/pulumi runtime/rpc.js.
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";

/** The @pulumi/pulumi module, as a program loads it. */
export type PulumiSdk = typeof pulumi;

let mockLock: Promise<unknown> = Promise.resolve();

/**
 * Runs `program` under `pulumi.runtime.setMocks` in this process and returns what each resource
 * registered. The runtime's MockMonitor only hands `newResource` deserialized inputs (secrets
 * already unwrapped) and no options, so the monitor instance is wrapped to read the raw
 * RegisterResourceRequest: its `object` Struct still carries secret wrappers, and
 * `additionalSecretOutputs` is a request field. Calls are serialized: the mock monitor is global.
 */
export function registerUnderMocks(program: () => unknown, opts: MockOptions = {}): Promise<Registration[]> {
  const run = mockLock.then(() => runUnderMocks(program, opts));
  mockLock = run.catch(() => undefined);
  return run;
}

interface RawRegisterRequest {
  getType(): string;
  getName(): string;
  getObject(): structproto.Struct | undefined;
  getAdditionalsecretoutputsList(): string[];
  getRetainondelete?(): boolean;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(fn: (deps: { getUrnsList(): string[] }, key: string) => void): void };
}
interface RawReadRequest {
  getType(): string;
  getName(): string;
  getId(): string;
  getProperties(): structproto.Struct | undefined;
  getDependenciesList(): string[];
}
type MonitorCallback = (err: unknown, resp?: { getUrn(): string }) => void;
interface RawMonitor {
  registerResource(req: RawRegisterRequest, cb: MonitorCallback): unknown;
  readResource(req: RawReadRequest, cb: MonitorCallback): unknown;
}

const DEFAULT_MOCKS: pulumi.runtime.Mocks = {
  newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }),
  call: (a) => a.inputs,
};

async function runUnderMocks(program: () => unknown, opts: MockOptions): Promise<Registration[]> {
  const sdk = opts.pulumi ?? pulumi;
  const mocks: pulumi.runtime.Mocks = {
    newResource: opts.mocks?.newResource?.bind(opts.mocks) ?? DEFAULT_MOCKS.newResource,
    call: opts.mocks?.call?.bind(opts.mocks) ?? DEFAULT_MOCKS.call,
  };
  await sdk.runtime.setMocks(mocks, opts.project ?? "project", opts.stack ?? "stack", opts.preview ?? false);
  const monitor = sdk.runtime.getMonitor() as unknown as RawMonitor;
  const original = monitor.registerResource.bind(monitor);
  const originalRead = monitor.readResource.bind(monitor);
  const registrations: Registration[] = [];
  const errors: unknown[] = [];
  monitor.registerResource = (req, cb) => {
    const secretPaths: string[] = [];
    const inputs = toEngineView(req.getObject()?.toJavaScript() ?? {}, "", secretPaths) as Props;
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => void (propertyDependencies[key] = deps.getUrnsList()));
    return original(req, (err, resp) => {
      if (err) errors.push(err);
      else registrations.push({
        type: req.getType(),
        name: req.getName(),
        urn: resp!.getUrn(),
        inputs,
        secretPaths,
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        retainOnDelete: req.getRetainondelete?.() ?? false,
        dependencies: req.getDependenciesList(),
        propertyDependencies,
      });
      cb(err, resp);
    });
  };
  monitor.readResource = (req, cb) => {
    const secretPaths: string[] = [];
    const inputs = toEngineView(req.getProperties()?.toJavaScript() ?? {}, "", secretPaths) as Props;
    return originalRead(req, (err, resp) => {
      if (err) errors.push(err);
      else registrations.push({
        type: req.getType(),
        name: req.getName(),
        urn: resp!.getUrn(),
        inputs,
        secretPaths,
        additionalSecretOutputs: [],
        retainOnDelete: false,
        dependencies: req.getDependenciesList(),
        propertyDependencies: {},
        readId: req.getId(),
      });
      cb(err, resp);
    });
  };
  await program();
  // @internal in the SDK typings, but exported: waits until every queued registration is done.
  await (sdk.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  if (errors.length > 0) throw new AggregateError(errors, "resource registration failed under mocks");
  return registrations;
}

/** Unwraps secrets (recording their paths) and downgrades resource references to id/urn, as the engine does for this host. */
function toEngineView(v: unknown, path: string, secrets: string[]): unknown {
  if (Array.isArray(v)) return v.map((x, i) => toEngineView(x, `${path}[${i}]`, secrets));
  if (v === null || typeof v !== "object") return v;
  const o = v as Props;
  if (o[SIG_KEY] === SECRET_SIG) {
    secrets.push(path);
    return toEngineView(o.value, path, secrets);
  }
  if (o[SIG_KEY] === RESOURCE_SIG) return typeof o.id === "string" && o.id !== "" ? o.id : o.urn;
  if (o[SIG_KEY] !== undefined) return o; // assets, archives: passed as they are
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, toEngineView(x, path ? `${path}.${k}` : k, secrets)]));
}

export class HostCallError extends Error {
  method: string;
  grpcCode: number;
  /** Decoded from the ErrorResourceInitFailed detail: the host's "created, but failed" report. */
  partial?: { id: string; properties: Props; reasons: string[] };

  constructor(method: string, err: grpc.ServiceError) {
    super(`${method} failed (grpc ${grpc.status[err.code] ?? err.code}): ${err.details || err.message}`);
    this.name = "HostCallError";
    this.method = method;
    this.grpcCode = err.code;
    const detailBytes = err.metadata?.get("grpc-status-details-bin")[0];
    if (detailBytes instanceof Buffer) {
      for (const any of statusproto.Status.deserializeBinary(detailBytes).getDetailsList()) {
        const d = any.unpack(provproto.ErrorResourceInitFailed.deserializeBinary, "pulumirpc.ErrorResourceInitFailed");
        if (d) this.partial = { id: d.getId(), properties: d.getProperties()?.toJavaScript() ?? {}, reasons: d.getReasonsList() };
      }
    }
  }
}

// Hosts still alive when this process ends are killed with their group, so none is orphaned.
const live = new Set<number>();
function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}
let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => live.forEach((pid) => killGroup(pid, "SIGKILL")));
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      live.forEach((pid) => killGroup(pid, "SIGKILL"));
      // Keep the default "die of this signal" unless someone else handles it.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

const HOST_SCRIPT = createRequire(path.join(process.cwd(), "package.json")).resolve("@pulumi/pulumi/cmd/dynamic-provider/index.js");
const CHANGES = { [provproto.DiffResponse.DiffChanges.DIFF_NONE]: "none", [provproto.DiffResponse.DiffChanges.DIFF_SOME]: "some" } as const;

type Unary<Res> = (md: grpc.Metadata, o: Partial<grpc.CallOptions>, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown;

export interface StartOptions {
  /** The Pulumi program's directory: `require("pkg")` in `__provider` resolves from here. */
  cwd: string;
  /** Laid over this process's env (`undefined` removes a variable). PULUMI_NODEJS_PROJECT/STACK default to the mocks' "project"/"stack". */
  env?: NodeJS.ProcessEnv;
  /** Deadline of every gRPC call. @default 60000 */
  callTimeoutMs?: number;
  /** @default 20000 */
  startTimeoutMs?: number;
  /** The Node.js binary the host runs on. @default this process's */
  node?: string;
}

export class ProviderHost {
  readonly pid: number;
  private readonly child: ChildProcess;
  private readonly client: provrpc.ResourceProviderClient;
  private readonly callTimeoutMs: number;
  private readonly chunks: string[];
  private readonly exit: Promise<{ code: number | null; signal: string | null }>;

  private constructor(child: ChildProcess, port: number, chunks: string[], exit: ProviderHost["exit"], callTimeoutMs: number) {
    this.child = child;
    this.pid = child.pid!;
    this.chunks = chunks;
    this.exit = exit;
    this.callTimeoutMs = callTimeoutMs;
    this.client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": 400 * 1024 * 1024, // as the SDK: __provider can be large
    });
  }

  static async start(opts: StartOptions): Promise<ProviderHost> {
    const env: NodeJS.ProcessEnv = { ...process.env, PULUMI_NODEJS_PROJECT: "project", PULUMI_NODEJS_STACK: "stack", ...opts.env };
    delete env.NODE_TEST_CONTEXT; // else a host that loads node:test would report to our runner
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name]; // `undefined` unsets
    // Its own process group, as the engine starts plugins; the engine address is never used.
    const child = spawn(opts.node ?? process.execPath, [HOST_SCRIPT, "127.0.0.1:1"], { cwd: opts.cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    if (child.pid === undefined) throw new Error(`cannot spawn the provider host: ${(await once(child, "error"))[0]}`);
    installExitHooks();
    live.add(child.pid);
    const chunks: string[] = [];
    const drained = Promise.all([child.stdout!, child.stderr!].map((s) => {
      s.setEncoding("utf8").on("data", (c: string) => chunks.push(c));
      return once(s, "close").catch(() => undefined);
    }));
    const pid = child.pid;
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.once("exit", (code, signal) => {
        live.delete(pid);
        // Bounded: a grandchild holding the pipes must not stall exited().
        void Promise.race([drained, sleep(2000, undefined, { ref: false })]).then(() => resolve({ code, signal }));
      });
    });
    const firstLine = new Promise<string>((resolve) => {
      let out = "";
      const onData = (c: string) => {
        out += c;
        if (out.includes("\n")) {
          child.stdout!.off("data", onData);
          resolve(out.slice(0, out.indexOf("\n")));
        }
      };
      child.stdout!.on("data", onData);
    });
    const port = await Promise.race([
      firstLine.then(Number),
      exit.then((e) => Promise.reject(new Error(`provider host exited (${e.signal ?? e.code}) before listening:\n${chunks.join("")}`))),
      sleep(opts.startTimeoutMs ?? 20_000, undefined, { ref: false }).then(() => Promise.reject(new Error(`provider host did not print its port:\n${chunks.join("")}`))),
    ]).catch((e: unknown) => {
      killGroup(pid, "SIGKILL");
      throw e;
    });
    if (!Number.isInteger(port) || port <= 0) {
      killGroup(pid, "SIGKILL");
      throw new Error(`provider host printed no port:\n${chunks.join("")}`);
    }
    // Unreferenced from now on, so a forgotten host cannot keep the test process alive; the exit hook kills it.
    child.unref();
    for (const s of [child.stdout, child.stderr]) (s as unknown as { unref?(): void }).unref?.();
    return new ProviderHost(child, port, chunks, exit, opts.callTimeoutMs ?? 60_000);
  }

  /** The engine always sends `args` (the host throws without them, and the call then never returns). */
  async configure(config: Props = {}): Promise<void> {
    const req = new provproto.ConfigureRequest();
    req.setArgs(struct(config));
    req.setAcceptsecrets(true);
    req.setAcceptresources(true);
    req.setSendsOldInputs(true);
    req.setSendsOldInputsToDelete(true);
    await this.unary<provproto.ConfigureResponse>("Configure", (m, o, cb) => this.client.configure(req, m, o, cb));
  }

  async check(reg: ResourceRef, olds: Props, news: Props): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }> {
    const req = new provproto.CheckRequest();
    setRef(req, reg);
    req.setOlds(struct(olds));
    req.setNews(struct(news));
    const resp = await this.unary<provproto.CheckResponse>("Check", (m, o, cb) => this.client.check(req, m, o, cb));
    return {
      inputs: resp.getInputs()?.toJavaScript() ?? {},
      failures: resp.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
    };
  }

  /** `olds` are the old outputs, as the engine sends them. */
  async diff(reg: ResourceRef, id: string, olds: Props, news: Props): Promise<{ changes: "none" | "some" | "unknown"; replaces: string[]; deleteBeforeReplace: boolean }> {
    const req = new provproto.DiffRequest();
    setRef(req, reg);
    req.setId(id);
    req.setOlds(struct(olds));
    req.setNews(struct(news));
    const resp = await this.unary<provproto.DiffResponse>("Diff", (m, o, cb) => this.client.diff(req, m, o, cb));
    return {
      changes: CHANGES[resp.getChanges() as keyof typeof CHANGES] ?? "unknown",
      replaces: resp.getReplacesList(),
      deleteBeforeReplace: resp.getDeletebeforereplace(),
    };
  }

  async create(reg: ResourceRef, props: Props): Promise<{ id: string; properties: Props }> {
    const req = new provproto.CreateRequest();
    setRef(req, reg);
    req.setProperties(struct(props));
    const resp = await this.unary<provproto.CreateResponse>("Create", (m, o, cb) => this.client.create(req, m, o, cb));
    return { id: resp.getId(), properties: resp.getProperties()?.toJavaScript() ?? {} };
  }

  async read(reg: ResourceRef, id: string, props: Props): Promise<{ id: string; properties: Props; inputs?: Props }> {
    const req = new provproto.ReadRequest();
    setRef(req, reg);
    req.setId(id);
    req.setProperties(struct(props));
    const resp = await this.unary<provproto.ReadResponse>("Read", (m, o, cb) => this.client.read(req, m, o, cb));
    const inputs = resp.getInputs()?.toJavaScript();
    return { id: resp.getId(), properties: resp.getProperties()?.toJavaScript() ?? {}, ...(inputs ? { inputs } : {}) };
  }

  async update(reg: ResourceRef, id: string, olds: Props, news: Props): Promise<{ properties: Props }> {
    const req = new provproto.UpdateRequest();
    setRef(req, reg);
    req.setId(id);
    req.setOlds(struct(olds));
    req.setNews(struct(news));
    const resp = await this.unary<provproto.UpdateResponse>("Update", (m, o, cb) => this.client.update(req, m, o, cb));
    return { properties: resp.getProperties()?.toJavaScript() ?? {} };
  }

  async delete(reg: ResourceRef, id: string, props: Props): Promise<void> {
    const req = new provproto.DeleteRequest();
    setRef(req, reg);
    req.setId(id);
    req.setProperties(struct(props));
    await this.unary<unknown>("Delete", (m, o, cb) => this.client.delete(req, m, o, cb));
  }

  /** Everything the host wrote to stdout and stderr so far, interleaved as received. */
  output(): string {
    return this.chunks.join("");
  }

  signalGroup(sig: NodeJS.Signals): void {
    process.kill(-this.pid, sig);
  }

  /** Resolves when the host process has exited. Holds this process open meanwhile. */
  exited(): Promise<{ code: number | null; signal: string | null }> {
    this.child.ref();
    return this.exit;
  }

  async stop(): Promise<void> {
    this.client.close();
    if (live.has(this.pid)) killGroup(this.pid, "SIGKILL");
    await this.exited();
  }

  private unary<Res>(method: string, invoke: Unary<Res>): Promise<Res> {
    return new Promise((resolve, reject) => {
      invoke(new grpc.Metadata(), { deadline: Date.now() + this.callTimeoutMs }, (err, resp) => {
        if (err) reject(new HostCallError(method, err));
        else resolve(resp);
      });
    });
  }
}

function setRef(req: { setUrn(v: string): unknown; setName(v: string): unknown; setType(v: string): unknown }, reg: ResourceRef): void {
  req.setUrn(reg.urn);
  req.setName(reg.name);
  req.setType(reg.type);
}

function struct(props: Props): structproto.Struct {
  return structproto.Struct.fromJavaScript(props as Record<string, structproto.JavaScriptValue>);
}

/**
 * What `requests` register when a plain Node process runs them (test/support/capture.ts), as `pulumi up` would:
 * outside jest's module realm. `from`: a program directory whose own installed packages are used.
 */
export function captureInPlainNode(requests: Array<{ name: string; args: unknown; opts?: Record<string, unknown> }>, from?: string): Registration[] {
  const script = path.join(process.cwd(), "test", "support", "capture.ts");
  const out = spawnSync(process.execPath, [script, ...(from ? ["--from", from] : [])], { input: JSON.stringify(requests), encoding: "utf8", cwd: process.cwd() });
  if (out.status !== 0) throw new Error(`capture failed (${out.status}): ${out.stderr}`);
  return JSON.parse(out.stdout) as Registration[];
}
