import assert from "node:assert/strict";
import { IdleClock } from "../../src/shard/idle_clock.ts";

Deno.test("IdleClock sums the waits between works, the one under way up to now", () => {
  const c = new IdleClock(100);
  assert.equal(c.ms(130), 30, "idle from the start");
  c.begin(130);
  assert.equal(c.ms(200), 30, "busy: no more idle time");
  c.end(210);
  assert.equal(c.ms(215), 35);
  c.begin(250);
  c.end(260);
  assert.equal(c.ms(260), 70);
});

Deno.test("IdleClock is busy while any of overlapping works is under way", () => {
  const c = new IdleClock(0);
  c.begin(10);
  c.begin(20);
  c.end(30);
  assert.equal(c.busy, 1);
  assert.equal(c.ms(40), 10, "one still under way: not idle");
  c.end(50);
  assert.equal(c.ms(60), 20);
});

Deno.test("IdleClock refuses an end without a work under way", () => {
  const c = new IdleClock(0);
  assert.throws(() => c.end(1), /one must be under way: current count is 0/);
});
