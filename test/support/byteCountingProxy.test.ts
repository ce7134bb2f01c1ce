// The instrument of the P2 benchmark, checked against traffic whose bytes are known: a child
// process (standing for the provider host) and this process send requests through it.
import { test } from "./testing.ts";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { startByteCountingProxy } from "./byteCountingProxy.ts";

test("the byte-counting proxy counts a client process's bytes exactly, tells content from protocol, and keeps others' traffic apart", async () => {
  const upstream = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      // Random-looking content for /object, an XML answer otherwise.
      const body = req.url === "/object" ? Buffer.alloc(2000, 0xff) : Buffer.from("<?xml version=\"1.0\"?><Ok/>");
      res.writeHead(200, { "content-length": body.length }).end(body);
    });
  });
  upstream.listen(0, "127.0.0.1");
  await once(upstream, "listening");
  const target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  let clientPid = 0;
  const proxy = await startByteCountingProxy({ upstream: target, forwardTo: () => [new URL(target).host], clientPids: () => [clientPid] });
  try {
    // The "client": one PUT of 1000 content bytes (relative target), one GET through it as HTTP_PROXY (absolute target).
    const script = `
      const http = require("node:http");
      const agent = new http.Agent({ keepAlive: false });
      const send = (opts, body) => new Promise((ok, fail) => { const r = http.request({ ...opts, agent }, (res) => { res.resume(); res.on("end", ok); }); r.on("error", fail); r.end(body); });
      process.stdin.once("data", async () => {
        await send({ host: "127.0.0.1", port: ${new URL(proxy.endpoint).port}, method: "PUT", path: "/object", headers: { "content-length": 1000 } }, Buffer.alloc(1000, 0xfe));
        await send({ host: "127.0.0.1", port: ${new URL(proxy.endpoint).port}, method: "GET", path: "${target}/list" });
        process.exit(0);
      });`;
    const child = spawn(process.execPath, ["-e", script], { stdio: ["pipe", "inherit", "inherit"] });
    clientPid = child.pid!;
    const m = proxy.measure();
    child.stdin!.write("go\n");
    await once(child, "exit");
    // Someone else (a service's read) through the same proxy.
    await new Promise<void>((resolve) => http.get(`${proxy.endpoint}/object`, (res) => res.resume().on("end", resolve)));
    const { client, other } = m.end();
    assert.deepEqual([client.connections, client.requests, other.connections, other.requests], [2, 2, 1, 1]);
    assert.deepEqual([client.payloadIn, client.payloadOut, client.requestBody, client.responseBody], [1000, 2000, 1000, 2000 + 26]);
    // The socket counters hold the bodies plus heads of a few hundred bytes.
    assert.ok(client.rawIn > 1000 && client.rawIn < 1000 + 600, `${client.rawIn} bytes in`);
    assert.ok(client.rawOut > 2026 && client.rawOut < 2026 + 600, `${client.rawOut} bytes out`);
    assert.deepEqual([other.payloadOut, other.payloadIn], [2000, 0]);
    assert.deepEqual(proxy.requests.map((r) => [r.who, r.method, r.payload]), [["client", "PUT", true], ["client", "GET", false], ["other", "GET", true]]);
  } finally {
    await proxy.close();
    upstream.closeAllConnections();
    upstream.close();
  }
});
