import assert from "node:assert/strict";
import {
  KERNEL_KINDS,
  kernelKind,
  useKernels,
  wasmKernelsAvailable,
} from "../../src/model/kernels.ts";
import { calendarFeatures } from "../../src/stream/calendar.ts";
import { clip } from "../../src/stream/change_limits.ts";
import { StreamModel } from "../../src/stream/stream.ts";
import { FIVE_MIN, lstm, room, small, T0 } from "./_series.ts";

/**
 * The LSTM's forecast the simple way, as the stream computed it before it
 * used Network.rollout(): from copies of the live state and the head's
 * output on it, feed back the forecast level, its change and the calendar.
 */
function oracle(s: StreamModel, values: number[]): number[][] {
  const { I, J, Hm, level, change, limits, preset } = s;
  const net = lstm(s).net;
  const { hidden: H, layers: L } = net.shape;
  const h = Float32Array.from(net.h), c = Float32Array.from(net.c);
  const y = new Float32Array(I), u = new Float32Array(net.shape.inputs);
  net.head(h, (L - 1) * H, y, 0);
  const row = Float64Array.from(values);
  const out: number[][] = [];
  for (let k = 1; k <= Hm; k++) {
    if (k > 1) {
      for (let i = 0; i < I; i++) {
        u[i] = (row[i] - level.mean[i]) / level.scale(i);
        u[I + i] = y[i];
      }
      calendarFeatures(s.lastTs + k * s.periodMs, preset.utcOffsetMinutes, u, 2 * I);
      net.stepFrom(h, c, u, 0, y, 0);
    }
    for (let i = 0; i < I; i++) row[i] += y[i] * change.scale(i) + change.mean[i];
    const r: number[] = [];
    for (let j = 0; j < J; j++) {
      const col = s.targetIndex[j], x = values[col], sc = level.scale(col);
      r.push(x + clip((row[col] - x) / sc, limits.limit((k - 1) * J + j)) * sc);
    }
    out.push(r);
  }
  return out;
}

for (const kind of KERNEL_KINDS) {
  Deno.test({
    name:
      `the LSTM expert's rollout gives the simple loop's forecast to the bit (I=2, J=2, L=2, ${kind} kernels)`,
    ignore: kind === "wasm" && !wasmKernelsAvailable(),
    fn() {
      const base = small();
      const preset = { ...base, horizons: 9, model: { ...base.model, layers: 2 } };
      const before = kernelKind();
      useKernels(kind);
      let s: StreamModel;
      try {
        s = new StreamModel({ id: "l", preset, columns: ["a", "b"], targets: ["b", "a"] });
      } finally {
        useKernels(before);
      }
      const x = room(900, 31);
      let checked = 0;
      for (let t = 0; t < x.length; t++) {
        const values = [x[t], Math.cos(t / 20) + 0.01 * x[t]];
        s.observe(T0 + t * FIVE_MIN, values);
        if (t % 50 === 0 && lstm(s).ready()) {
          assert.deepEqual(s.expertForecast("lstm"), oracle(s, values), `t=${t}`);
          checked++;
        }
      }
      assert.ok(checked >= 15, `forecasts checked: ${checked}`);
    },
  });
}

Deno.test("the LSTM expert joins once the trainer has made `window` updates, and forecasts persistence before", () => {
  const s = new StreamModel({ id: "w", preset: small(), columns: ["v"] });
  const e = s.expertNames.indexOf("lstm");
  const x = room(100, 32);
  let joined = -1;
  for (let t = 0; t < x.length && joined < 0; t++) {
    s.observe(T0 + t * FIVE_MIN, [x[t]]);
    const ready = s.trainer!.updates >= s.preset.model.window;
    assert.equal(lstm(s).ready(), ready, `t=${t}`);
    const inMask = (s.origins.active[s.step % s.origins.S] & (1 << e)) !== 0;
    assert.equal(inMask, ready, `t=${t}`);
    if (ready) joined = t;
    else assert.ok(s.expertForecast("lstm")!.every((r) => r[0] === x[t]), `t=${t}`);
  }
  assert.ok(joined > 0, "the LSTM joined");
});

Deno.test("the LSTM expert's input and the trainer's window share one buffer", () => {
  const s = new StreamModel({ id: "a", preset: small(), columns: ["a", "b"], targets: ["b"] });
  const e = lstm(s), t = e.trainer;
  const arrays = [e.lastInput, t.xs, t.ys, t.h0, t.c0];
  assert.equal(new Set(arrays.map((a) => a.buffer)).size, 1);
  assert.ok(arrays.every((a) => a.every((v) => v === 0)), "as zeros");
});
