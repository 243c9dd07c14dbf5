import assert from "node:assert/strict";
import {
  fromHorizonColumns,
  mergeHorizonColumns,
  toHorizonColumns,
} from "../../src/shard/horizon_columns.ts";
import type { StreamHorizonStats } from "../../src/service/application.ts";

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
