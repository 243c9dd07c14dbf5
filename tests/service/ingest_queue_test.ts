import assert from "node:assert/strict";
import { IngestQueue, QueueFullError } from "../../src/service/ingest_queue.ts";
import { Slices, turnWanted, useTurnSignal } from "../../src/async/next_turn.ts";

/** Spins for `ms` (a reading that takes time to learn). */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* work */ }
}

interface Ctx {
  done: number[];
}

Deno.test("a small batch on an idle queue is done before push() returns", async () => {
  const seen: number[] = [];
  // a slice no pause of a loaded machine can end: the batch is done inline because the queue
  // was idle, not because the clock read 10 ms apart (the default slice) came out under 10 ms
  const q = new IngestQueue<number, Ctx>(
    { apply: (x, _i, ctx) => ctx.done.push(x) },
    { sliceMs: Infinity },
  );
  const ctx = { done: seen };
  const done = q.push([1, 2, 3], ctx);
  assert.deepEqual(seen, [1, 2, 3], "done at once");
  assert.equal(await done, ctx);
  assert.equal(q.length, 0);
  q.close();
});

Deno.test("a request waiting for the thread ends the slice after the item under way, never before its first", async () => {
  const waiting = new Int32Array(new SharedArrayBuffer(8));
  useTurnSignal(waiting, 1);
  try {
    const seen: number[] = [];
    // a slice no clock can end: only the request does
    const q = new IngestQueue<number, Ctx>(
      {
        apply: (x, _i, ctx) => {
          ctx.done.push(x);
          if (x === 4) Atomics.add(waiting, 1, 1); // a read posted to the thread meanwhile
        },
      },
      { sliceMs: Infinity },
    );
    const ctx = { done: seen };
    const done = q.push(Array.from({ length: 100 }, (_, i) => i), ctx);
    assert.deepEqual(seen, [0, 1, 2, 3, 4], "the slice ended after item 4, not after all 100");
    assert.equal(turnWanted(), true);
    const pause = new Slices(60_000);
    assert.equal(pause.due(), true, "a Slices' slice is due too");
    // while the request still waits, each turn's slice does one item: the work goes on
    await new Promise((r) => setTimeout(r, 0));
    assert.ok(seen.length > 5, `the queue went on while the request waited: ${seen.length} items`);
    Atomics.sub(waiting, 1, 1); // the request taken
    assert.equal(turnWanted(), false);
    assert.equal(pause.due(), false);
    assert.equal(await done, ctx);
    assert.equal(seen.length, 100);
    q.close();
  } finally {
    useTurnSignal(null);
  }
});

Deno.test("batches are done in order; a long one works in slices and timers run between them", async () => {
  const order: string[] = [];
  const q = new IngestQueue<string, Ctx>(
    { apply: (x) => (busy(0.5), order.push(x)) },
    { sliceMs: 5 },
  );
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const big = Array.from({ length: 200 }, (_, i) => `a${i}`); // about 100 ms of work
  const a = q.push(big, { done: [] });
  const b = q.push(["b0", "b1"], { done: [] });
  assert.ok(q.length > 0 && q.length <= 202, "work is left for later turns");
  await Promise.all([a, b]);
  clearInterval(timer);
  assert.deepEqual(order, [...big, "b0", "b1"]);
  assert.ok(ticks >= 5, `a 1 ms timer ran between slices: ${ticks} times`);
  await q.drain();
  q.close();
});

/**
 * A gate shut for item `held` until `open()`: it hands back a promise for
 * `held` (settled by `open()`) and null for every other item, and for
 * `held` too once that promise settled (a save made room).
 */
function gateShutFor(held: string): {
  gate: (x: string) => Promise<unknown> | null;
  open: () => void;
} {
  let open!: () => void;
  const opened = new Promise<void>((r) => open = r);
  let shut = true;
  return { open, gate: (x) => x === held && shut ? opened.then(() => shut = false) : null };
}

