import assert from "node:assert/strict";
import {
  fromHorizonColumns,
  HorizonColumnsWriter,
  mergeHorizonColumns,
  toHorizonColumns,
} from "../../src/shard/horizon_columns.ts";
import type { HorizonColumns, StreamHorizonStats } from "../../src/service/application.ts";
import { Service } from "../../src/service/service.ts";
import { Store } from "../../src/store/store.ts";
import { captureLog } from "../../src/log.ts";
import type { Reading } from "../../src/domain/reading.ts";

const stats: StreamHorizonStats[] = [
  {
    stream: "a",
    horizons: [
      {
        horizon: 1,
        scored: 40,
        mse: { blend: 0.25, lstm: 0.5 },
        skill: { blend: 0.1, lstm: -0.2 },
        coverage: 0.9,
      },
      { horizon: 2, scored: 39, mse: { blend: NaN }, skill: { blend: NaN }, coverage: NaN },
    ],
  },
  { stream: "b", horizons: [] },
  {
    stream: "c",
    horizons: [{
      horizon: 1,
      scored: 0,
      mse: { blend: 1 / 3 },
      skill: { blend: -1e-300 },
      coverage: 1,
    }],
  },
];

Deno.test("horizon columns give back every stream's horizons with the blend's entries, exactly", () => {
  const columns = toHorizonColumns(stats);
  assert.deepEqual(columns.streams, ["a", "b", "c"]);
  assert.deepEqual([...columns.counts], [2, 0, 1]);
  assert.equal(columns.values.length, 3 * 5, "five numbers per stream and horizon");
  assert.deepEqual([...fromHorizonColumns(columns)], [
    {
      stream: "a",
      horizons: [
        { horizon: 1, scored: 40, mse: { blend: 0.25 }, skill: { blend: 0.1 }, coverage: 0.9 },
        { horizon: 2, scored: 39, mse: { blend: NaN }, skill: { blend: NaN }, coverage: NaN },
      ],
    },
    { stream: "b", horizons: [] },
    {
      stream: "c",
      horizons: [{
        horizon: 1,
        scored: 0,
        mse: { blend: 1 / 3 },
        skill: { blend: -1e-300 },
        coverage: 1,
      }],
    },
  ]);
});

Deno.test("horizon columns survive a structured clone (a worker's message)", () => {
  const copy = structuredClone(toHorizonColumns(stats));
  assert.deepEqual([...fromHorizonColumns(copy)].map((s) => s.stream), ["a", "b", "c"]);
  assert.ok(copy.values instanceof Float64Array && copy.counts instanceof Int32Array);
});

Deno.test("mergeHorizonColumns() gives several workers' streams (each in id order) in id order", () => {
  const one = (stream: string, mse: number): StreamHorizonStats => ({
    stream,
    horizons: [{ horizon: 1, scored: 1, mse: { blend: mse }, skill: { blend: 0 }, coverage: 1 }],
  });
  const w0 = toHorizonColumns([one("a", 1), one("d", 4), one("e", 5)]);
  const w1 = toHorizonColumns([one("b", 2), one("c", 3), one("f", 6)]);
  const empty = toHorizonColumns([]);
  assert.deepEqual(
    [...mergeHorizonColumns([w0, empty, w1])].map((s) => `${s.stream}=${s.horizons[0].mse.blend}`),
    ["a=1", "b=2", "c=3", "d=4", "e=5", "f=6"],
  );
  assert.deepEqual([...mergeHorizonColumns([])], []);
});

const T0 = Date.UTC(2026, 0, 5);
const STEP = 300_000;

/** Readings from..to - 1 of `stream`: one column, or two (two targets) when `two`. */
function readings(stream: string, from: number, to: number, two: boolean): Reading[] {
  const out: Reading[] = [];
  for (let t = from; t < to; t++) {
    const v = 21 + 2 * Math.sin((2 * Math.PI * t) / 288 + stream.length) + 0.05 * Math.sin(t * 1.7);
    out.push({
      stream,
      ts: T0 + t * STEP,
      values: two ? { temp: v, hum: 40 + v / 3 } : { temp: v },
    });
  }
  return out;
}

