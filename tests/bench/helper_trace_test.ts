/**
 * bench/helper_trace.ts on lines of V8's `--trace-opt` and `--trace-gc-nvp`
 * output as Deno 2.9's V8 prints them (fields of the GC lines cut to those read).
 */
import assert from "node:assert/strict";
import { readHelperTrace } from "../../bench/helper_trace.ts";

const LINES = [
  "[completed compiling 0x1 <JSFunction step (sfi = 0xa1)> (target MAGLEV) - took 0.001, 0.5, 0.01 ms]",
  "[completed compiling 0x2 <JSFunction (sfi = 0xa2)> (target MAGLEV) OSR - took 0.0, 1.0, 0.0 ms]",
  "[completed compiling 0x1 <JSFunction step (sfi = 0xa1)> (target TURBOFAN_JS) - took 0.0, 3.0, 0.1 ms]",
  "[completed optimizing 0x1 <JSFunction step (sfi = 0xa1)> (target TURBOFAN_JS)]",
  "[completed compiling 0x3 <JSFunction scoreReading (sfi = 0xa3)> (target TURBOFAN_JS) - took 0.1, 30.0, 0.5 ms]",
  "[completed compiling 0x4 <JSFunction scoreReading (sfi = 0xa3)> (target TURBOFAN_JS) OSR - took 0.1, 20.0, 0.5 ms]",
  '[728:0x7fc808060000:1]    11679 ms: GC: {"pause":15.5,"gc":"s","allocated":1000,"new_space_survived":300,' +
  '"scavenge.parallel":0.8,"background.scavenge.parallel":0.9,"background.unmapper":0.1}',
  '[728:0x7fc808060000:1]    11955 ms: GC: {"pause":4,"gc":"mc","allocated":500,' +
  '"background.mark":25.5,"background.sweep":2.5}',
  '[728:0x55ffc212a000]    12000 ms: GC: {"pause":20,"gc":"s","allocated":9000,"new_space_survived":4000,' +
  '"background.scavenge.parallel":17}',
  "[728:0x55ffc212a000]    12001 ms: Scavenge 12.1 (14.0) -> 10.2 (14.0) MB, pause 2.0 / 1.9 ms",
].join("\n").split("\n");

Deno.test("readHelperTrace() sums the compilers' execute phases by tier and TurboFan's by function", () => {
  const t = readHelperTrace(LINES);
  assert.deepEqual(t.maglev, { compiled: 2, executeMs: 1.5 });
  assert.deepEqual(t.turbofan, { compiled: 3, executeMs: 53 });
  assert.deepEqual(t.turbofanByFunction, { scoreReading: 50, step: 3 });
  assert.deepEqual(t.turbofanCompiledByFunction, { scoreReading: 2, step: 1 });
  assert.deepEqual(Object.keys(readHelperTrace(LINES, 1).turbofanByFunction), ["scoreReading"]);
});

Deno.test("readHelperTrace() gives each isolate's collections and their helpers' ms", () => {
  const t = readHelperTrace(LINES);
  assert.deepEqual(t.isolates, [
    {
      isolate: "0x55ffc212a000",
      scavenges: 1,
      scavengePauseMs: 20,
      scavengeHelperMs: 17,
      scavengeSurvivedBytes: 4000,
      fullCollections: 0,
      fullPauseMs: 0,
      fullHelperMs: 0,
      allocatedBytes: 9000,
    },
    {
      isolate: "0x7fc808060000",
      scavenges: 1,
      scavengePauseMs: 15.5,
      scavengeHelperMs: 1,
      scavengeSurvivedBytes: 300,
      fullCollections: 1,
      fullPauseMs: 4,
      fullHelperMs: 28,
      allocatedBytes: 1500,
    },
  ]);
});
