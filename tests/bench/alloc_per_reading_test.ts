/**
 * bench/alloc_per_reading.ts's sum over lines of V8's `--trace-gc-nvp`
 * output as Deno 2.9's V8 prints them, other output among them.
 */
import assert from "node:assert/strict";
import { sumAllocated } from "../../bench/alloc_per_reading.ts";

const line = (ms: number, gc: string, allocated: number) =>
  `[22861:0x558d0126e000:0]     ${ms} ms: GC: {"pause":0.487,"mutator":1314.08,"gc":"${gc}",` +
  `"reduce_memory":false,"reason":"allocation failure","start_object_size":22644392,` +
  `"allocation_throughput":32198,"allocated":${allocated},"promoted":17984,"scavenge":0.454}`;

Deno.test("sumAllocated adds the allocated of every collection's line", () => {
  const out = [
    line(67, "s", 4_000_000),
    "some other output",
    line(2700, "mc", 8_482_704),
    line(2800, "s", 1),
    "",
  ].join("\n");
  assert.deepEqual(sumAllocated(out), { bytes: 12_482_705, collections: 3 });
});

Deno.test("sumAllocated counts a line another write was put in front of", () => {
  // a RESULT line written without its newline yet, then V8's line
  const out = `RESULT {"allocatedBytesPerReading":2845}${line(90, "s", 500)}\n${line(95, "s", 7)}`;
  assert.deepEqual(sumAllocated(out), { bytes: 507, collections: 2 });
});

Deno.test("sumAllocated ignores an allocated field outside V8's lines", () => {
  const out = `RESULT {"allocated":999}\n${line(10, "s", 3)}\n`;
  assert.deepEqual(sumAllocated(out), { bytes: 3, collections: 1 });
});

Deno.test("sumAllocated of no collection is 0", () => {
  assert.deepEqual(sumAllocated("RESULT {}\n"), { bytes: 0, collections: 0 });
});