Deno.test("an item whose gate hands back a promise waits for it, and the items after it wait too", async () => {
  const order: string[] = [];
  const { gate, open } = gateShutFor("held");
  const q = new IngestQueue<string, Ctx>({ apply: (x) => order.push(x), gate });
  const a = q.push(["a", "held", "b"], { done: [] });
  const c = q.push(["c"], { done: [] });
  assert.deepEqual(order, ["a"]);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(order, ["a"], "held until the gate opens");
  assert.equal(q.backlogMs() > 0, true, "the waiting batch counts as backlog");
  open();
  await Promise.all([a, c]);
  assert.deepEqual(order, ["a", "held", "b", "c"]);
  q.close();
});

Deno.test("a full queue refuses a batch with QueueFullError unless forced; the first batch always fits", async () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => open = r);
  let waiting = true;
  const q = new IngestQueue<number, Ctx>(
    { apply: () => {}, gate: () => waiting ? gate.then(() => waiting = false) : null },
    { maxQueued: 10 },
  );
  const big = q.push(Array.from({ length: 25 }, (_, i) => i), { done: [] }); // alone: let in
  assert.equal(q.length, 25);
  assert.throws(
    () => q.push([1], { done: [] }),
    (e) =>
      e instanceof QueueFullError &&
      e.message ===
        "Cannot queue readings: at most 10 may wait (maxQueuedReadings): current count is 25 waiting and 1 in this message; retry later",
  );
  const forced = q.push([1, 2], { done: [] }, true);
  assert.equal(q.length, 27);
  open();
  await Promise.all([big, forced]);
  assert.equal(q.length, 0);
  q.close();
});

Deno.test("an apply that throws rejects its batch only; the next batch goes on", async () => {
  const order: number[] = [];
  const q = new IngestQueue<number, Ctx>({
    apply: (x) => {
      if (x === 2) throw new Error("boom");
      order.push(x);
    },
  });
  const bad = q.push([1, 2, 3], { done: [] });
  const good = q.push([4], { done: [] });
  await assert.rejects(bad, /^Error: boom$/);
  await good;
  assert.deepEqual(order, [1, 4]);
  assert.equal(q.length, 0);
  q.close();
});

