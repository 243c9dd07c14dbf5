import assert from "node:assert/strict";
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_MAX_QUEUED_BYTES,
  SlowClientGuard,
  type TooSlow,
} from "../../src/alerts/slow_client_guard.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A guard over a queue the test sets by hand, and the drops it reported. */
function watched(opts: ConstructorParameters<typeof SlowClientGuard>[1]) {
  const q = { bytes: 0 };
  const drops: TooSlow[] = [];
  const guard = new SlowClientGuard(() => q.bytes, opts, (why) => drops.push(why));
  return { q, drops, guard };
}

Deno.test("SlowClientGuard drops a client whose queue grows over the byte limit, once", () => {
  const { q, drops, guard } = watched({ maxBytes: 1000, drainTimeoutMs: 60_000 });
  q.bytes = 1000;
  assert.equal(guard.check(), true, "at the limit is not over it");
  guard.stop(); // the watch of the non-empty queue started above
  const again = watched({ maxBytes: 1000, drainTimeoutMs: 60_000 });
  again.q.bytes = 1001;
  assert.equal(again.guard.check(), false);
  assert.equal(again.guard.check(), false, "a dropped client stays dropped");
  assert.deepEqual(again.drops, [{
    reason: "over_limit",
    queued: 1001,
    limit: 1000,
    timeoutMs: 60_000,
  }]);
  assert.deepEqual(drops, []);
});

Deno.test("SlowClientGuard drops a client whose queue stays non-empty for the drain timeout", async () => {
  const { q, drops, guard } = watched({ maxBytes: 1000, drainTimeoutMs: 150, pollMs: 10 });
  q.bytes = 10;
  assert.equal(guard.check(), true);
  await sleep(60);
  assert.deepEqual(drops, [], "not before the timeout");
  await sleep(250);
  assert.deepEqual(drops, [{ reason: "undrained", queued: 10, limit: 1000, timeoutMs: 150 }]);
  assert.equal(guard.check(), false);
});

Deno.test("SlowClientGuard keeps a client whose queue empties within the drain timeout", async () => {
  const { q, drops, guard } = watched({ maxBytes: 1000, drainTimeoutMs: 300, pollMs: 10 });
  try {
    // a queue that is filled again and again, longer than the timeout in all, but empties each time
    for (let i = 0; i < 6; i++) {
      q.bytes = 500;
      assert.equal(guard.check(), true);
      await sleep(40);
      q.bytes = 0;
      await sleep(100);
    }
    assert.deepEqual(drops, []);
  } finally {
    guard.stop();
  }
});

Deno.test("SlowClientGuard.room() waits until at most half the limit is queued, or the guard stops", async () => {
  const { q, guard } = watched({ maxBytes: 1000, drainTimeoutMs: 10_000, pollMs: 10 });
  try {
    q.bytes = 500;
    let roomy = false;
    await guard.room().then(() => (roomy = true));
    assert.equal(roomy, true, "half the limit leaves room");
    q.bytes = 900;
    guard.check();
    let woke = false;
    const waiting = guard.room().then(() => (woke = true));
    await sleep(50);
    assert.equal(woke, false, "no room while 900 of 1000 bytes wait");
    q.bytes = 400;
    await waiting;
    q.bytes = 900;
    guard.check();
    const stopped = guard.room();
    guard.stop();
    await stopped; // a stopped guard wakes its waiters
  } finally {
    guard.stop();
  }
});

Deno.test("SlowClientGuard has documented defaults and refuses limits that are not positive", () => {
  const guard = new SlowClientGuard(() => 0, {}, () => {});
  assert.equal(guard.maxBytes, DEFAULT_MAX_QUEUED_BYTES);
  assert.equal(DEFAULT_MAX_QUEUED_BYTES, 1024 * 1024);
  assert.equal(guard.drainTimeoutMs, DEFAULT_DRAIN_TIMEOUT_MS);
  assert.equal(DEFAULT_DRAIN_TIMEOUT_MS, 30_000);
  assert.throws(
    () => new SlowClientGuard(() => 0, { maxBytes: 0 }, () => {}),
    {
      message:
        "Cannot watch an alert client: maxBytes must be a positive number: current value is 0",
    },
  );
  assert.throws(
    () => new SlowClientGuard(() => 0, { drainTimeoutMs: NaN }, () => {}),
    /drainTimeoutMs must be a positive number: current value is NaN/,
  );
});