/** `a` and `b` as lines of text, NaN and -0 as they are (Object.is), for a readable diff. */
function shown(c: HorizonColumns): string[] {
  const lines = c.streams.map((s, i) => `${s} ${c.counts[i]}`);
  for (let o = 0; o < c.values.length; o += 5) {
    lines.push(
      [...c.values.subarray(o, o + 5)].map((v) => Object.is(v, -0) ? "-0" : `${v}`).join(),
    );
  }
  return lines;
}

Deno.test("HorizonColumnsWriter gives Service.horizonStats()'s columns number for number, in one pass and in parts, as streams come and go", async () => {
  const kv = await Deno.openKv(":memory:");
  const svc = new Service({
    options: { checkpointEvery: 1000 },
    store: new Store(kv),
    log: captureLog().log,
  });
  try {
    // streams scored at every horizon, at some, and not at all (one reading: NaN everywhere)
    const lengths: [string, number, boolean][] = [
      ["m", 90, false],
      ["b-2", 60, true],
      ["z", 1, false],
      ["a:1", 30, true],
      ["a", 45, false],
      ["q", 8, false],
    ];
    for (const [id, n, two] of lengths) await svc.ingest(readings(id, 0, n, two), "http");
    const oracle = () => shown(toHorizonColumns(svc.horizonStats()));
    const writer = new HorizonColumnsWriter();
    const whole = writer.take(svc.engine.streams);
    assert.deepEqual(whole.streams, ["a", "a:1", "b-2", "m", "q", "z"], "in id order");
    assert.ok(whole.values.some(Number.isNaN) && whole.values.some((v) => v > 0 && v < 1));
    assert.deepEqual(shown(whole), oracle(), "one pass");

    // the next pass in parts (the readings between two passes seen by the next)
    for (const [id, n, two] of lengths) await svc.ingest(readings(id, n, n + 20, two), "http");
    writer.step(svc.engine.streams, 4);
    writer.step(svc.engine.streams, 4);
    assert.deepEqual(
      shown(writer.take(svc.engine.streams)),
      oracle(),
      "two quarters, then the rest",
    );
    for (let k = 0; k < 5; k++) writer.step(svc.engine.streams, 3); // more parts than the pass has
    assert.deepEqual(shown(writer.take(svc.engine.streams)), oracle(), "three thirds and beyond");

    // as many streams as before, one of them another: the id order is made again
    assert.ok(await svc.delete("b-2"));
    await svc.ingest(readings("c", 0, 40, true), "http");
    const after = writer.take(svc.engine.streams);
    assert.deepEqual(after.streams, ["a", "a:1", "c", "m", "q", "z"]);
    assert.deepEqual(shown(after), oracle(), "after a stream went and another came");
    assert.ok(await svc.delete("q"));
    writer.step(svc.engine.streams, 2);
    assert.deepEqual(shown(writer.take(svc.engine.streams)), oracle(), "one stream fewer");
  } finally {
    await svc.close();
    kv.close();
  }
});

Deno.test("HorizonColumnsWriter: a pass reads the stream list of its start, each stream's numbers when it reaches it", async () => {
  const kv = await Deno.openKv(":memory:");
  const svc = new Service({ options: {}, store: new Store(kv), log: captureLog().log });
  try {
    await svc.ingest([...readings("a", 0, 40, false), ...readings("b", 0, 40, false)], "http");
    const writer = new HorizonColumnsWriter();
    writer.step(svc.engine.streams, 2); // stream a, as it is now
    const aBefore = shown(toHorizonColumns(svc.horizonStats())).slice(2, 2 + 24);
    await svc.ingest([...readings("a", 40, 60, false), ...readings("b", 40, 60, false)], "http");
    await svc.ingest(readings("new", 0, 5, false), "http");
    const now = shown(toHorizonColumns(svc.horizonStats()));
    const pass = shown(writer.take(svc.engine.streams));
    assert.deepEqual(pass.slice(0, 2), ["a 24", "b 24"], "the streams of the pass's start");
    assert.deepEqual(pass.slice(2, 2 + 24), aBefore, "a: read at the first part");
    assert.notDeepEqual(aBefore, now.slice(3, 3 + 24), "(a learned since)");
    assert.deepEqual(pass.slice(2 + 24), now.slice(3 + 24, 3 + 48), "b: read at the end");
  } finally {
    await svc.close();
    kv.close();
  }
});
