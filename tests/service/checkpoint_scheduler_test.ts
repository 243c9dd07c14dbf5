import assert from "node:assert/strict";
import {
  type CheckpointCounters,
  CheckpointScheduler,
  type CheckpointSchedulerOptions,
} from "../../src/service/checkpoint_scheduler.ts";
import {
  CheckpointConflictError,
  type CheckpointEntry,
  type SaveCheckpointsResult,
} from "../../src/store/store.ts";
import { captureLog } from "../../src/log.ts";
import { Store } from "../../src/store/store.ts";
import { withTempDir } from "../_helpers.ts";

/** A store that records each save; a test decides how each goes. */
class FakeStore {
  readonly saves: CheckpointEntry[][] = [];
  /** Throws this for the next saves, while set. */
  failWith: Error | null = null;
  /** Waits for this before answering, while set. */
  hold: Promise<void> | null = null;
  async saveCheckpoints(entries: CheckpointEntry[]): Promise<SaveCheckpointsResult> {
    const ids = entries.map((e) => e.id);
    // the real store refuses it (src/store/checkpoint_store.ts)
    assert.equal(new Set(ids).size, ids.length, `a stream twice in one batch: ${ids.join(" ")}`);
    this.saves.push(entries);
    if (this.hold) await this.hold;
    if (this.failWith) throw this.failWith;
    return { saved: [], commits: 1 };
  }
  ids(i: number): string[] {
    return this.saves[i].map((e) => e.id).sort();
  }
}

/** The scheduler's counters, all at zero. */
function zeroCounters(): CheckpointCounters {
  return {
    checkpoints: 0,
    checkpointFailures: 0,
    checkpointCommits: 0,
    readingsBeyondLossBound: 0,
  };
}

