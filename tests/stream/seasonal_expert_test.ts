import assert from "node:assert/strict";
import { StreamModel } from "../../src/stream/stream.ts";
import { FIVE_MIN, small, T0 } from "./_series.ts";

Deno.test("seasonal persistence forecasts the value one season before the target time", () => {
  // an hour's season at 5 minutes: 12 readings; 30 horizons cross two season boundaries
  const preset = small({ seasonSeconds: 3600, horizons: 30 });
  const s = new StreamModel({ id: "s", preset, columns: ["v"] });
  const x = (t: number) => (t * 7919) % 101; // no two readings of a season alike
  for (let t = 0; t < 40; t++) {
    s.observe(T0 + t * FIVE_MIN, [x(t)]);
    const f = s.expertForecast("seasonal")!;
    if (t < 11) {
      assert.ok(f.every((r) => r[0] === x(t)), `t=${t}: persistence before a whole season`);
      continue;
    }
    assert.equal(s.season, 12);
    for (let h = 1; h <= 30; h++) {
      const back = t + h - 12 * Math.ceil(h / 12);
      assert.equal(f[h - 1][0], x(back), `t=${t} h=${h}`);
    }
  }
});

Deno.test("seasonal persistence stays out of the blend when the preset's seasonSeconds is 0", () => {
  const s = new StreamModel({ id: "s", preset: small({ seasonSeconds: 0 }), columns: ["v"] });
  const e = s.expertNames.indexOf("seasonal");
  for (let t = 0; t < 400; t++) {
    s.observe(T0 + t * FIVE_MIN, [Math.sin(t / 9)]);
    assert.equal(s.origins.active[s.step % s.origins.S] & (1 << e), 0, `t=${t}`);
  }
  assert.equal(s.season, 0);
  assert.equal(s.history.capacity, s.preset.linear.lags, "no season to keep");
});
