import assert from "node:assert/strict";
import { VALUE_BOUNDS_DEFAULTS, ValueBounds } from "../../src/stream/value_bounds.ts";

Deno.test("ValueBounds refuses |x| above maxAbs from the first reading on", () => {
  assert.deepEqual(VALUE_BOUNDS_DEFAULTS, { maxAbs: 1e15, maxSpreads: 1e6, admitAfter: 5 });
  const b = new ValueBounds(2);
  assert.equal(b.check([1e15, -1e15]), null);
  assert.deepEqual(
    { ...b.check([1, -1.0000001e15])! },
    { column: 1, option: "maxAbsValue", lo: -1e15, hi: 1e15 },
  );
  assert.equal(b.check([1.7976931348623157e308, 0])!.column, 0);
});

Deno.test("ValueBounds has no relative bound until a column has taken two different values", () => {
  const b = new ValueBounds(1, { maxSpreads: 10 });
  b.add([20]);
  b.add([20]);
  assert.equal(b.check([1e14]), null, "a constant column has no scale");
  b.add([21]);
  // range 20 … 21: width 1, so from 10 to 31
  assert.equal(b.check([31]), null);
  assert.equal(b.check([10]), null);
  assert.deepEqual({ ...b.check([31.5])! }, {
    column: 0,
    option: "maxValueSpreads",
    lo: 10,
    hi: 31,
  });
  assert.equal(b.check([9])!.option, "maxValueSpreads");
});

Deno.test("ValueBounds takes a value refused admitAfter readings in a row: the sensor's new level", () => {
  const b = new ValueBounds(1, { maxSpreads: 10, admitAfter: 3 });
  b.add([0]);
  b.add([1]);
  for (let k = 0; k < 3; k++) {
    assert.notEqual(b.check([500]), null, `refusal ${k + 1}`);
    b.refused();
  }
  assert.equal(b.check([500]), null, "taken after 3 refusals in a row");
  assert.notEqual(b.check([2e15]), null, "maxAbs still holds");
  b.add([500]);
  assert.equal(b.refusedInARow, 0, "a reading taken starts the count again");
  assert.equal(b.hi[0], 500);
  assert.equal(b.check([5000]), null, "the range now reaches 0 … 500");
});

Deno.test("ValueBounds names a bad option and its value", () => {
  assert.throws(
    () => new ValueBounds(1, { maxAbs: Infinity }),
    /^RangeError: Cannot create value bounds: 'maxAbs' must be a positive number of at most 1e30: current value is Infinity$/,
  );
  assert.throws(
    () => new ValueBounds(1, { maxSpreads: 0 }),
    /'maxSpreads' must be a positive number of at most 1e30: current value is 0$/,
  );
  assert.throws(
    () => new ValueBounds(1, { admitAfter: 1.5 }),
    /'admitAfter' must be a positive integer: current value is 1.5$/,
  );
});

Deno.test("ValueBounds keep their ranges in the array they are given, lo then hi", () => {
  const at = new Float64Array(4);
  const b = new ValueBounds(2, {}, at);
  assert.deepEqual([...at], [Infinity, Infinity, -Infinity, -Infinity], "no value yet");
  b.add([3, -1]);
  assert.deepEqual([...at], [3, -1, 3, -1]);
  assert.deepEqual([...b.lo, ...b.hi], [3, -1, 3, -1], "the views");
  assert.deepEqual([b.least(1), b.greatest(0)], [-1, 3]);
  assert.throws(
    () => new ValueBounds(3, {}, at),
    /^RangeError: Cannot create value bounds: 'at' must be an array of 6 numbers \(lo, then hi\): current length is 4$/,
  );
});

Deno.test("ValueBounds of every stream answer with one problem object, each its own bound", () => {
  // one object for all (no object a stream): each answer read before the next check
  const a = new ValueBounds(1, { maxAbs: 10 }), b = new ValueBounds(2, { maxAbs: 100 });
  const pa = a.check([11]);
  assert.deepEqual({ ...pa! }, { column: 0, option: "maxAbsValue", lo: -10, hi: 10 });
  const pb = b.check([1, -101]);
  assert.equal(pb, pa);
  assert.deepEqual({ ...pb! }, { column: 1, option: "maxAbsValue", lo: -100, hi: 100 });
  assert.equal(a.check([9]), null);
});