function setup(options: CheckpointSchedulerOptions = {}, broken = new Set<string>()) {
  const store = new FakeStore();
  const counters = zeroCounters();
  const captured = captureLog("debug");
  const gone = new Set<string>();
  const scheduler = new CheckpointScheduler({
    store,
    counters,
    log: captured.log,
    source: {
      snapshot(id) {
        if (gone.has(id)) return null;
        if (broken.has(id)) throw new Error(`cannot encode ${id}`);
        return { bytes: new Uint8Array([id.length]), config: { id } };
      },
    },
  }, { seconds: 3600, ...options });
  return { store, counters, scheduler, entries: captured.entries, gone };
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

Deno.test("save() saves every changed stream in one batch, each with its config, and only them", async () => {
  const { store, scheduler, counters } = setup();
  scheduler.changed("a", 3);
  scheduler.changed("b"); // a config change, no reading
  assert.equal(await scheduler.save(), true);
  assert.deepEqual(store.ids(0), ["a", "b"]);
  assert.deepEqual(store.saves[0].find((e) => e.id === "a")!.config, { id: "a" });
  assert.equal(scheduler.unsaved("a"), 0);
  assert.equal(await scheduler.save(), true);
  assert.equal(store.saves.length, 1, "nothing changed: nothing written");
  assert.deepEqual(counters, {
    checkpoints: 2,
    checkpointFailures: 0,
    checkpointCommits: 1,
    readingsBeyondLossBound: 0,
  });
  await scheduler.stop();
});

Deno.test("a stream at every/2 unsaved readings asks for a save of the due streams; those at every/4 go along", async () => {
  const { store, scheduler } = setup({ every: 40 });
  scheduler.changed("quiet", 9); // below every/4 = 10: stays
  scheduler.changed("along", 10);
  scheduler.changed("busy", 19);
  await tick(5);
  assert.equal(store.saves.length, 0, "nobody is due yet");
  scheduler.changed("busy", 1); // 20 = every/2
  await scheduler.settled();
  await tick(5);
  assert.equal(store.saves.length, 1);
  assert.deepEqual(store.ids(0), ["along", "busy"]);
  assert.equal(scheduler.unsaved("quiet"), 9);
  await scheduler.stop();
});

Deno.test("room() holds a stream at every unsaved readings until a save made room", async () => {
  const { store, scheduler } = setup({ every: 4 });
  let release!: () => void;
  store.hold = new Promise((r) => release = r);
  scheduler.changed("s", 2); // asks for a save, which hangs on the slow disk
  await tick(5);
  scheduler.changed("s", 2); // 4 unsaved: the next reading must wait
  assert.equal(scheduler.full("s"), true);
  let roomy = false;
  const room = scheduler.room("s").then(() => roomy = true);
  await tick(20);
  assert.equal(roomy, false, "held while the save is under way");
  store.hold = null;
  release();
  await room;
  assert.equal(scheduler.full("s"), false);
  assert.ok(scheduler.unsaved("s") < 4, `unsaved after the save: ${scheduler.unsaved("s")}`);
  await scheduler.stop();
});

Deno.test("a stream due while a save of every stream runs goes in that save's next batch; room() waits for one batch", async () => {
  // one stream a batch (batchBytes 1): a periodic save of 20 streams is 20 batches
  const { store, scheduler } = setup({ every: 10, batchBytes: 1 });
  const written: string[] = [];
  const waiting: (() => void)[] = [];
  store.saveCheckpoints = (entries) => {
    written.push(...entries.map((e) => e.id));
    return new Promise((resolve) => waiting.push(() => resolve({ saved: [], commits: 1 })));
  };
  /** Lets the batch being written end, and the save go on to the next. */
  const step = async () => {
    waiting.shift()?.();
    await tick();
  };
  for (let i = 0; i < 20; i++) scheduler.changed(`s${i}`); // config changes: no reading
  let ended = false;
  const all = scheduler.save().then((ok) => (ended = true, ok));
  await tick(5);
  assert.equal(written.length, 1, "the first batch is being written");
  scheduler.changed("hot", 5); // due (every / 2) while the save runs
  await step();
  assert.equal(written[1], "hot", `written: ${written.join(" ")}`);
  scheduler.changed("hot", 10); // 10 unsaved again: full
  assert.equal(scheduler.full("hot"), true);
  let roomAfter = -1;
  const room = scheduler.room("hot").then(() => roomAfter = written.length);
  for (let i = 0; i < 3 && roomAfter < 0; i++) await step();
  assert.ok(
    roomAfter > 0 && roomAfter <= 4,
    `room after ${roomAfter} batches: ${written.join(" ")}`,
  );
  await room;
  while (!ended) await step();
  assert.equal(await all, true);
  assert.deepEqual(
    new Set(written.filter((id) => id.startsWith("s"))),
    new Set(Array.from({ length: 20 }, (_, i) => `s${i}`)),
  );
  await scheduler.stop();
});

for (
  const [after, batches, unsaved] of [
    [0, [["s0", "s1", "s2"], ["hot"], ["s3"]], 0], // saved urgently: not taken again at its place
    [2, [["s0", "s1", "s2"], ["hot"], ["s3"]], 2], // changed, not due: left for the next save
    [5, [["s0", "s1", "s2"], ["hot"], ["hot"], ["s3"]], 0], // due again: a batch of its own again
  ] as const
) {
  Deno.test(`a stream due during a save is a batch of its own; given ${after} readings (every 10) after it, it is saved again in that save only if due again`, async () => {
    const { store, scheduler } = setup({ every: 10, batchBytes: 3 }); // 3 streams a batch
    let release!: () => void;
    store.hold = new Promise((r) => release = r);
    for (let i = 0; i < 4; i++) scheduler.changed(`s${i}`, 2);
    scheduler.changed("hot", 1); // in the save, its last
    const save = store.saveCheckpoints.bind(store);
    store.saveCheckpoints = (entries) => {
      // readings of hot while its urgent batch is written: the save then meets hot at its place
      if (
        after > 0 && entries.length === 1 && entries[0].id === "hot" && store.saves.length === 1
      ) {
        scheduler.changed("hot", after);
      }
      return save(entries);
    };
    const all = scheduler.save();
    await tick(5);
    scheduler.changed("hot", 5); // due while the first batch is written
    store.hold = null;
    release();
    assert.equal(await all, true);
    assert.deepEqual(store.saves.map((b) => b.map((e) => e.id)), batches);
    assert.equal(scheduler.unsaved("hot"), unsaved);
    await scheduler.stop();
  });
}

Deno.test("a failed save is logged, counted and retried with back-off; meanwhile nothing is held back", async () => {
  const { store, scheduler, counters, entries } = setup({ every: 4, retry: { minMs: 20 } });
  store.failWith = new Error("database or disk is full");
  scheduler.changed("s", 1);
  assert.equal(await scheduler.save(), false);
  assert.equal(scheduler.failing, true);
  assert.equal(counters.checkpointFailures, 1);
  const failed = entries().find((e) => e.event === "checkpoint.failed")!;
  assert.equal(failed.level, "error");
  assert.equal(failed.retryInMs, 20);
  assert.match(String((failed.error as { message: string }).message), /disk is full/);
  // while saves fail, readings are not held back: they are counted beyond the bound
  scheduler.changed("s", 3);
  assert.equal(scheduler.full("s"), false);
  await scheduler.room("s"); // at once
  scheduler.changed("s", 2);
  assert.equal(counters.readingsBeyondLossBound, 2);
  // the retries come by themselves, backing off: 20, 40, 80 ms ...
  while (counters.checkpointFailures < 3) await tick(5);
  const delays = entries().filter((e) => e.event === "checkpoint.failed").map((e) => e.retryInMs);
  assert.deepEqual(delays.slice(0, 3), [20, 40, 80]);
  store.failWith = null;
  while (scheduler.unsaved("s") > 0) await tick(5);
  assert.equal(scheduler.failing, false);
  assert.equal(counters.checkpoints, 1);
  await scheduler.stop();
});

Deno.test("a stream whose snapshot throws is skipped and retried on its own; the others are saved", async () => {
  const broken = new Set(["bad"]);
  const { store, scheduler, counters, entries } = setup({ retry: { minMs: 10 } }, broken);
  scheduler.changed("bad", 5);
  scheduler.changed("good", 5);
  assert.equal(await scheduler.save(), false, "not everything was saved");
  assert.deepEqual(store.ids(0), ["good"]);
  assert.equal(scheduler.failing, false, "the store works: no back-off for the others");
  assert.equal(counters.checkpointFailures, 1);
  assert.equal(entries().find((e) => e.event === "checkpoint.snapshot_failed")!.stream, "bad");
  broken.clear();
  assert.equal(await scheduler.save(), true, "an explicit save tries it again");
  assert.deepEqual(store.ids(1), ["bad"]);
  await scheduler.stop();
});

Deno.test("another writer's checkpoint of one stream keeps the others saved", async () => {
  const { store, scheduler, counters } = setup();
  scheduler.changed("a", 1);
  scheduler.changed("b", 1);
  store.saveCheckpoints = (entries) => {
    store.saves.push(entries);
    return Promise.reject(new CheckpointConflictError(["a"], { saved: [], commits: 1 }));
  };
  assert.equal(await scheduler.save(), false);
  assert.equal(scheduler.unsaved("a"), 1);
  assert.equal(scheduler.unsaved("b"), 0);
  assert.equal(counters.checkpoints, 1);
  assert.equal(counters.checkpointCommits, 1);
  await scheduler.stop();
});

Deno.test("stop() ends the periodic saves and the retries; save() still makes the final save", async () => {
  const { store, scheduler } = setup({ seconds: 0.02, retry: { minMs: 10 } });
  scheduler.start();
  scheduler.changed("a", 1);
  while (store.saves.length === 0) await tick(5);
  assert.deepEqual(store.ids(0), ["a"], "the timer saved it");
  store.failWith = new Error("down");
  scheduler.changed("a", 1);
  await scheduler.stop();
  const n = store.saves.length;
  await tick(60);
  assert.equal(store.saves.length, n, "no timer, no retry after stop()");
  store.failWith = null;
  scheduler.changed("a", 1);
  assert.equal(await scheduler.save(), true);
  assert.equal(scheduler.unsaved("a"), 0);
  assert.equal(scheduler.full("a"), false, "stopped: nothing is held back");
});

Deno.test("a deleted stream is not saved; forget() drops what it had", async () => {
  const { store, scheduler, gone } = setup();
  scheduler.changed("a", 2);
  scheduler.changed("b", 2);
  scheduler.forget("a");
  gone.add("b"); // its model is gone, its forget() is still to come
  assert.equal(await scheduler.save(), true);
  assert.equal(store.saves.length, 0);
  assert.equal(scheduler.unsaved("a"), 0);
  await scheduler.stop();
});

Deno.test("CheckpointScheduler names a bad option", () => {
  const deps = {
    store: new FakeStore(),
    source: { snapshot: () => null },
    log: captureLog().log,
    counters: zeroCounters(),
  };
  assert.throws(
    () => new CheckpointScheduler(deps, { every: 0 }),
    /^RangeError: Cannot create checkpoint scheduler: every must be a positive integer: current value is 0$/,
  );
  assert.throws(
    () => new CheckpointScheduler(deps, { seconds: NaN }),
    /^RangeError: Cannot create checkpoint scheduler: seconds must be a positive number: current value is NaN$/,
  );
});

Deno.test("currentSave() waits for the save under way, not for the ones queued after it", async () => {
  const { store, scheduler } = setup();
  let releaseFirst!: () => void, releaseSecond!: () => void;
  store.hold = new Promise((r) => releaseFirst = r);
  scheduler.changed("a", 1);
  const first = scheduler.save();
  await tick(5);
  scheduler.changed("b", 1);
  let secondDone = false;
  const second = scheduler.save().then(() => secondDone = true);
  let currentDone = false;
  const current = scheduler.currentSave().then(() => currentDone = true);
  await tick(10);
  assert.equal(currentDone, false, "the first save is still writing");
  store.hold = new Promise((r) => releaseSecond = r);
  releaseFirst();
  await first;
  await current;
  assert.equal(currentDone, true);
  assert.equal(secondDone, false, "the save after it is still writing");
  releaseSecond();
  await second;
  assert.deepEqual(store.saves.map((_, i) => store.ids(i)), [["a"], ["b"]]);
  await scheduler.stop();
});

Deno.test("a save takes the streams never saved first, then the oldest checkpoints, each batch written before the next is taken", async () => {
  let clock = 1000;
  const steps: string[] = [];
  const saves: string[][] = [];
  let failBatch = -1;
  const counters = zeroCounters();
  const told: number[] = [];
  const scheduler = new CheckpointScheduler({
    store: {
      saveCheckpoints(entries) {
        steps.push("write");
        saves.push(entries.map((e) => e.id));
        if (saves.length - 1 === failBatch) return Promise.reject(new Error("disk is full"));
        return Promise.resolve({ saved: [], commits: 1 });
      },
    },
    counters,
    log: captureLog().log,
    now: () => clock,
    saved: (n) => told.push(n),
    source: {
      snapshot(id) {
        steps.push(id);
        return { bytes: new Uint8Array(1), config: { id } };
      },
    },
  }, { seconds: 3600, batchBytes: 2 });
  // x saved at 1500, y at 2500; "restored" was restored at the start (1000)
  clock = 1500;
  scheduler.changed("x", 1);
  assert.equal(await scheduler.save(), true);
  clock = 2500;
  scheduler.changed("y", 1);
  assert.equal(await scheduler.save(), true);
  clock = 3000;
  scheduler.changed("y", 1);
  scheduler.changed("x", 1);
  scheduler.changed("restored", 1);
  scheduler.created("new1");
  scheduler.changed("new1", 2);
  scheduler.created("new2");
  scheduler.changed("new2", 5);
  assert.equal(scheduler.unsavedStreams, 5);
  saves.length = steps.length = told.length = 0;
  failBatch = 1;
  assert.equal(await scheduler.save(), false, "the second batch failed");
  assert.deepEqual(steps, ["new2", "new1", "write", "restored", "x", "write"]);
  assert.deepEqual(told, [2], "told of the first batch");
  assert.equal(scheduler.unsavedStreams, 3, "the batch that failed and the one after wait");
  saves.length = steps.length = 0;
  failBatch = -1;
  assert.equal(await scheduler.save(), true);
  assert.deepEqual(saves, [["restored", "x"], ["y"]]);
  assert.equal(scheduler.unsavedStreams, 0);
  // now new2 and new1 were saved at 3000, restored, x and y at 3000 too: readings decide
  clock = 4000;
  scheduler.changed("y", 1);
  scheduler.changed("new1", 4);
  saves.length = 0;
  assert.equal(await scheduler.save(), true);
  assert.deepEqual(saves, [["new1", "y"]], "equal ages: the most unsaved readings first");
  await scheduler.stop();
});

Deno.test("unsavedStreams and oldestUnsaved() follow changes, saves (while changing), failures and forgets", async () => {
  let clock = 1000;
  const store = new FakeStore();
  const live = new Map<string, { dirtySince: number | null }>();
  const scheduler = new CheckpointScheduler({
    store,
    counters: zeroCounters(),
    log: captureLog("debug").log,
    source: { snapshot: (id) => ({ bytes: new Uint8Array([1]), config: { id } }) },
    now: () => clock,
  }, { seconds: 3600 });
  // what they must say, from a model of the streams: when each became dirty, null if clean
  const expected = () => {
    const dirty = [...live.values()].filter((s) => s.dirtySince !== null);
    return {
      unsaved: dirty.length,
      oldest: dirty.length === 0 ? null : Math.min(...dirty.map((s) => s.dirtySince!)),
    };
  };
  const change = (id: string) => {
    const s = live.get(id) ?? { dirtySince: null };
    if (s.dirtySince === null) s.dirtySince = clock;
    live.set(id, s);
    scheduler.changed(id, 1);
  };
  let seed = 3;
  const rand = (n: number) => (seed = (seed * 16807) % 2147483647) % n;
  for (let round = 0; round < 40; round++) {
    for (let k = 0; k < 10; k++) {
      clock += 1 + rand(5);
      change(`s${rand(12)}`);
    }
    if (rand(4) === 0) {
      const id = `s${rand(12)}`;
      scheduler.forget(id);
      live.delete(id);
    }
    assert.deepEqual(
      { unsaved: scheduler.unsavedStreams, oldest: scheduler.oldestUnsaved() },
      expected(),
      `round ${round}`,
    );
    if (rand(3) === 0) {
      // a save whose commit waits while one stream changes again: that one stays dirty, since its snapshot
      let release!: () => void;
      store.hold = new Promise((r) => release = r);
      store.failWith = rand(5) === 0 ? new Error("disk full") : null;
      const saving = scheduler.save();
      await tick();
      const snapAt = clock;
      clock += 3;
      const again = `s${rand(12)}`;
      const wasDirty = live.get(again)?.dirtySince != null;
      change(again);
      release();
      const ok = await saving;
      store.hold = null;
      if (ok) {
        for (const [id, s] of live) {
          // saved: clean, but for the one changed after its snapshot (dirty since the snapshot)
          s.dirtySince = id === again && wasDirty
            ? snapAt
            : id === again && s.dirtySince !== null
            ? s.dirtySince
            : null;
        }
      }
      assert.deepEqual(
        { unsaved: scheduler.unsavedStreams, oldest: scheduler.oldestUnsaved() },
        expected(),
        `after the save of round ${round}`,
      );
    }
  }
  store.failWith = null;
  await scheduler.stop();
});

Deno.test("a save holds about 2 MiB of checkpoints at a time by default and logs once", async () => {
  const store = new FakeStore();
  let held = 0;
  const counters = zeroCounters();
  const captured = captureLog("debug");
  const scheduler = new CheckpointScheduler({
    store: {
      saveCheckpoints(entries) {
        held = Math.max(held, entries.reduce((a, e) => a + e.bytes.byteLength, 0));
        return store.saveCheckpoints(entries);
      },
    },
    counters,
    log: captured.log,
    // 60 KB each, a pi-small checkpoint's size: 100 of them are 6 MB
    source: { snapshot: (id) => ({ bytes: new Uint8Array(60_000), config: { id } }) },
  }, { seconds: 3600 });
  for (let k = 0; k < 100; k++) scheduler.changed(`s${k}`, 1);
  assert.equal(await scheduler.save(), true);
  // a batch goes on until it holds 2 MiB: 35 checkpoints (2,100,000 bytes), then 35, then 30
  assert.deepEqual(store.saves.map((s) => s.length), [35, 35, 30]);
  assert.ok(held <= 2 * 1024 * 1024 + 60_000, `held ${held} bytes`);
  assert.equal(counters.checkpoints, 100);
  const saved = captured.entries().filter((e) => e.event === "checkpoint.saved");
  assert.equal(saved.length, 1, "one line per save, not per batch");
  assert.equal(saved[0].streams, 100);
  assert.equal(saved[0].commits, 3, "one commit per batch (the fake store's)");
  await scheduler.stop();
});

Deno.test("due streams a batch cuts short are saved once per batch in a real KV file, each at its newest snapshot", async () => {
  await withTempDir(async (dir) => {
    const kv = await Deno.openKv(`${dir}/kv.sqlite`); // a real KV file
    const store = new Store(kv);
    const batches: string[][] = [];
    let firstWritten!: () => void;
    const writing = new Promise<void>((r) => firstWritten = r);
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    // what each stream's snapshot holds: its changes so far (the newest, one byte of it)
    const changes = new Map<string, number>();
    const counters = zeroCounters();
    const captured = captureLog("debug");
    const scheduler = new CheckpointScheduler({
      store: {
        async saveCheckpoints(entries) {
          batches.push(entries.map((e) => e.id));
          if (batches.length === 1) {
            firstWritten();
            await gate;
          }
          return await store.saveCheckpoints(entries);
        },
      },
      counters,
      log: captured.log,
      source: {
        snapshot(id) {
          // "big" streams fill a batch alone; the others are one byte
          const bytes = new Uint8Array(id.startsWith("big") ? 100 : 1);
          bytes[0] = changes.get(id)!;
          return { bytes, config: { id } };
        },
      },
    }, { seconds: 3600, every: 10, batchBytes: 50 });
    const change = (id: string, readings: number) => {
      changes.set(id, (changes.get(id) ?? 0) + 1);
      scheduler.changed(id, readings);
    };
    try {
      change("big0", 1);
      change("y", 1); // in the save, after big0's batch
      const all = scheduler.save();
      await writing; // the first batch (big0 alone) is being written
      // both due meanwhile: the next batch is theirs, and big1 alone fills it, so y is left
      // to the batch after, which also reaches y's own place in the save
      change("big1", 5);
      change("y", 5);
      release();
      const saved = await all;
      const failed = captured.entries().filter((e) => e.event === "checkpoint.failed");
      assert.equal(
        saved,
        true,
        `the save failed: ${failed.map((e) => (e.error as Error).message).join("; ")}`,
      );
      for (const b of batches) {
        assert.equal(new Set(b).size, b.length, `a stream twice in one batch: ${b.join(" ")}`);
      }
      assert.deepEqual(batches, [["big0"], ["big1"], ["y"]]);
      assert.equal(counters.checkpointFailures, 0);
      assert.equal(scheduler.unsavedStreams, 0);
      for (const [id, n] of changes) {
        assert.equal((await store.loadCheckpoint(id))?.[0], n, `${id}'s newest snapshot in KV`);
      }
    } finally {
      await scheduler.stop();
      kv.close();
    }
  });
});
