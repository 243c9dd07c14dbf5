import assert from "node:assert/strict";
import { BACK_OFF_DEFAULTS, BackOff } from "../../src/service/back_off.ts";

Deno.test("BackOff doubles the delay from minMs up to maxMs, and a success starts over", () => {
  const b = new BackOff();
  assert.deepEqual(BACK_OFF_DEFAULTS, { minMs: 1000, maxMs: 60_000 });
  assert.equal(b.delayMs, 0, "no failure: no delay");
  const delays = Array.from({ length: 9 }, () => b.failed());
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  assert.equal(b.failures, 9);
  b.succeeded();
  assert.equal(b.delayMs, 0);
  assert.equal(b.failed(), 1000);
  const many = new BackOff({ minMs: 5, maxMs: 5000 });
  for (let i = 0; i < 2000; i++) many.failed();
  assert.equal(many.delayMs, 5000, "no overflow after many failures");
});

Deno.test("BackOff names a bad option and its value", () => {
  assert.throws(
    () => new BackOff({ minMs: -1 }),
    /^RangeError: Cannot create back-off: minMs must be a finite number >= 0: current value is -1$/,
  );
  assert.throws(
    () => new BackOff({ maxMs: Infinity }),
    /^RangeError: Cannot create back-off: maxMs must be a finite number >= 0: current value is Infinity$/,
  );
  assert.throws(
    () => new BackOff({ minMs: 100, maxMs: 10 }),
    /^RangeError: Cannot create back-off: maxMs must be at least minMs \(100\): current value is 10$/,
  );
});
