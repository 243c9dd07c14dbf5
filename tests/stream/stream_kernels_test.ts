/**
 * A stream's checkpoint does not depend on the kernels that made it: the
 * WebAssembly and the TypeScript kernels keep the same float32 arrays, so a
 * checkpoint of one restores on the other to the byte, and the two streams
 * go on within float32 rounding of each other (src/model/kernels.ts).
 */
import assert from "node:assert/strict";
import {
  type KernelKind,
  kernelKind,
  useKernels,
  wasmKernelsAvailable,
} from "../../src/model/kernels.ts";
import { StreamModel } from "../../src/stream/stream.ts";
import { feed, FIVE_MIN, room, small, T0 } from "./_series.ts";

function streamOn(kind: KernelKind): StreamModel {
  const before = kernelKind();
  useKernels(kind);
  try {
    return new StreamModel({ id: "k", preset: small(), columns: ["v"] });
  } finally {
    useKernels(before);
  }
}

for (const [from, to] of [["wasm", "ts"], ["ts", "wasm"]] as const) {
  Deno.test({
    name: `a checkpoint made on the ${from} kernels restores on the ${to} kernels to the byte`,
    ignore: !wasmKernelsAvailable(),
    fn() {
      const x = room(400, 5);
      const a = streamOn(from), b = streamOn(to);
      feed(a, x, 0, 300);
      b.restore(a.toBytes());
      assert.deepEqual(b.toBytes(), a.toBytes());
      for (let t = 300; t < 400; t++) {
        a.observe(T0 + t * FIVE_MIN, [x[t]]);
        b.observe(T0 + t * FIVE_MIN, [x[t]]);
      }
      // 100 readings of training later: the same forecast within 1e-4 (the values are about 21)
      const fa = a.forecast()!.targets.v.point, fb = b.forecast()!.targets.v.point;
      assert.equal(fb.length, fa.length);
      fa.forEach((v, k) =>
        assert.ok(Math.abs(fb[k] - v) <= 1e-4, `step ${k + 1}: ${fb[k]} vs ${v}`)
      );
      assert.notDeepEqual(b.toBytes(), a.toBytes(), "the two kinds should round differently");
    },
  });
}
