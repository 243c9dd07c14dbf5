/**
 * A checkpoint written by an earlier forecastd (tests/fixtures/checkpoint_v2,
 * made by tests/fixtures/make_checkpoint_fixture.ts at commit 7155047)
 * restores, and the restored stream takes the same next readings with the
 * same observations and ends with the same forecast and accuracy, to the bit.
 * Bit for bit needs the kernels that commit ran: the TypeScript ones (the
 * WebAssembly kernels round differently, see src/model/kernels.ts).
 *
 * Issue 11 changed what a stream does (the linear expert's ridge is held,
 * a shape detector and a drift detector join the residuals, alerts open at a
 * false-alarm budget), and so did the ninth round (one reading's pull on the
 * blend bounded from two steps ahead, `blend.pullBound`), and so did the tenth
 * (the weights from two steps ahead solved from moments pooled over
 * neighbouring horizons, `blend.poolSteps`), and so did the fifteenth (the
 * `hourly` and `quarter-hourly` presets train the LSTM at `model.lr` 0.001):
 * the streams here are built with the preset's settings of that time
 * (`beforeIssue11`), which reproduce it to the bit;
 * tests/stream/restore_issue11_test.ts restores the same checkpoints with
 * today's settings.
 */
import assert from "node:assert/strict";
import { getPreset, type Preset } from "../../src/stream/preset.ts";
import { Engine } from "../../src/stream/engine.ts";
import { kernelKind, useKernels } from "../../src/model/kernels.ts";

const DIR = new URL("../fixtures/checkpoint_v2/", import.meta.url);

interface Next {
  stream: { id: string; preset: string; columns: string[]; targets: string[]; periodMs: number };
  readings: { ts: number; values: number[] }[];
  observations: unknown[];
  forecast: unknown;
  stats: unknown;
}

const plain = (v: unknown) => JSON.parse(JSON.stringify(v));

/** A preset with the settings that reproduce forecastd before issue 11. */
function beforeIssue11(p: Preset): Preset {
  return {
    ...p,
    model: { ...p.model, lr: 3e-3 },
    linear: { ...p.linear, holdRidge: false, ridgePerStep: 0 },
    blend: { ...p.blend, pullBound: 0, poolSteps: 0 },
    anomaly: {
      ...p.anomaly,
      shape: { ...p.anomaly.shape, window: 0 },
      drift: { ...p.anomaly.drift, hours: 0 },
      falseAlertsPerWeek: 0,
    },
  };
}

for (const name of ["room", "plant"]) {
  Deno.test(`a ${name} checkpoint of commit 7155047 restores and continues bit for bit`, async () => {
    const next: Next = JSON.parse(await Deno.readTextFile(new URL(`${name}.next.json`, DIR)));
    const bytes = await Deno.readFile(new URL(`${name}.state.bin`, DIR));
    const kind = kernelKind();
    useKernels("ts");
    const engine = new Engine();
    const s = next.stream;
    const stream = engine.create(s.id, {
      preset: beforeIssue11(getPreset(s.preset)),
      columns: s.columns,
      targets: s.targets,
      periodMs: s.periodMs,
    });
    useKernels(kind);
    stream.restore(bytes);
    assert.equal(next.observations.length, next.readings.length);
    next.readings.forEach((r, k) => {
      // fields added since the fixture was made: nothing recovered
      const { recovered, periodWarning, ...obs } = plain(engine.observe(s.id, r.ts, r.values));
      assert.equal(recovered, null, `reading ${k}: nothing to recover`);
      assert.equal(periodWarning, null, `reading ${k}: no warning`);
      assert.deepEqual(obs, next.observations[k], `observation of reading ${k} after the restore`);
    });
    const forecast = plain(stream.forecast());
    for (
      const t of Object.values(forecast.targets) as { lower: unknown[]; interval?: string[] }[]
    ) {
      assert.deepEqual(
        t.interval,
        t.lower.map((v) => v === null ? "not_calibrated" : "calibrated"),
      );
      delete t.interval;
    }
    assert.deepEqual(forecast, next.forecast, "the forecast after the last reading");
    assert.deepEqual(plain(stream.stats()), next.stats, "the accuracy per horizon");
  });
}
