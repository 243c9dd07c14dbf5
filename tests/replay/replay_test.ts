import assert from "node:assert/strict";
import { parseCsv, readCsv, type SensorTable } from "../../src/replay/csv.ts";
import { columnScale, fsnetSplit, onlineSplit, type Split } from "../../src/replay/protocol.ts";
import { replay } from "../../src/replay/replay.ts";
import { getPreset, type Preset } from "../../src/stream/preset.ts";
import type { ReadingError } from "../../src/stream/stream.ts";

const FIXTURE = new URL("../fixtures/replay_small.csv", import.meta.url);

function preset(horizons: number, lstm = true): Preset {
  const p = getPreset("default");
  return { ...p, horizons, model: { ...p.model, hidden: 8, window: 8, enabled: lstm } };
}

/**
 * The oracle: MSE of persistence at horizon H, z-scored, computed directly
 * from the rows the engine accepts (idx), origins from file row firstTarget-1
 * whose H steps lie within the rows.
 */
function persistenceMse(t: SensorTable, split: Split, idx: number[], H: number): number {
  const C = t.columns.length;
  const { std } = columnScale(t.values, C, split.scaleRows);
  let sum = 0, n = 0;
  for (let a = 0; a + H < idx.length; a++) {
    const o = idx[a];
    if (o < split.firstTarget - 1) continue;
    for (let h = 1; h <= H; h++) {
      for (let c = 0; c < C; c++) {
        sum += ((t.values[idx[a + h] * C + c] - t.values[o * C + c]) / std[c]) ** 2;
        n++;
      }
    }
  }
  return sum / n;
}

Deno.test("replay() under fsnet scores persistence exactly as computed from the rows, origins from 25%", async () => {
  const t = await readCsv(FIXTURE.pathname);
  const split = fsnetSplit(t.rows);
  const r = replay(t, { preset: preset(12), horizons: [1, 6, 12], split });
  const all = Array.from({ length: t.rows }, (_, i) => i);
  assert.equal(r.readings, 600);
  assert.deepEqual(r.horizons.map((h) => h.origins), [450, 445, 439]);
  for (const h of r.horizons) {
    const want = persistenceMse(t, split, all, h.horizon);
    assert.ok(
      Math.abs(h.experts.persistence - want) < 1e-12 * want,
      `H=${h.horizon}: persistence ${h.experts.persistence}, computed ${want}`,
    );
    assert.deepEqual(Object.keys(h.experts), [
      "persistence",
      "seasonal",
      "linear",
      "lstm",
      "blend",
    ]);
    assert.equal(h.mse, h.experts.blend);
    assert.ok(Number.isFinite(h.mse) && h.mse > 0, `H=${h.horizon}: mse ${h.mse}`);
    assert.ok(h.mae > 0 && h.mae < Math.sqrt(h.mse) + 1e-12, `MAE ${h.mae} <= RMSE`);
    assert.ok(h.coverage !== null && h.coverage >= 0 && h.coverage <= 1, `${h.coverage}`);
    assert.ok(h.coverageAtH !== null && h.coverageAtH >= 0 && h.coverageAtH <= 1);
  }
});

Deno.test("replay() skips rejected rows as steps, reports them per row and counts them by reason", async () => {
  const base = await Deno.readTextFile(FIXTURE);
  const lines = base.trimEnd().split("\n");
  // a duplicate of row 99 after it, and a row from the past after row 199 (file rows 100 and 201)
  lines.splice(101, 0, lines[100].replace(/,[^,]*,/, ",99,"));
  lines.splice(202, 0, lines[5]);
  const t = parseCsv(lines.join("\n"));
  assert.equal(t.rows, 602);
  const split = onlineSplit(t.rows);
  const seen: [number, string | null][] = [];
  const r = replay(t, {
    preset: preset(4, false),
    horizons: [1, 4],
    split,
    onRow: (row, obs, err: ReadingError | null) => {
      assert.equal(obs === null, err !== null, `row ${row}: one of obs and error`);
      seen.push([row, err?.reason ?? null]);
    },
  });
  assert.deepEqual(seen.map(([row]) => row), Array.from({ length: 602 }, (_, i) => i));
  assert.deepEqual(seen.filter(([, why]) => why !== null), [[100, "duplicate"], [
    201,
    "out_of_order",
  ]]);
  assert.deepEqual(r.rejected, { duplicate: 1, out_of_order: 1 });
  assert.equal(r.readings, 600);
  const accepted = Array.from({ length: 602 }, (_, i) => i).filter((i) => i !== 100 && i !== 201);
  for (const h of r.horizons) {
    const want = persistenceMse(t, split, accepted, h.horizon);
    assert.ok(Math.abs(h.experts.persistence - want) < 1e-12 * want, `H=${h.horizon}`);
    assert.equal(h.origins, 600 - h.horizon);
  }
  assert.deepEqual(Object.keys(r.horizons[0].experts), [
    "persistence",
    "seasonal",
    "linear",
    "blend",
  ]);
});

