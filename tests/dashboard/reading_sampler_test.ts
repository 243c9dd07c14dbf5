import assert from "node:assert/strict";
import { RecentReadings } from "../../src/dashboard/recent_readings.ts";
import {
  ReadingSampler,
  type SampledStream,
  startReadingSampler,
} from "../../src/dashboard/reading_sampler.ts";
import { Engine } from "../../src/stream/engine.ts";
import { getPreset } from "../../src/stream/preset.ts";

const T0 = Date.UTC(2025, 5, 2);
const STEP = 300_000;
const temperature = (i: number) => 21 + 2 * Math.sin((2 * Math.PI * i) / 288) + 0.3 * Math.sin(i);

/** An engine with the stream "room" (and more), as the service builds them. */
function engineWith(...ids: string[]): Engine {
  const engine = new Engine();
  for (const id of ["room", ...ids]) create(engine, id, "default");
  return engine;
}

function create(engine: Engine, id: string, preset: string): void {
  engine.create(id, { preset: getPreset(preset), columns: ["temperature"] });
}

const feed = (engine: Engine, from: number, to: number, stream = "room") => {
  for (let i = from; i < to; i++) engine.observe(stream, T0 + i * STEP, [temperature(i)]);
};

/** The forecast of "room" from its newest reading. */
const forecastOf = (engine: Engine) => engine.get("room")!.forecast()!.targets.temperature;

Deno.test("the sampler keeps each reading with the forecast the engine made for it one step before", () => {
  const engine = engineWith();
  const recent = new RecentReadings();
  const sampler = new ReadingSampler(engine, recent);
  feed(engine, 0, 100);
  sampler.sample(); // the first look: the newest reading, no forecast seen for it
  const expected = [];
  for (let i = 100; i < 110; i++) {
    const f = forecastOf(engine);
    expected.push({
      ts: T0 + i * STEP,
      missed: 0,
      targets: {
        temperature: {
          value: temperature(i),
          point: f.point[0],
          lower: f.lower[0],
          upper: f.upper[0],
        },
      },
    });
    feed(engine, i, i + 1);
    sampler.sample();
    sampler.sample(); // nothing new: nothing kept
  }
  const kept = recent.list("room");
  assert.equal(kept.length, 11);
  assert.deepEqual(kept[0], {
    ts: T0 + 99 * STEP,
    missed: 0,
    targets: {
      temperature: { value: temperature(99), point: null, lower: null, upper: null },
    },
  });
  assert.deepEqual(kept.slice(1), expected);
  assert.ok(expected.every((e) => e.targets.temperature.lower !== null), "intervals calibrated");
});

Deno.test("readings between two looks are counted as missed; the next kept one has the forecast k steps ahead", () => {
  const engine = engineWith();
  const recent = new RecentReadings();
  const sampler = new ReadingSampler(engine, recent);
  feed(engine, 0, 100);
  sampler.sample();
  const f = forecastOf(engine);
  feed(engine, 100, 105);
  sampler.sample();
  const last = recent.list("room").at(-1)!;
  assert.equal(last.ts, T0 + 104 * STEP);
  assert.equal(last.missed, 4);
  assert.deepEqual(last.targets.temperature, {
    value: temperature(104),
    point: f.point[4],
    lower: f.lower[4],
    upper: f.upper[4],
  });
  // more readings than the forecast had steps: no forecast for it
  const horizons = engine.get("room")!.Hm;
  feed(engine, 105, 105 + horizons + 1);
  sampler.sample();
  const far = recent.list("room").at(-1)!;
  assert.equal(far.missed, horizons);
  assert.equal(far.targets.temperature.point, null);
});

Deno.test("a deleted stream, or one whose model was rebuilt, is forgotten", () => {
  const engine = engineWith("hall");
  const recent = new RecentReadings();
  const sampler = new ReadingSampler(engine, recent);
  feed(engine, 0, 20, "room");
  feed(engine, 0, 20, "hall");
  sampler.sample();
  assert.deepEqual(recent.streams().sort(), ["hall", "room"]);
  engine.delete("hall");
  // a rebuild, as the service does one: the model made again, its count from 0
  engine.delete("room");
  create(engine, "room", "pi-small");
  sampler.sample();
  assert.deepEqual(recent.streams(), [], "nothing kept of either");
  feed(engine, 20, 22, "room");
  sampler.sample();
  assert.deepEqual(recent.list("room").map((r) => [r.ts, r.missed]), [[T0 + 21 * STEP, 0]]);
});

/** A stream model stand-in whose forecast throws. */
function failingStream(message: () => string): SampledStream {
  let readings = 0;
  return {
    targets: ["t"],
    get readings() {
      return ++readings; // a new reading at every look
    },
    lastTs: 1,
    latest: () => 1,
    forecast: () => {
      throw new Error(message());
    },
  };
}

Deno.test("startReadingSampler() reports a failing look once per message, goes on, and stops on abort", async () => {
  let message = "broken";
  const errors: string[] = [];
  const stop = new AbortController();
  const source = { streams: new Map([["s", failingStream(() => message)]]) };
  startReadingSampler(source, new RecentReadings(), {
    everyMs: 5,
    signal: stop.signal,
    onError: (e) => errors.push((e as Error).message),
  });
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(errors, ["broken"], "one report for many failing looks");
  message = "broken otherwise";
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(errors, ["broken", "broken otherwise"]);
  stop.abort();
  message = "after the abort";
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(errors, ["broken", "broken otherwise"], "no look after the abort");
});

Deno.test("startReadingSampler() refuses a period that is not above 0, and does not start when already aborted", () => {
  const source = { streams: new Map<string, SampledStream>() };
  assert.throws(
    () => startReadingSampler(source, new RecentReadings(), { everyMs: 0, onError: () => {} }),
    { message: "Cannot start the reading sampler: everyMs must be above 0: current value is 0" },
  );
  let looked = false;
  const watched = {
    get streams() {
      looked = true;
      return new Map<string, SampledStream>();
    },
  };
  startReadingSampler(watched, new RecentReadings(), {
    signal: AbortSignal.abort(),
    onError: () => {},
  });
  assert.equal(looked, false);
});
