/**
 * bench/wait_readers.ts's readers ask on a fixed schedule from their start,
 * whatever their answers: on a fake clock, a reader whose answers take 1 ms
 * and one whose answers take 7 ms make the same requests at the same times,
 * and a late answer skips the slots it covers without moving the later ones.
 */
import assert from "node:assert/strict";
import { nextSlot, type ReaderClock, startReader } from "../../bench/wait_readers.ts";

/**
 * A fake clock: `sleepUntil` moves it forward; the reader's request takes
 * `answerMs(i)` of it (the i-th request). The reader is stopped when it
 * would sleep until `untilMs` or later. Resolves with each request's start
 * and the waits.
 */
async function run(answerMs: (i: number) => number, everyMs: number, untilMs: number) {
  let now = 1000;
  const clock: ReaderClock = {
    now: () => now,
    sleepUntil: async (at) => {
      now = Math.max(now, at);
      if (now - 1000 >= untilMs) {
        stop?.();
        await new Promise((r) => setTimeout(r, 0)); // reader.stop() runs meanwhile
      }
    },
  };
  const starts: number[] = [];
  let stop: (() => void) | null = null;
  const reader = startReader("healthz", { t0: 1000, everyMs, clock }, async () => {
    starts.push(now - 1000);
    now += answerMs(starts.length - 1);
    await Promise.resolve();
  });
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  await stopped;
  return { starts, waits: await reader.stop() };
}

Deno.test("a reader asks every everyMs from its start, however fast the answers", async () => {
  const fast = await run(() => 1, 10, 100);
  const slow = await run(() => 7, 10, 100);
  const slots = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90];
  assert.deepEqual(fast.starts, slots, "the fast reader's request times");
  assert.deepEqual(slow.starts, slots, "the slow reader's request times");
  assert.equal(fast.waits.requests, 10);
  assert.equal(slow.waits.requests, 10);
  assert.equal(fast.waits.skipped, 0);
  assert.equal(fast.waits.everyMs, 10);
});

Deno.test("a late answer skips the slots it covers and does not move the later ones", async () => {
  // the third request (at 20) waits 25 ms: answered at 45, the slots 30 and 40 are skipped
  const r = await run((i) => (i === 2 ? 25 : 2), 10, 90);
  assert.deepEqual(r.starts, [0, 10, 20, 50, 60, 70, 80]);
  assert.equal(r.waits.skipped, 2);
  assert.equal(r.waits.firstMs, 2);
  assert.equal(r.waits.maxAfterFirstMs, 25);
  assert.equal(r.waits.maxMs, 25);
  assert.equal(r.waits.over50, 0);
});

Deno.test("the first request's wait is given apart from the worst of the others", async () => {
  const r = await run((i) => (i === 0 ? 60 : 3), 10, 100);
  assert.equal(r.waits.firstMs, 60);
  assert.equal(r.waits.maxAfterFirstMs, 3);
  assert.deepEqual(r.starts.slice(0, 3), [0, 60, 70], "the slots up to the first answer skipped");
});

Deno.test("nextSlot() is the first slot after the last that is not past", () => {
  assert.equal(nextSlot(0, 10, 0, 3), 1);
  assert.equal(nextSlot(0, 10, 0, 10), 1);
  assert.equal(nextSlot(0, 10, 0, 10.5), 2);
  assert.equal(nextSlot(100, 10, 4, 145), 5);
  assert.equal(nextSlot(100, 10, 4, 171), 8);
});

Deno.test("a reader refuses a rate that is not above 0", () => {
  assert.throws(
    () => startReader("forecast", { t0: 0, everyMs: 0 }, () => Promise.resolve()),
    /everyMs must be above 0: current value is 0/,
  );
});
