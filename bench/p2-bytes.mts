/**
 * P2: bytes through the client. For each copy path, what crosses the wire between Pulumi's real
 * provider host and the storage servers during one copy (Check + Create), counted on the provider's
 * sockets by a proxy in front of every server (test/support/bytesRig.ts, byteCountingProxy.ts).
 * Goal (issue 6): 0 payload bytes and ≤ 64 KiB of protocol per server-side copy, at 10 MiB and
 * 1 GiB; the streaming fallback reports its payload as it is (the object, in and out). There is no
 * peer: the reference is the physical limit, 0 payload bytes. Throws after writing the results
 * when a server-side path misses the goal.
 */
import { sideBySide, fmt, type CaseResult, type Contender } from "./lib/sideBySide.mts";
import { writeReport } from "./lib/report.mts";
import { PATHS, startBytesRig, type CopyFigures, type PathName } from "../test/support/bytesRig.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const PROTOCOL_LIMIT = 64 * 1024;

export async function run({ rounds, quick }: { rounds: number; quick: boolean }): Promise<CaseResult[]> {
  // --quick: a smaller second size, to see that nothing grows with the object.
  const sizes = quick ? [10 * MiB, 64 * MiB] : [10 * MiB, 1 * GiB];
  const rig = await startBytesRig();
  const cases: CaseResult[] = [];
  try {
    for (const size of sizes) {
      const t0 = Date.now();
      await rig.seed(size);
      console.log(`[p2 ${label(size)}] sources seeded in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      const contenders: Contender[] = PATHS.map((path) => ({
        name: path.name,
        role: "ours",
        run: async (round) => {
          const f = await rig.copy(path.name, round);
          if (f.destinationBytes !== size) throw new Error(`the destination holds ${f.destinationBytes} bytes, not ${size}`);
          return { ...f };
        },
      }));
      cases.push(await sideBySide({
        bench: "p2",
        case: `${label(size)}: protocol bytes per copy`,
        rounds,
        contenders,
        metric: "protocolBytes",
        notes: ["No peer: the reference is the physical limit of a server-side copy, 0 payload bytes through the provider."],
      }));
    }
  } finally {
    await rig.stop();
  }

  const verdicts = cases.flatMap((c, i) => verdictsOf(c, sizes[i]));
  writeReport({
    bench: "p2",
    title: "P2: bytes through the client",
    about: [
      "What crosses the wire between Pulumi's real provider host and the storage servers during one copy (the engine's Check + Create), counted by a proxy on the provider's own sockets: every request of the provider process passes through it (S3 locators point at it; the Azure SDKs reach Azurite, the Files test server and the copy proxy through it as HTTP_PROXY).",
      "**wire** = the bytes the provider's sockets sent and received (Node's socket byte counters: heads, bodies, chunk framing). **payload** = body bytes that are object content: the objects are random bytes, so a body that is not valid UTF-8 is payload; every S3/Azure protocol body (XML, JSON) is text. **protocol** = wire − payload. A connection is the provider's when the provider host's pid holds its socket (/proc), so a service's own read of a source that happens to cross the proxy (S3 → Azure's presigned URL) is **service**, not the provider's.",
      "SIMULATIONS, labelled: File → File runs on the Files test server (no Azure Files emulator exists; its copies stay pending 1 s, so a few status polls are counted); S3 → Azure's read of the presigned URL is played by the scripted copy proxy. Azurite, moto and the provider host are real.",
      `Goal: 0 payload bytes and ≤ ${fmt(PROTOCOL_LIMIT, "bytes")} of protocol per server-side copy, whatever the size; the streaming fallback (Blob → S3, opt-in) moves the object in and out, reported as it is. There is no peer: the physical limit (0 payload) is the reference.`,
    ],
    cases,
    extraMarkdown: [...cases.map((c, i) => detailTable(c, sizes[i])), growthTable(cases, sizes)],
    verdicts,
  });
  const failed = verdicts.filter((v) => v.includes("FAIL"));
  if (failed.length) throw new Error(`P2 goal missed:\n${failed.join("\n")}`);
  return cases;
}

const label = (size: number) => (size >= GiB ? `${size / GiB} GiB` : `${size / MiB} MiB`);
const worst = (c: CaseResult, name: string, figure: keyof CopyFigures) => c.contenders.find((x) => x.name === name)?.stats[figure]?.max;
const least = (c: CaseResult, name: string, figure: keyof CopyFigures) => c.contenders.find((x) => x.name === name)?.stats[figure]?.min;

function verdictOf(c: CaseResult, size: number, name: PathName, serverSide: boolean): string {
  const result = c.contenders.find((x) => x.name === name)!;
  if (result.failures.length || !result.runs.length) return `FAIL (${result.failures.length} of ${c.rounds} runs failed: ${result.failures[0] ?? "none ran"})`;
  if (!serverSide) {
    const [received, sent] = [least(c, name, "payloadReceivedBytes")!, least(c, name, "payloadSentBytes")!];
    return received >= size && sent >= size ? "as expected: the object in and out" : `FAIL (payload ${received} received, ${sent} sent: below the object's ${size})`;
  }
  const [payload, wire] = [worst(c, name, "payloadBytes")!, worst(c, name, "wireBytes")!];
  if (payload > 0) return `FAIL (${fmt(payload, "bytes")} of payload)`;
  if (wire > PROTOCOL_LIMIT) return `FAIL (${fmt(wire, "bytes")} > ${fmt(PROTOCOL_LIMIT, "bytes")})`;
  return "met";
}

function verdictsOf(c: CaseResult, size: number): string[] {
  return PATHS.map((p) => {
    const v = verdictOf(c, size, p.name, p.serverSide);
    const figures = p.serverSide ? `worst ${fmt(worst(c, p.name, "payloadBytes"), "bytes")} payload, ${fmt(worst(c, p.name, "wireBytes"), "bytes")} on the wire` : `${fmt(least(c, p.name, "payloadReceivedBytes"), "bytes")} read, ${fmt(least(c, p.name, "payloadSentBytes"), "bytes")} written`;
    return `${label(size)}, ${p.name}: ${p.serverSide ? `0 payload, ≤ ${fmt(PROTOCOL_LIMIT, "bytes")}` : "report payload = size"}: ${figures}: **${v}**`;
  });
}

/** Per path: the medians of every figure, and the worst round against the goal. */
function detailTable(c: CaseResult, size: number): string {
  const med = (name: string, figure: keyof CopyFigures) => c.contenders.find((x) => x.name === name)?.stats[figure]?.median;
  const rows = PATHS.map((p) => {
    const b = (figure: keyof CopyFigures) => fmt(med(p.name, figure), "bytes");
    const payload = p.serverSide ? b("payloadBytes") : `${b("payloadReceivedBytes")} received + ${b("payloadSentBytes")} sent`;
    return `| ${p.name} | ${p.about} | ${fmt(med(p.name, "requests"), "n")} | ${b("protocolBytes")} | ${b("bodyBytes")} | ${payload} | ${b("otherBytes")} | ${verdictOf(c, size, p.name, p.serverSide)} |`;
  });
  return [
    `**${label(size)}, per copy** (medians of ${c.rounds} rounds; verdict on the worst round)`,
    "",
    "| path | how | requests | protocol (heads + protocol bodies) | all bodies | payload | service's own reads through the proxy | vs goal |",
    "|---|---|---:|---:|---:|---:|---:|---|",
    ...rows,
  ].join("\n");
}

/**
 * What grows with the object: between the two sizes, the extra wire bytes per extra request.
 * Only multipart and blocks add requests (one per part or block), so only they can outgrow 64 KiB.
 */
function growthTable(cases: CaseResult[], sizes: number[]): string {
  const [a, b] = cases;
  const med = (c: CaseResult, name: string, figure: keyof CopyFigures) => c.contenders.find((x) => x.name === name)?.stats[figure]?.median;
  const rows = PATHS.filter((p) => p.serverSide).map((p) => {
    const [wa, wb, ra, rb] = [med(a, p.name, "wireBytes"), med(b, p.name, "wireBytes"), med(a, p.name, "requests"), med(b, p.name, "requests")];
    if ([wa, wb, ra, rb].some((v) => v === undefined)) return `| ${p.name} | — | — | — | not measured |`;
    const extra = rb! - ra!;
    if (extra <= 0) return `| ${p.name} | ${fmt(wa, "bytes")} | ${fmt(wb, "bytes")} | 0 | constant: the same requests at any size |`;
    const perRequest = (wb! - wa!) / extra;
    const fixed = wa! - ra! * perRequest;
    const fits = Math.floor((PROTOCOL_LIMIT - fixed) / perRequest);
    return `| ${p.name} | ${fmt(wa, "bytes")} | ${fmt(wb, "bytes")} | ${extra} | ${fmt(perRequest, "bytes")} per part or block; the 64 KiB budget runs out near ${fits} requests in all (derived from the two sizes, not measured) |`;
  });
  return [
    `**What grows with size** (${label(sizes[0])} → ${label(sizes[1])}, medians): payload stays 0; protocol grows only with the number of requests.`,
    "",
    `| path | wire at ${label(sizes[0])} | wire at ${label(sizes[1])} | extra requests | growth |`,
    "|---|---:|---:|---:|---|",
    ...rows,
  ].join("\n");
}
