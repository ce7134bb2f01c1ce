import { after, test } from "./testing.ts";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import * as pulumi from "@pulumi/pulumi";
import { HostCallError, ProviderHost, registerUnderMocks, type Registration } from "./providerHost.ts";
import { Echo } from "./fixtures/echoProvider.cjs";

const UNKNOWN = 2;
const ROOT = path.resolve("."); // the tests run from the repo root

async function registerEcho(args: Record<string, pulumi.Input<unknown>>, opts?: pulumi.CustomResourceOptions): Promise<Registration> {
  const regs = await registerUnderMocks(() => new Echo("e1", args, opts));
  assert.equal(regs.length, 1);
  return regs[0]!;
}

async function withHost<T>(fn: (host: ProviderHost) => Promise<T>, cwd = ROOT): Promise<T> {
  const host = await ProviderHost.start({ cwd });
  try {
    await host.configure();
    return await fn(host);
  } finally {
    await host.stop();
  }
}

async function rejection(p: Promise<unknown>): Promise<HostCallError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof HostCallError, `expected a HostCallError, got ${String(err)}`);
  return err;
}

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "provider-host-"));
  tempDirs.push(dir);
  return dir;
}

test("a program registered under mocks yields its URN, plaintext inputs and the serialized provider", async () => {
  const reg = await registerEcho({ greeting: "hi" });
  assert.equal(reg.type, "pulumi-nodejs:dynamic/echo:Echo");
  assert.equal(reg.urn, "urn:pulumi:stack::project::pulumi-nodejs:dynamic/echo:Echo::e1");
  assert.equal(reg.inputs.greeting, "hi");
  assert.match(String(reg.inputs.__provider), /^exports\.handler = /);
  assert.deepEqual(reg.secretPaths, []);
});

test("check failures come back as property and reason", async () => {
  const reg = await registerEcho({ failCheck: "not allowed" });
  await withHost(async (host) => {
    const { inputs, failures } = await host.check(reg, {}, reg.inputs);
    assert.deepEqual(failures, [{ property: "failCheck", reason: "not allowed" }]);
    assert.equal(inputs.__provider, reg.inputs.__provider);
  });
});

test("an error thrown by check, diff or delete arrives as UNKNOWN with the message, and its stack is logged", async () => {
  const reg = await registerEcho({ throwIn: "check" });
  await withHost(async (host) => {
    const err = await rejection(host.check(reg, {}, reg.inputs));
    assert.equal(err.method, "Check");
    assert.equal(err.grpcCode, UNKNOWN);
    assert.match(err.message, /check exploded/);
    assert.equal(err.partial, undefined);
    for (const method of ["diff", "delete"] as const) {
      const props = { ...reg.inputs, throwIn: method };
      const call = method === "diff" ? host.diff(reg, "echo-e1", props, props) : host.delete(reg, "echo-e1", props);
      assert.equal((await rejection(call)).grpcCode, UNKNOWN);
    }
    assert.match(host.output(), /Error: diff exploded/);
  });
});

test("create, read, diff, update and delete round-trip through the real host", async () => {
  const deleteFile = path.join(tempDir(), "deleted.log");
  const reg = await registerEcho({ greeting: "hi", replaceKey: "a", deleteFile, log: "hello from create" });
  await withHost(async (host) => {
    const { inputs } = await host.check(reg, {}, reg.inputs);
    const created = await host.create(reg, inputs);
    assert.equal(created.id, "echo-e1");
    assert.equal(created.properties.greeting, "hi");
    assert.equal(created.properties.pid, host.pid, "the provider runs in the host process");
    assert.equal(created.properties.__provider, reg.inputs.__provider, "the host keeps __provider in the outputs");

    const read = await host.read(reg, created.id, created.properties);
    assert.equal(read.properties.readCount, 1);
    assert.equal(read.inputs, undefined);

    assert.deepEqual(await host.diff(reg, created.id, created.properties, inputs), { changes: "none", replaces: [], deleteBeforeReplace: false });
    const changed = { ...inputs, greeting: "hello" };
    assert.deepEqual(await host.diff(reg, created.id, created.properties, changed), { changes: "some", replaces: [], deleteBeforeReplace: false });
    const replaced = { ...inputs, replaceKey: "b", deleteBeforeReplace: true };
    assert.deepEqual(await host.diff(reg, created.id, created.properties, replaced), { changes: "some", replaces: ["replaceKey"], deleteBeforeReplace: true });

    const updated = await host.update(reg, created.id, created.properties, changed);
    assert.equal(updated.properties.greeting, "hello");
    assert.equal(updated.properties.createdBy, "create", "update received the old outputs");
    assert.equal(updated.properties.updatedFrom, "echo-e1");

    await host.delete(reg, created.id, updated.properties);
    assert.equal(fs.readFileSync(deleteFile, "utf8"), "deleted echo-e1\n");
    assert.match(host.output(), /create log: hello from create/);
  });
});

