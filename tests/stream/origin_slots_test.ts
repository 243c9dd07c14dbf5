import assert from "node:assert/strict";
import { Normalizer } from "../../src/model/normalize.ts";
import { History } from "../../src/stream/history.ts";
import { OriginSlots } from "../../src/stream/origin_slots.ts";

/** Hm = 3 horizons, J = 1 target (column 1 of I = 2), E = 2 experts, L = 2 lag rows. */
function setup() {
  const slots = new OriginSlots({ Hm: 3, J: 1, E: 2, L: 2, I: 2 });
  const history = new History(2, 2);
  const level = new Normalizer(2);
  return { slots, history, level, targets: Int32Array.of(1) };
}

Deno.test("OriginSlots finds the forecast made h readings before, until a slot is reused or cleared", () => {
  const { slots, history, level, targets } = setup();
  assert.equal(slots.S, 4);
  for (let step = 1; step <= 6; step++) {
    const values = [step, 100 + step];
    level.update(values);
    history.push(values);
    assert.equal(slots.open(step, 1000 * step, values, targets, history, level), step % 4);
  }
  // reading 7 finds the forecasts of readings 6, 5, 4 (h = 1, 2, 3)
  assert.deepEqual([1, 2, 3].map((h) => slots.arrived(7, h)), [2, 1, 0]);
  assert.deepEqual([slots.x[2], slots.ts[1]], [106, 5000]);
  assert.equal(slots.arrived(6, 4), -1, "reading 2's slot holds reading 6's forecast now");
  slots.clear();
  assert.deepEqual([1, 2, 3].map((h) => slots.arrived(7, h)), [-1, -1, -1]);
});

Deno.test("OriginSlots records normalised lag rows, NaN while the history is short", () => {
  const { slots, history, level, targets } = setup();
  const values = [1, 2];
  level.update(values);
  history.push(values);
  const o = slots.open(1, 0, values, targets, history, level);
  assert.ok(Number.isNaN(slots.lags[o * 4]));
  assert.equal(slots.learnable(o, -1), false, "no full lag window");
  for (const [step, v] of [[2, [3, 4]], [3, [1000, 4]]] as const) {
    level.update(v);
    history.push(v);
    slots.open(step, 0, v, targets, history, level);
  }
  const o3 = 3 % slots.S;
  // column 0 jumped to 1000: its normalised value is winsorised at 5
  assert.equal(slots.lags[o3 * 4], Math.min(5, (1000 - level.mean[0]) / level.scale(0)));
  assert.equal(slots.learnable(o3, -1), true);
  assert.equal(slots.learnable(o3, 2), false, "reading 2 is among its lag rows");
  assert.equal(
    slots.learnable(o3, 4),
    false,
    "reading 4 came after them: skipped at any time since",
  );
  assert.equal(slots.learnable(o3, 1), true, "reading 1 came before");
});
