import assert from "node:assert/strict";
import { StreamModel } from "../../src/stream/stream.ts";
import { getPreset } from "../../src/stream/preset.ts";
import { readForecast, readOneStep } from "../../src/stream/read_models.ts";
import { FIVE_MIN, T0 } from "./_series.ts";

Deno.test("readOneStep() gives readForecast(m, 1)'s point and bounds, NaN for none, over 400 readings of 2 targets", () => {
  const s = new StreamModel({ id: "s", preset: getPreset("pi-small"), columns: ["a", "b"] });
  const out = new Float64Array(6).fill(7);
  readOneStep(s, out);
  assert.deepEqual([...out], new Array(6).fill(NaN), "before the first reading: none");
  let bounded = 0;
  for (let n = 0; n < 400; n++) {
    s.observe(T0 + n * FIVE_MIN, [20 + Math.sin(n / 20), 5 + Math.cos(n / 7)]);
    readOneStep(s, out);
    const f = readForecast(s, 1)!;
    s.targets.forEach((t, j) => {
      const { point, lower, upper } = f.targets[t];
      assert.equal(out[3 * j], point[0], `reading ${n}, ${t}: point`);
      assert.equal(out[3 * j + 1], lower[0] ?? NaN, `reading ${n}, ${t}: lower`);
      assert.equal(out[3 * j + 2], upper[0] ?? NaN, `reading ${n}, ${t}: upper`);
      if (lower[0] !== null) bounded++;
    });
  }
  assert.ok(bounded > 200, `${bounded} steps with an interval: both cases compared`);
});
