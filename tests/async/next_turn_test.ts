import assert from "node:assert/strict";
import { nextTurn, TIMER_TURN_MS, turnKind, useTurns } from "../../src/async/next_turn.ts";

/** Spins for `ms` (a slice of work). */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* work */ }
}

/** Runs `fn` with immediate turns, then puts timer turns back. */
async function withImmediateTurns(fn: () => Promise<void>): Promise<void> {
  useTurns("immediate");
  try {
    await fn();
  } finally {
    useTurns("timer");
  }
}

Deno.test("nextTurn() takes timer turns unless useTurns() says otherwise; a bad kind is named", () => {
  assert.equal(turnKind(), "timer");
  assert.throws(
    // @ts-expect-error: a kind that does not exist
    () => useTurns("message"),
    /^RangeError: Cannot set turns: the kind must be "timer" or "immediate": current value is "message"$/,
  );
  assert.equal(turnKind(), "timer");
});

Deno.test("immediate turns do not pay the timer's clamp: 300 turns take far less than 300 timer turns' 1 ms", async () => {
  await withImmediateTurns(async () => {
    const t0 = performance.now();
    for (let i = 0; i < 300; i++) await nextTurn();
    const ms = performance.now() - t0;
    // a timer turn is at least 1 ms (about 2.5 here, 4 once nested); an immediate one 0.01,
    // with a timer turn every TIMER_TURN_MS
    assert.ok(ms < 150, `300 immediate turns took ${ms.toFixed(1)} ms`);
  });
});

Deno.test("under immediate turns two slicers take one turn each, and a due timer fires between their slices", async () => {
  await withImmediateTurns(async () => {
    const log: string[] = [];
    const probe = setInterval(() => log.push("t"), 1);
    const slicer = async (name: string) => {
      for (let i = 0; i < 10; i++) {
        await nextTurn();
        busy(3); // the 1 ms timer is due after each slice
        log.push(name);
      }
    };
    await Promise.all([slicer("a"), slicer("b")]);
    clearInterval(probe);
    const seen = log.join("");
    // with a turn each at once, b's slice ran right after a's in the same turn ("ab")
    assert.equal(/[ab][ab]/.test(seen), false, `two slices back to back: ${seen}`);
    assert.equal(log.filter((x) => x === "a").length, 10);
    assert.equal(log.filter((x) => x === "b").length, 10);
  });
});

Deno.test("under immediate turns a timer turn comes at least every TIMER_TURN_MS (Deno KV's replies get in)", async () => {
  await withImmediateTurns(async () => {
    const kv = await Deno.openKv(":memory:");
    try {
      let commits = 0;
      let stop = false;
      const writer = (async () => {
        while (!stop) {
          await kv.set(["n"], commits);
          commits++;
        }
      })();
      const t0 = performance.now();
      while (performance.now() - t0 < 6 * TIMER_TURN_MS) {
        busy(2);
        await nextTurn();
      }
      stop = true;
      await writer;
      assert.ok(commits >= 3, `commits while slices took immediate turns: ${commits}`);
    } finally {
      kv.close();
    }
  });
});
