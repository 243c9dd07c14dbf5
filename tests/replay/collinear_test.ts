/**
 * The replay check of tests/fixtures/collinear_hourly.csv (made by
 * tests/fixtures/make_collinear.ts): an hourly station whose columns include
 * an exact duplicate, an exact affine function of another, a constant and one
 * that switches scale. Under the fsnet protocol (every row; the first 20% the
 * scale, 25% the warm-up) the linear expert must stay finite and no worse
 * than persistence at every horizon, the blend no worse than either, and the
 * 90% intervals must cover 88-92%.
 */
import assert from "node:assert/strict";
import { readCsv } from "../../src/replay/csv.ts";
import { type ReplayArgs, streamPreset } from "../../src/replay/cli.ts";
import { parseReplayArgs } from "../../src/cli/replay.ts";
import { fsnetSplit } from "../../src/replay/protocol.ts";
import { replay } from "../../src/replay/replay.ts";

const FILE = decodeURIComponent(
  new URL("../fixtures/collinear_hourly.csv", import.meta.url).pathname,
);

Deno.test("fsnet replay of the collinear fixture: linear no worse than persistence, blend no worse than either", async () => {
  const a = parseReplayArgs([
    FILE,
    ...["--protocol", "fsnet", "--rows", "all", "--preset", "hourly", "--horizons", "1,24,48"],
    ...["--without", "lstm"],
  ]) as ReplayArgs;
  const table = await readCsv(FILE);
  assert.equal(table.rows, 4800);
  assert.equal(table.columns.length, 8);
  const r = replay(table, {
    preset: streamPreset(a),
    horizons: a.horizons,
    split: fsnetSplit(table.rows),
  });
  for (const h of r.horizons) {
    const { linear, persistence, blend } = h.experts;
    const at = `H=${h.horizon}: ${JSON.stringify(h.experts)}`;
    assert.ok(Object.values(h.experts).every(Number.isFinite), at);
    assert.ok(linear <= persistence, `linear above persistence at ${at}`);
    assert.ok(blend <= linear && blend <= persistence, `blend above an expert at ${at}`);
    assert.ok(h.coverage! >= 0.88 && h.coverage! <= 0.92, `coverage ${h.coverage} at ${at}`);
  }
});

Deno.test("fsnet replay of the collinear fixture: the LSTM improves the blend at every horizon", async () => {
  const table = await readCsv(FILE);
  const run = (without: string[]) => {
    const a = parseReplayArgs([
      FILE,
      ...["--protocol", "fsnet", "--rows", "all", "--preset", "hourly", "--horizons", "1,24,48"],
      ...without,
    ]) as ReplayArgs;
    return replay(table, {
      preset: streamPreset(a),
      horizons: a.horizons,
      split: fsnetSplit(table.rows),
    }).horizons;
  };
  const withLstm = run([]), without = run(["--without", "lstm"]);
  for (const [i, h] of withLstm.entries()) {
    assert.ok(
      h.mse < without[i].mse,
      `H=${h.horizon}: the blend with the LSTM ${h.mse} is not below the blend without it ${
        without[i].mse
      }`,
    );
  }
});
