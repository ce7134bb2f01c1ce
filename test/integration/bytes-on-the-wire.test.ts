// Issue 6, P2 at 10 MiB: what crosses the wire between Pulumi's real provider host and the storage
// servers for one copy, counted by a proxy on the provider's sockets (test/support/bytesRig.ts).
// Server-side paths move no object content and at most 64 KiB of protocol; the streaming fallback
// moves the object in and out, which is the proof that the counter sees payload when there is some.
// SIMULATIONS in part: File → File runs on the Files test server, and S3 → Azure's read of the
// presigned URL is played by the scripted copy proxy (see bytesRig.ts). Byte counts only, no timings.
import { after, before, test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { PATHS, startBytesRig, type BytesRig } from "../support/bytesRig.ts";

const MiB = 1024 * 1024;
const SIZE = 10 * MiB;
const PROTOCOL_LIMIT = 64 * 1024;
let rig: BytesRig;

before(async () => {
  rig = await startBytesRig();
  await rig.seed(SIZE);
});
after(async () => {
  await rig?.stop();
});

for (const path of PATHS.filter((p) => p.serverSide)) {
  test(`${path.name} (${path.about}) of 10 MiB: no payload bytes through the provider, at most 64 KiB of protocol`, async () => {
    const f = await rig.copy(path.name, 0);
    assert.equal(f.destinationBytes, SIZE, "the copy happened");
    assert.ok(f.requests > 0, "the provider's requests crossed the proxy");
    assert.equal(f.payloadBytes, 0, JSON.stringify(f));
    // Every body was text, and all of it fits in the protocol budget: no room for 10 MiB of content.
    assert.ok(f.wireBytes <= PROTOCOL_LIMIT, `${f.wireBytes} bytes on the wire in ${f.requests} requests`);
  });
}

test("Blob→S3 stream of 10 MiB: the object crosses the provider once in and once out, and the counter sees it", async () => {
  const f = await rig.copy("Blob→S3 stream", 0);
  assert.equal(f.destinationBytes, SIZE);
  assert.ok(f.payloadReceivedBytes >= SIZE, `read from Azure: ${f.payloadReceivedBytes}`);
  assert.ok(f.payloadSentBytes >= SIZE, `written to S3: ${f.payloadSentBytes}`);
});

test("the service's own read of a presigned S3 URL crosses the proxy but is not counted as the provider's", async () => {
  const f = await rig.copy("S3→Azure Blob", 1);
  assert.ok(f.otherBytes >= SIZE, `the simulated service read ${f.otherBytes} bytes through the proxy`);
  assert.equal(f.payloadBytes, 0);
});
