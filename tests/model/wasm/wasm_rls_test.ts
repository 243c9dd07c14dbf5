/**
 * WasmRls against src/stream/rls.ts's Rls (the oracle), both float64: the
 * only difference is the order P·φ is summed in (two lanes, then the last),
 * so weights, P and predictions agree to a few units in the last place.
 */
import assert from "node:assert/strict";
import { Rls } from "../../../src/stream/rls.ts";
import { WasmRls } from "../../../src/model/wasm/wasm_rls.ts";
import { kernelHeap } from "../../../src/model/wasm/kernel_heap.ts";
import { mulberry32 } from "../../../src/model/rng.ts";

for (const [d, J] of [[1, 1], [2, 3], [9, 1], [13, 4]]) {
  Deno.test({
    name: `WasmRls matches Rls over 1000 updates at d=${d} J=${J}, through the wind-up guard`,
    ignore: kernelHeap === null,
    fn() {
      const ts = new Rls(d, J, 0.99, 1), wasm = new WasmRls(d, J, 0.99, 1);
      const rng = mulberry32(d * 10 + J);
      const phi = new Float64Array(d + 2), y = new Float64Array(J + 1);
      const outTs = new Float64Array(J), outWasm = new Float64Array(J);
      for (let n = 0; n < 1000; n++) {
        // a zero feature now and then (predict skips it), a stuck one from 300 on (wind-up)
        for (let k = 0; k < d; k++) phi[1 + k] = rng() < 0.1 ? 0 : 2 * rng() - 1;
        if (n >= 300) phi[1] = 0;
        for (let j = 0; j < J; j++) y[1 + j] = Math.sin(n / 7 + j) + 0.1 * rng();
        ts.predict(phi, 1, outTs, 0);
        wasm.predict(phi, 1, outWasm, 0);
        for (let j = 0; j < J; j++) {
          assert.ok(
            Math.abs(outWasm[j] - outTs[j]) <= 1e-9 * Math.max(1, Math.abs(outTs[j])),
            `prediction ${j} at update ${n}: ${outWasm[j]} vs ${outTs[j]}`,
          );
        }
        ts.update(phi, 1, y, 1);
        wasm.update(phi, 1, y, 1);
      }
      const scaleP = Math.max(1, ...ts.P.map(Math.abs));
      ts.P.forEach((v, i) =>
        assert.ok(Math.abs(wasm.P[i] - v) <= 1e-9 * scaleP, `P[${i}]: ${wasm.P[i]} vs ${v}`)
      );
      ts.W.forEach((v, i) =>
        assert.ok(Math.abs(wasm.W[i] - v) <= 1e-9 * Math.max(1, Math.abs(v)), `W[${i}]`)
      );
      const diag = Math.max(...ts.P.filter((_, i) => i % (d + 1) === 0));
      assert.ok(diag > 10, `the stuck feature must wind P up past the guard: ${diag}`);
    },
  });
}