Deno.test("backlogMs() counts the oldest batch not started; idle() runs when nothing waits", async () => {
  let spare = 3;
  const q = new IngestQueue<number, Ctx>({
    apply: () => busy(2),
    idle: () => --spare > 0,
  }, { sliceMs: 4 });
  assert.equal(q.backlogMs(), 0);
  const a = q.push(Array.from({ length: 20 }, (_, i) => i), { done: [] });
  assert.equal(q.backlogMs(), 0, "a batch under way alone is no backlog");
  const b = q.push([1], { done: [] });
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(q.backlogMs() >= 5, `the second batch waits: ${q.backlogMs()}`);
  await Promise.all([a, b]);
  await q.drain();
  while (spare > 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(spare, 0, "idle work ran until it said it was done");
  q.wake(); // nothing to do: the worker stops again
  await new Promise((r) => setTimeout(r, 5));
  q.close();
});

Deno.test("IngestQueue names a bad option", () => {
  const apply = () => {};
  assert.throws(
    () => new IngestQueue({ apply }, { sliceMs: 0 }),
    /^RangeError: Cannot create ingest queue: sliceMs must be a positive number: current value is 0$/,
  );
  assert.throws(
    () => new IngestQueue({ apply }, { maxQueued: 1.5 }),
    /^RangeError: Cannot create ingest queue: maxQueued must be a positive integer: current value is 1\.5$/,
  );
});

Deno.test("refuseWaiting() rejects the batches not started that it picks; the one under way and the rest go on", async () => {
  const order: number[] = [];
  const q = new IngestQueue<number, Ctx>({ apply: (x) => (busy(1), order.push(x)) }, {
    sliceMs: 3,
  });
  const under = q.push(Array.from({ length: 20 }, (_, i) => i), { done: [] });
  const waiting = [q.push([100], { done: [] }), q.push([200, 201], { done: [] })];
  const kept = q.push([300], { done: [7] });
  assert.ok(order.length > 0 && order.length < 20, "the first batch is under way");
  assert.equal(q.refuseWaiting(new Error("shutting down"), (ctx) => ctx.done.length === 0), 3);
  for (const w of waiting) await assert.rejects(w, /^Error: shutting down$/);
  await under;
  await kept;
  await q.drain();
  assert.deepEqual(order, [...Array.from({ length: 20 }, (_, i) => i), 300]);
  assert.equal(q.length, 0);
  q.close();
});

Deno.test("with key(), an item at its gate holds back the later items of its key alone, in order", async () => {
  const order: string[] = [];
  // "a2" must wait for a save (its stream at the checkpoint bound)
  const { gate, open } = gateShutFor("a2");
  const q = new IngestQueue<string, Ctx>({ apply: (x) => order.push(x), gate, key: (x) => x[0] });
  const first = q.push(["a1", "b1", "a2", "b2", "a3"], { done: [] });
  const second = q.push(["b3", "a4", "c1"], { done: [] });
  let secondDone = false;
  second.then(() => secondDone = true);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(order, ["a1", "b1", "b2", "b3", "c1"], "the other keys go on");
  assert.equal(q.length, 3, "a2, a3 and a4 wait");
  assert.equal(secondDone, false, "a batch resolves once all of its items are done");
  open();
  await Promise.all([first, second]);
  assert.deepEqual(order, ["a1", "b1", "b2", "b3", "c1", "a2", "a3", "a4"]);
  assert.equal(q.length, 0);
  await q.drain();
  q.close();
});

Deno.test("with key(), a key whose gate shuts again keeps its items aside; every key keeps its order", async () => {
  const order: string[] = [];
  // a key's gate is shut for its first 2 looks at each of two items, then opens (a save that
  // made room and the bound reached again)
  const looks = new Map<string, number>();
  const q = new IngestQueue<string, Ctx>({
    apply: (x) => order.push(x),
    gate: (x) => {
      if (x !== "k2" && x !== "k5") return null;
      const n = (looks.get(x) ?? 0) + 1;
      looks.set(x, n);
      return n <= 2 ? new Promise((r) => setTimeout(r, 5)) : null;
    },
    key: (x) => x[0],
  }, { sliceMs: 1 });
  const items = Array.from({ length: 8 }, (_, i) => [`k${i}`, `m${i}`]).flat();
  const batches = [items.slice(0, 5), items.slice(5, 11), items.slice(11)].map((b) =>
    q.push(b, { done: [] })
  );
  await Promise.all(batches);
  await q.drain();
  for (const key of ["k", "m"]) {
    assert.deepEqual(
      order.filter((x) => x[0] === key),
      items.filter((x) => x[0] === key),
      `${key}'s items in order`,
    );
  }
  assert.ok(order.indexOf("m7") < order.indexOf("k2"), `m went on while k waited: ${order}`);
  assert.equal(q.length, 0);
  q.close();
});

Deno.test("with key(), an apply that throws rejects its batch and drops its items set aside", async () => {
  const order: string[] = [];
  const { gate, open } = gateShutFor("a1");
  const q = new IngestQueue<string, Ctx>({
    apply: (x) => {
      if (x === "b1") throw new Error("boom");
      order.push(x);
    },
    gate,
    key: (x) => x[0],
  });
  const bad = q.push(["a1", "b1", "a2"], { done: [] });
  const good = q.push(["a3", "c1"], { done: [] });
  await assert.rejects(bad, /^Error: boom$/);
  open();
  await good;
  await q.drain();
  assert.deepEqual(order, ["c1", "a3"], "a1 and a2 were dropped with their batch; a3 waited");
  assert.equal(q.length, 0);
  q.close();
});

Deno.test("msPerItem is what apply took an item in the last slices; one long slice does not make it", async () => {
  let ms = 1;
  const q = new IngestQueue<number, Ctx>({ apply: () => busy(ms) }, { sliceMs: 5 });
  assert.ok(Number.isNaN(q.msPerItem));
  await q.push(Array.from({ length: 40 }, (_, i) => i), { done: [] });
  assert.ok(q.msPerItem >= 1 && q.msPerItem < 5, `msPerItem: ${q.msPerItem}`);
  // a slice stretched (a wait for a core looks the same to the queue)
  ms = 30;
  await q.push([1], { done: [] });
  assert.ok(q.msPerItem < 5, `after one 30 ms item: ${q.msPerItem}`);
  q.close();
});

Deno.test("push()'s started is called once, as the queue comes to the batch's first item", async () => {
  const events: string[] = [];
  const q = new IngestQueue<string, Ctx>(
    { apply: (x) => (busy(0.5), events.push(x)) },
    { sliceMs: 2 },
  );
  const a = q.push(["a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"], { done: [] });
  const b = q.push(["b0", "b1"], { done: [] }, false, {
    started: () => events.push("b started"),
  });
  assert.ok(!events.includes("b started"), "not while the batch before it has items left");
  await Promise.all([a, b]);
  assert.deepEqual(events, [
    "a0",
    "a1",
    "a2",
    "a3",
    "a4",
    "a5",
    "a6",
    "a7",
    "b started",
    "b0",
    "b1",
  ]);
  q.close();
});

/** A queue of "key:n" items keyed by what comes before the colon, each 0.5 ms of work, 2 ms slices. */
function keyedQueue(order: string[]) {
  return new IngestQueue<string, Ctx>(
    { apply: (x) => (busy(0.5), order.push(x)), key: (x) => x.split(":")[0] },
    { sliceMs: 2 },
  );
}

/** Items "k:from" … "k:(from+n-1)". */
const items = (k: string, n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `${k}:${from + i}`);

Deno.test("a batch goes before the yielding batches ahead (the one under way too), each key in order", async () => {
  const order: string[] = [];
  const q = keyedQueue(order);
  const p1 = q.push(items("big", 20), { done: [] }, false, { yields: true });
  const p2 = q.push(items("big", 20, 20), { done: [] }, false, { yields: true });
  assert.ok(order.length > 0 && order.length < 20, "the first piece is under way");
  const under = order.length;
  const small = q.push(["dev:0"], { done: [] });
  await Promise.all([p1, p2, small]);
  const at = order.indexOf("dev:0");
  assert.equal(at, under, `taken at the next slice, before the pieces' items left: ${order}`);
  assert.deepEqual(order.filter((x) => x.startsWith("big")), items("big", 40), "big's order");
  q.close();
});

Deno.test("a batch does not go before a yielding batch with an item of its key left, nor a plain one", async () => {
  const order: string[] = [];
  const q = keyedQueue(order);
  const a = q.push(items("big", 20), { done: [] }, false, { yields: true });
  const b = q.push(["dev:0", ...items("other", 10)], { done: [] }, false, { yields: true });
  const c = q.push(["dev:1"], { done: [] }); // dev:0 is left in b: behind b
  const d = q.push(items("plain", 10), { done: [] }); // goes before a's items left (none of its key)
  const e = q.push(["dev:2"], { done: [] }); // plain's batch does not yield: behind it
  await Promise.all([a, b, c, d, e]);
  assert.ok(order.indexOf("dev:0") < order.indexOf("dev:1"), `dev in order: ${order}`);
  assert.ok(order.indexOf("dev:1") < order.indexOf("dev:2"), `dev in order: ${order}`);
  assert.ok(order.indexOf("plain:9") < order.indexOf("dev:2"), `behind the plain batch: ${order}`);
  assert.deepEqual(order.filter((x) => x.startsWith("big")), items("big", 20));
  q.close();
});

Deno.test("a yielding batch is overtaken by at most as many items as it holds", async () => {
  const order: string[] = [];
  const q = keyedQueue(order);
  const pad = q.push(items("pad", 10), { done: [] }); // keeps the queue busy: the piece waits
  const p = q.push(items("big", 4), { done: [] }, false, { yields: true });
  const late = [
    q.push(["a:0", "a:1", "a:2"], { done: [] }),
    q.push(["b:0"], { done: [] }),
    q.push(["c:0"], { done: [] }),
  ];
  await Promise.all([pad, p, ...late]);
  const bigLeft = order.indexOf("big:0");
  assert.ok(order.indexOf("a:2") < bigLeft, `3 items overtook the piece of 4: ${order}`);
  assert.ok(order.indexOf("b:0") < bigLeft, `a fourth item did too: ${order}`);
  assert.ok(order.indexOf("c:0") > bigLeft, `a fifth did not: ${order}`);
  q.close();
});

Deno.test("with batches gone before yielding ones, backlogMs() is the oldest not started's wait and refuseWaiting() keeps the one under way", async () => {
  const order: string[] = [];
  const q = keyedQueue(order);
  const p1 = q.push(items("big", 20), { done: [] }, false, { yields: true });
  const p2 = q.push(items("big", 20, 20), { done: [] }, false, { yields: true });
  await new Promise((r) => setTimeout(r, 15));
  const small = q.push(["dev:0"], { done: [] });
  const backlog = q.backlogMs();
  assert.ok(backlog >= 14, `the second piece's wait, not the new batch's: ${backlog}`);
  const refused = q.refuseWaiting(new Error("stop"), () => true);
  assert.equal(refused, 21, "the second piece and the new batch; the first piece goes on");
  await assert.rejects(p2);
  await assert.rejects(small);
  await p1;
  assert.deepEqual(order, items("big", 20));
  q.close();
});

Deno.test("the slice ends once a batch that went before yielding ones is done: it is answered first", async () => {
  const order: string[] = [];
  const q = new IngestQueue<string, Ctx>(
    { apply: (x) => (busy(0.5), order.push(x)), key: (x) => x.split(":")[0] },
    { sliceMs: 30 },
  );
  const p1 = q.push(items("big", 200), { done: [] }, false, { yields: true });
  const small = q.push(["dev:0"], { done: [] });
  let answeredAfter = -1;
  small.then(() => answeredAfter = order.length);
  await Promise.all([p1, small]);
  assert.equal(answeredAfter, order.indexOf("dev:0") + 1, `answered before more work: ${order}`);
  q.close();
});

Deno.test("while a yielding batch waits, slices are half of sliceMs; else sliceMs", async () => {
  // a clock that only items move (0.25 ms each), so each slice's items are counted exactly
  let clock = 0;
  const real = Object.getOwnPropertyDescriptor(performance, "now");
  Object.defineProperty(performance, "now", { value: () => clock, configurable: true });
  try {
    // a slice is one task of the event loop: a microtask queued at its first item runs after it
    const slices: number[] = [];
    let open = false;
    const q = new IngestQueue<string, Ctx>({
      apply: () => {
        if (!open) {
          open = true;
          slices.push(0);
          queueMicrotask(() => open = false);
        }
        clock += 0.25;
        slices[slices.length - 1]++;
      },
      key: (x) => x.split(":")[0],
    }, { sliceMs: 8 });
    await q.push(items("big", 200), { done: [] }, false, { yields: true });
    const yielding = slices.splice(0);
    await q.push(items("plain", 200), { done: [] });
    q.close();
    assert.deepEqual(new Set(yielding.slice(0, -1)), new Set([16]), `4 ms slices: ${yielding}`);
    assert.deepEqual(new Set(slices.slice(0, -1)), new Set([32]), `8 ms slices: ${slices}`);
  } finally {
    if (real) Object.defineProperty(performance, "now", real);
    else delete (performance as { now?: unknown }).now;
  }
});
