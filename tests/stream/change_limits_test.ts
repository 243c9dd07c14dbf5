import assert from "node:assert/strict";
import { Normalizer } from "../../src/model/normalize.ts";
import { ChangeLimits, clip } from "../../src/stream/change_limits.ts";
import { History } from "../../src/stream/history.ts";
import { OriginSlots } from "../../src/stream/origin_slots.ts";

Deno.test("clip() bounds a value to ±lim", () => {
  assert.deepEqual([clip(5, 2), clip(-5, 2), clip(1, 2), clip(1, 0)], [2, -2, 1, 0]);
});

Deno.test("ChangeLimits allow 3 RMS of the changes learned at a slot, none before the first", () => {
  const lim = new ChangeLimits(2, 1);
  assert.equal(lim.limit(0), 0);
  lim.ms[1] = 4;
  assert.equal(lim.limit(1), 6);
  assert.equal(lim.limit(0), 0, "slots are separate");
});

Deno.test("ChangeLimits learn each horizon's normalised change from its learnable origins", () => {
  const origins = new OriginSlots({ Hm: 2, J: 1, E: 1, L: 1, I: 1 });
  const history = new History(1, 1), level = new Normalizer(1);
  const target = Int32Array.of(0);
  const take = (step: number, v: number) => {
    level.update([v]);
    history.push([v]);
    origins.open(step, 0, [v], target, history, level);
  };
  take(1, 10);
  take(2, 13);
  const lim = new ChangeLimits(2, 1);
  level.update([11]); // the stream's normaliser learns the reading first
  lim.learn(3, [11], target, origins, -1, level);
  const sc = level.scale(0);
  assert.deepEqual(Array.from(lim.ms), [((11 - 13) / sc) ** 2, ((11 - 10) / sc) ** 2]);
  // the next: nothing from origins whose window reaches a reading not learned from (3) …
  take(3, 11);
  const first = Array.from(lim.ms);
  level.update([20]);
  lim.learn(4, [20], target, origins, 3, level);
  assert.deepEqual(Array.from(lim.ms), first);
  // … and a running mean when all were learned from
  lim.learn(4, [20], target, origins, -1, level);
  const sc4 = level.scale(0);
  assert.equal(lim.ms[0], 0.999 * first[0] + 0.001 * ((20 - 11) / sc4) ** 2);
  assert.equal(lim.ms[1], 0.999 * first[1] + 0.001 * ((20 - 13) / sc4) ** 2);
});

Deno.test("ChangeLimits keep their mean squares in the array they are given, of Hm·J numbers", () => {
  const ms = new Float64Array(6);
  const lim = new ChangeLimits(3, 2, ms);
  ms[5] = 9;
  assert.equal(lim.limit(5), 9);
  assert.throws(
    () => new ChangeLimits(3, 2, new Float64Array(5)),
    /^RangeError: Cannot create change limits: 'ms' must hold Hm·J = 6 numbers: current length is 5$/,
  );
});