test("a create that started but failed reports its id and properties as a partial failure", async () => {
  const reg = await registerEcho({ failAfterStart: "copy aborted" });
  await withHost(async (host) => {
    const err = await rejection(host.create(reg, reg.inputs));
    assert.equal(err.grpcCode, UNKNOWN);
    assert.match(err.message, /started but failed: copy aborted/);
    assert.equal(err.partial?.id, "echo-e1");
    assert.equal(err.partial?.properties.state, "partial");
    assert.deepEqual(err.partial?.reasons, ["copy aborted"]);
  });
});

test("secret inputs are listed by path and reach the provider as plaintext, never in the host's output", async () => {
  const reg = await registerEcho(
    { token: pulumi.secret("hunter2"), nested: { key: pulumi.secret("s3cr3t"), plain: 1 }, whole: pulumi.secret({ a: "b" }) },
    { additionalSecretOutputs: ["pid"] },
  );
  assert.deepEqual([...reg.secretPaths].sort(), ["nested.key", "token", "whole"]);
  assert.deepEqual(reg.additionalSecretOutputs, ["pid"]);
  assert.equal(reg.inputs.token, "hunter2");
  await withHost(async (host) => {
    const created = await host.create(reg, reg.inputs);
    assert.equal(created.properties.token, "hunter2");
    assert.deepEqual(created.properties.nested, { key: "s3cr3t", plain: 1 });
    assert.ok(!/hunter2|s3cr3t/.test(host.output()));
  });
});

test("registerUnderMocks can run more than once in a process", async () => {
  const first = await registerUnderMocks(() => new Echo("one", {}));
  const second = await registerUnderMocks(() => [new Echo("two", {}), new Echo("three", {})]);
  assert.deepEqual(first.map((r) => r.name), ["one"]);
  assert.deepEqual(second.map((r) => r.name).sort(), ["three", "two"]);
});

test("SIGINT to the host's process group reaches the provider, and the host exits", async () => {
  const signalFile = path.join(tempDir(), "signals.log");
  const reg = await registerEcho({ sleepMs: 60_000, signalFile });
  await withHost(async (host) => {
    const creating = rejection(host.create(reg, reg.inputs));
    while (!fs.existsSync(signalFile)) await sleep(20); // the provider's handler is installed
    host.signalGroup("SIGINT");
    assert.deepEqual(await host.exited(), { code: 3, signal: null });
    assert.equal(fs.readFileSync(signalFile, "utf8"), `started ${host.pid}\nSIGINT ${host.pid}\n`);
    assert.equal((await creating).grpcCode, 14, "UNAVAILABLE: the connection dropped mid-call");
  });
});

test("a call the host does not answer in time fails with DEADLINE_EXCEEDED instead of hanging the test", async () => {
  const reg = await registerEcho({ sleepMs: 60_000 });
  const host = await ProviderHost.start({ cwd: ROOT, callTimeoutMs: 300 });
  try {
    assert.equal((await rejection(host.create(reg, reg.inputs))).grpcCode, 4);
  } finally {
    await host.stop();
  }
});

test("a host whose provider installs no handler dies of SIGINT", async () => {
  await withHost(async (host) => {
    host.signalGroup("SIGINT");
    assert.deepEqual(await host.exited(), { code: null, signal: "SIGINT" });
  });
});

test("a serialized provider run from another directory requires packages from that directory", async () => {
  const dir = tempDir();
  const pkg = path.join(dir, "src", "echo-helper-fixture");
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name: "echo-helper-fixture", main: "index.js" }));
  fs.writeFileSync(path.join(pkg, "index.js"), 'exports.hello = () => "hello from " + __dirname;\n');
  const program = path.join(dir, "program");
  fs.mkdirSync(path.join(program, "node_modules"), { recursive: true });
  fs.symlinkSync(pkg, path.join(program, "node_modules", "echo-helper-fixture"), "dir");

  const reg = await registerEcho({ useHelper: true });
  const created = await withHost((host) => host.create(reg, reg.inputs), program);
  assert.equal(created.properties.helper, `hello from ${fs.realpathSync(pkg)}`);

  const err = await withHost((host) => rejection(host.create(reg, reg.inputs)), ROOT);
  assert.match(err.message, /Cannot find module 'echo-helper-fixture'/);
});
