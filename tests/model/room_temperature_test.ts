import assert from "node:assert/strict";
import { ROOM_TEMPERATURE_DAY, roomTemperature } from "../../src/model/room_temperature.ts";

Deno.test("roomTemperature(1) gives the readings src/demo.ts's sensor gave before it moved to the core", () => {
  // golden: readings 0, 1, 2, 287 and 599 of roomTemperature(1) as src/demo.ts defined it at
  // b267eb3 (`deno run` of a script printing them), so the demo and `serve --demo` are unchanged
  const sensor = roomTemperature(1);
  const v = Array.from({ length: 600 }, (_, t) => sensor(t));
  assert.deepEqual([v[0], v[1], v[2], v[287], v[599]], [
    21.112347102273223,
    21.323722017802176,
    21.374753049374238,
    21.019879051490456,
    21.396744537404825,
  ]);
  // a daily cycle of 2 each side about 21, a day being 288 readings
  assert.equal(ROOM_TEMPERATURE_DAY, 288);
  const day = v.slice(0, ROOM_TEMPERATURE_DAY);
  assert.ok(Math.max(...day) > 22.5 && Math.min(...day) < 19.5, `${Math.min(...day)}`);
  // another seed, other noise; the same seed, the same readings
  const other = roomTemperature(2);
  assert.notEqual(other(0), v[0]);
  const again = roomTemperature(1);
  assert.deepEqual(Array.from({ length: 600 }, (_, t) => again(t)), v);
});
