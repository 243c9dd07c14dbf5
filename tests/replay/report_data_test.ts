import assert from "node:assert/strict";
import { readCsv } from "../../src/replay/csv.ts";
import { columnScale, fsnetSplit } from "../../src/replay/protocol.ts";
import { replay } from "../../src/replay/replay.ts";
import { ReportCollector } from "../../src/replay/report_data.ts";
import { getPreset, type Preset } from "../../src/stream/preset.ts";

const FIXTURE = new URL("../fixtures/replay_small.csv", import.meta.url);

function preset(horizons: number): Preset {
  const p = getPreset("default");
  return { ...p, horizons, model: { ...p.model, hidden: 8, window: 8 } };
}

/** The fixture replayed under fsnet with a collector; both results. */
async function collect() {
  const t = await readCsv(FIXTURE.pathname);
  const split = fsnetSplit(t.rows);
  const c = new ReportCollector(t, { split, targets: t.columns, hmax: 12 });
  const r = replay(t, {
    preset: preset(12),
    horizons: [1, 6, 12],
    split,
    onRow: c.row,
    onForecast: c.forecast,
  });
  return { t, split, c, r };
}

Deno.test("the report's step errors are the replay's, scored a second time: step 1's MSE, step H's coverage and counts", async () => {
  const { t, c, r } = await collect();
  const steps = c.steps();
  assert.deepEqual(steps.map((s) => s.step), Array.from({ length: 12 }, (_, k) => k + 1));
  const J = t.columns.length;
  const one = r.horizons[0];
  assert.equal(steps[0].n, one.origins * J);
  for (const [e, mse] of Object.entries(one.experts)) {
    const got = steps[0].mse[e]!;
    assert.ok(Math.abs(got - mse) <= 1e-12 * mse, `${e}: step 1 ${got}, replay H=1 ${mse}`);
  }
  assert.ok(Math.abs(steps[0].mae! - one.mae) <= 1e-12 * one.mae);
  for (const h of r.horizons) {
    const s = steps[h.horizon - 1];
    assert.equal(s.n, h.origins * J, `values scored at step ${h.horizon}`);
    assert.equal(s.coverage, h.coverageAtH, `coverage at step ${h.horizon}`);
  }
  // errors grow with the step on this fixture, for the blend
  assert.ok(steps[11].mse.blend! > steps[0].mse.blend!, JSON.stringify(steps.map((s) => s.mse)));
});

Deno.test("the report's series hold every accepted reading with the one-step forecast made for it", async () => {
  const { t, split, c, r } = await collect();
  const j = c.json({} as never, { by: "test", at: "" });
  assert.deepEqual(j.series.map((s) => s.target), t.columns);
  const s = j.series[0];
  assert.equal(s.ts.length, r.readings);
  assert.deepEqual(s.ts.slice(0, 2), [t.ts[0], t.ts[1]]);
  assert.equal(s.value[3], t.values[3 * t.columns.length]);
  // forecasts are scored from the last warm-up row on: a point for every row after it
  const first = s.point.findIndex((p) => p !== null);
  assert.equal(first, split.firstTarget);
  assert.ok(s.point.slice(first).every((p) => p !== null && Number.isFinite(p)));
  const withBand = s.lower.filter((l, i) => l !== null && s.upper[i] !== null).length;
  assert.ok(withBand > 400, `the interval is there once calibrated: ${withBand} rows`);
  // the one-step errors of the series are step 1's (its forecasts kept to 6 digits)
  const { std } = columnScale(t.values, t.columns.length, split.scaleRows);
  let sq = 0, n = 0;
  for (const [c, series] of j.series.entries()) {
    for (let i = first; i < series.ts.length; i++) {
      sq += ((series.value[i] - series.point[i]!) / std[c]) ** 2;
      n++;
    }
  }
  assert.equal(n, j.steps[0].n);
  const mse = j.steps[0].mse.blend!;
  assert.ok(Math.abs(sq / n - mse) < 1e-4 * mse, `series ${sq / n}, step 1 ${mse}`);
  assert.equal(j.alerts.length, r.alerts);
  for (const a of j.alerts) {
    assert.equal(a.ts, t.ts[a.row]);
    assert.equal(a.line, t.lines[a.row]);
    assert.match(a.id, /^\d{16}$/);
    assert.doesNotMatch(a.message, /^replay: /, "the engine's stream name is left out");
  }
});
