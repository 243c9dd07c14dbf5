/**
 * bench/worker_path_alloc.ts's reading of its child's stdout: V8's
 * `--trace-gc-nvp` lines after the mark, and the threads' CPU between the
 * THREADS0 and THREADS1 lines, one of ours possibly inside one of V8's.
 */
import assert from "node:assert/strict";
import { readChild } from "../../bench/worker_path_alloc.ts";

const gc = (ms: number, kind: string, reason: string, allocated: number, extra = "") =>
  `[5457:0x5579e7480000:0]   ${ms} ms: GC: {"pause":2.5,"gc":"${kind}","reason":"${reason}",` +
  `"allocated":${allocated}${extra}}`;

Deno.test("readChild() counts from the mark's forced collection and adds V8's helper ms", () => {
  const out = [
    gc(10, "s", "allocation failure", 999, `,"background.scavenge.parallel":50`),
    "MARK 100.5",
    gc(101, "mc", "testing", 7, `,"background.mark":40`),
    "THREADS0 1000000 5000000",
    gc(150, "s", "allocation failure", 3_000, `,"background.scavenge.parallel":0.5`),
    gc(
      180,
      "mc",
      "finalize incremental marking via task",
      4_000,
      `,"background.mark":12.25,"background.sweep":1`,
    ),
    "THREADS1 4000000 25000000",
    gc(200, "mc", "testing", 500, `,"background.mark":30`),
    "",
  ].join("\n");
  const c = readChild(out);
  assert.equal(c.allocated, 7_500); // the last forced collection's bytes count, the first's do not
  assert.equal(c.collections, 2);
  assert.deepEqual(c.pauses, { scavenge: [2.5], full: [2.5] });
  assert.equal(c.gcHelperMs, 13.75); // the forced collections' helpers left out
  assert.equal(c.helperNs, 3_000_000);
  assert.equal(c.mainNs, 20_000_000);
});

Deno.test("readChild() reads a V8 line that a THREADS line was written into", () => {
  const line = gc(150, "s", "allocation failure", 3_000, `,"background.scavenge.parallel":2`);
  const cut = line.indexOf('"reason"');
  const out = [
    "MARK 100",
    gc(101, "mc", "testing", 0),
    `${line.slice(0, cut)}THREADS0 10 20\n${line.slice(cut)}`,
    "THREADS1 15 45",
    gc(200, "mc", "testing", 100),
  ].join("\n");
  const c = readChild(out);
  assert.equal(c.allocated, 3_100);
  assert.equal(c.gcHelperMs, 2);
  assert.deepEqual([c.helperNs, c.mainNs], [5, 25]);
});

Deno.test("readChild() without the threads' lines says which is missing", () => {
  assert.throws(
    () => readChild(`MARK 1\n${gc(2, "mc", "testing", 0)}\nTHREADS0 1 2\n`),
    /Cannot read the child's threads: no THREADS1 line/,
  );
});
