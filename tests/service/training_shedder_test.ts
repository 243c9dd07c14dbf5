import assert from "node:assert/strict";
import { TrainingShedder } from "../../src/service/training_shedder.ts";
import { Engine } from "../../src/stream/engine.ts";
import { getPreset } from "../../src/stream/preset.ts";
import { useTurnSignal } from "../../src/async/next_turn.ts";

const T0 = Date.UTC(2026, 0, 5);
const STEP = 300_000;

/** A default-preset stream fed `n` smooth readings from reading `from` on. */
function streamWith(engine: Engine, n: number) {
  const s = engine.create("s", { preset: getPreset("default"), columns: ["v"] });
  feed(engine, 0, n);
  return s;
}

function feed(engine: Engine, from: number, to: number) {
  for (let t = from; t < to; t++) engine.observe("s", T0 + t * STEP, [Math.sin(t / 20)]);
}

Deno.test("take() learns as usual while the backlog is short, and sheds learning beyond shedAfterMs", () => {
  const engine = new Engine();
  const s = streamWith(engine, 100);
  const counters = { trainingShed: 0, trainingCaughtUp: 0 };
  const shedder = new TrainingShedder(counters, 250);
  const observe = (t: number) => () => ({
    frozen: s.frozen,
    shedding: shedder.shedding,
    obs: engine.observe("s", T0 + t * STEP, [Math.sin(t / 20)]),
  });
  const calm = shedder.take("s", s, 250, observe(100));
  assert.deepEqual([calm.frozen, calm.shedding, calm.obs.learned], [false, null, true]);
  assert.equal(counters.trainingShed, 0);
  const busy = shedder.take("s", s, 251, observe(101));
  assert.deepEqual([busy.frozen, busy.shedding, busy.obs.learned], [true, "s", false]);
  assert.equal(busy.obs.score !== null, true, "still scored");
  assert.equal(s.frozen, false, "the stream is not left frozen");
  assert.equal(shedder.shedding, null);
  assert.equal(counters.trainingShed, 1);
  // a stream frozen by its owner is no shedding
  s.frozen = true;
  assert.equal(shedder.take("s", s, 10_000, observe(102)).shedding, null);
  assert.equal(s.frozen, true);
  assert.equal(counters.trainingShed, 1);
});

Deno.test("catchUp() makes up the updates owed once a fresh window is learned, at most one window", () => {
  const engine = new Engine();
  const s = streamWith(engine, 100);
  const counters = { trainingShed: 0, trainingCaughtUp: 0 };
  const shedder = new TrainingShedder(counters, 0);
  const window = s.preset.model.window;
  const k1 = s.trainer!.k1;
  // far more readings shed than one window is worth
  for (let t = 100; t < 100 + 10 * window * k1; t++) {
    shedder.take("s", s, 1, () => engine.observe("s", T0 + t * STEP, [Math.sin(t / 20)]));
  }
  const shedEnd = 100 + 10 * window * k1;
  assert.equal(counters.trainingShed, 10 * window * k1);
  const changed: string[] = [];
  const get = (id: string) => engine.get(id);
  assert.equal(shedder.catchUp(Infinity, get, (id) => changed.push(id)), false);
  assert.equal(counters.trainingCaughtUp, 0, "not before a fresh window is learned");
  assert.equal(shedder.owes("s", s), false);
  feed(engine, shedEnd, shedEnd + window + 2);
  assert.equal(shedder.owes("s", s), true);
  const updates = s.trainer!.updates;
  while (shedder.catchUp(Infinity, get, (id) => changed.push(id))) { /* until done */ }
  assert.equal(counters.trainingCaughtUp, window, "one window of updates, no more");
  assert.equal(s.trainer!.updates - updates, window);
  assert.equal(changed.length, window);
  assert.equal(shedder.owes("s", s), false);
});

Deno.test("catchUp() stops at its deadline and forget() drops what a stream owed", () => {
  const engine = new Engine();
  const s = streamWith(engine, 100);
  const counters = { trainingShed: 0, trainingCaughtUp: 0 };
  const shedder = new TrainingShedder(counters, 0);
  for (let t = 100; t < 110; t++) {
    shedder.take("s", s, 1, () => engine.observe("s", T0 + t * STEP, [Math.sin(t / 20)]));
  }
  feed(engine, 110, 140);
  const get = (id: string) => engine.get(id);
  assert.equal(shedder.catchUp(performance.now() - 1, get, () => {}), true, "out of time");
  assert.equal(counters.trainingCaughtUp, 0);
  shedder.forget("s");
  assert.equal(shedder.catchUp(Infinity, get, () => {}), false);
  assert.equal(counters.trainingCaughtUp, 0);
});

Deno.test("catchUp() ends after one update while a request waits for the thread", () => {
  const engine = new Engine();
  const ids = ["a", "b", "c"];
  const at = (t: number) => T0 + t * STEP;
  for (const id of ids) engine.create(id, { preset: getPreset("default"), columns: ["v"] });
  for (let t = 0; t < 100; t++) for (const id of ids) engine.observe(id, at(t), [Math.sin(t / 20)]);
  const counters = { trainingShed: 0, trainingCaughtUp: 0 };
  const shedder = new TrainingShedder(counters, 0);
  const window = engine.get("a")!.preset.model.window;
  for (let t = 100; t < 110; t++) {
    for (const id of ids) {
      const s = engine.get(id)!;
      shedder.take(id, s, 1, () => engine.observe(id, at(t), [Math.sin(t / 20)]));
    }
  }
  for (let t = 110; t < 112 + window; t++) {
    for (const id of ids) engine.observe(id, at(t), [Math.sin(t / 20)]);
  }
  const get = (id: string) => engine.get(id);
  const waiting = new Int32Array(new SharedArrayBuffer(4));
  useTurnSignal(waiting);
  try {
    Atomics.store(waiting, 0, 1); // a read posted to the thread
    assert.equal(shedder.catchUp(Infinity, get, () => {}), true, "more to do");
    assert.equal(counters.trainingCaughtUp, 1, "one update, then the request's turn");
    Atomics.store(waiting, 0, 0);
    assert.equal(shedder.catchUp(Infinity, get, () => {}), true);
    assert.equal(counters.trainingCaughtUp, 1 + ids.length, "one a stream owing, nothing waiting");
  } finally {
    useTurnSignal(null);
  }
});
