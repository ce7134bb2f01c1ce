// Preloaded into a provider host (NODE_OPTIONS=--require) by bench P6: on SIGUSR2 it runs a full GC and writes
// process.memoryUsage() before and after it, as JSON, to $BENCH_HEAP_PROBE_FILE. Nothing runs until the signal, so
// the host's own GC behaviour during the measured run is untouched. The live heap after a full GC tells retained
// memory (a leak) apart from garbage that V8 has not collected yet (which RSS alone cannot).
"use strict";
const fs = require("node:fs");
const v8 = require("node:v8");
const vm = require("node:vm");

const file = process.env.BENCH_HEAP_PROBE_FILE;
if (file) {
  process.on("SIGUSR2", () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc");
    const before = process.memoryUsage();
    gc();
    const after = process.memoryUsage();
    fs.writeFileSync(file, JSON.stringify({ before, after }));
  });
}
