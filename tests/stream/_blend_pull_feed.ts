/**
 * Feeds a Blend with a pull bound readings whose errors stay small, then
 * readings with a large error, so that update() scales the errors by a
 * fraction (`#pull`): run by tests/stream/double_fields_test.ts under V8's
 * `--trace-generalization`.
 */
import { Blend } from "../../src/stream/blend.ts";

const b = new Blend(1, 2, 0, [100], 5, undefined, { bound: 2, from: 0 });
const p = new Float64Array(2);
const y = new Float64Array(1);
for (let t = 0; t < 400; t++) {
  y[0] = Math.sin(t / 10);
  p[0] = y[0] + 0.01 * Math.cos(t);
  p[1] = y[0] - 0.02 * Math.sin(t * 1.7);
  // every 50th reading an error far beyond the bound times the long-run error
  if (t > 200 && t % 50 === 0) p[1] = y[0] + 5;
  b.update(0, p, 0, y, 0, 0b11);
}
const w = new Float64Array(2);
b.weights(0, 0b11, w);
console.log(w.join(" "));
