/** bench/cpu_probe.ts: the probe's loops and what a window of its seconds sums to. */
import assert from "node:assert/strict";
import { aluChain, parseProbeLines, strideReads, summarizeProbe } from "../../bench/cpu_probe.ts";

Deno.test("aluChain() computes the same sum whatever the call (the loop is not dropped)", () => {
  const x1 = 1.0001 * 1.0000001 + 1e-9;
  const x2 = x1 * 1.0000001 + 1e-9;
  assert.equal(aluChain(3), 1.0001 * 0 + x1 * 1 + x2 * 2);
  assert.equal(aluChain(1000), aluChain(1000));
  assert.notEqual(aluChain(1000), aluChain(999));
});

Deno.test("strideReads() reads 4,099 elements apart, wrapping at the array's length", () => {
  const a = new Float64Array(8192).map((_, i) => i);
  // 0, 4099, 8198 & 8191 = 6, 4105
  assert.equal(strideReads(a, 4), 0 + 4099 + 6 + 4105);
});

Deno.test("parseProbeLines() takes the PROBE lines only, summarizeProbe() their range", () => {
  const text = [
    "noise",
    'PROBE {"t":1000,"aluNs":2,"memNs":3}',
    'PROBE {"t":2000,"aluNs":1.9,"memNs":4.5}',
    'PROBE {"t":3000,"aluNs":2.5,"memNs":3.2}',
    "",
  ].join("\n");
  const samples = parseProbeLines(text);
  assert.equal(samples.length, 3);
  assert.deepEqual(summarizeProbe(samples), {
    seconds: 3,
    aluNs: { min: 1.9, median: 2, max: 2.5 },
    memNs: { min: 3, median: 3.2, max: 4.5 },
  });
  assert.equal(summarizeProbe([]), null);
});