Deno.test("replay() refuses a reported horizon beyond the stream's Hmax", async () => {
  const t = await readCsv(FIXTURE.pathname);
  assert.throws(
    () => replay(t, { preset: preset(6, false), horizons: [1, 12], split: onlineSplit(t.rows) }),
    /every reported horizon must be an integer in 1\.\.6 \(the stream's Hmax\): current value is 12/,
  );
});

Deno.test("replay() with 2 warm-up passes learns the warm-up rows twice and scores exactly the same origins", async () => {
  const t = await readCsv(FIXTURE.pathname);
  const split = fsnetSplit(t.rows);
  const opts = { preset: preset(12), horizons: [1, 6, 12], split };
  const byDefault = replay(t, opts);
  const one = replay(t, { ...opts, warmupPasses: 1 });
  const rows: number[] = [];
  const progress: [number, number][] = [];
  const two = replay(t, {
    ...opts,
    warmupPasses: 2,
    onRow: (row) => rows.push(row),
    onProgress: (done, total) => progress.push([done, total]),
  });
  assert.deepEqual(one.horizons, byDefault.horizons, "1 pass is the default");
  assert.equal(one.readings, 600);
  assert.equal(two.readings, 600 + split.warmupRows, "the warm-up rows were fed twice");
  assert.ok(two.learned > one.learned, `learned ${two.learned} vs ${one.learned}`);
  assert.equal(two.gaps, 0, "a rewind is not a gap");
  assert.deepEqual(rows, Array.from({ length: 600 }, (_, i) => i), "onRow: the last pass's rows");
  assert.deepEqual(progress.at(-1), [750, 750], "progress counts every row fed");
  assert.deepEqual(two.horizons.map((h) => h.horizon), [1, 6, 12]);
  for (const [k, h] of two.horizons.entries()) {
    const h1 = one.horizons[k];
    assert.equal(h.origins, h1.origins, `H=${h.horizon}: the same origins`);
    // persistence learns nothing: the same origins give exactly the same error
    assert.equal(h.experts.persistence, h1.experts.persistence, `H=${h.horizon}`);
    assert.notEqual(h.experts.lstm, h1.experts.lstm, `H=${h.horizon}: the LSTM learned more`);
    assert.notEqual(h.mse, h1.mse, `H=${h.horizon}: the blend differs`);
    assert.ok(Number.isFinite(h.mse) && h.mse > 0);
  }
});

Deno.test("replay() refuses warm-up passes below 1, fractional, or above 1 without warm-up rows", async () => {
  const t = await readCsv(FIXTURE.pathname);
  const opts = { preset: preset(4, false), horizons: [1], split: fsnetSplit(t.rows) };
  assert.throws(
    () => replay(t, { ...opts, warmupPasses: 0 }),
    /the warm-up passes must be an integer of at least 1: current value is 0/,
  );
  assert.throws(
    () => replay(t, { ...opts, warmupPasses: 1.5 }),
    /the warm-up passes must be an integer of at least 1: current value is 1\.5/,
  );
  assert.throws(
    () => replay(t, { ...opts, split: onlineSplit(t.rows), warmupPasses: 2 }),
    /more than one warm-up pass needs warm-up rows \(this split has none\): current value is 2/,
  );
});
