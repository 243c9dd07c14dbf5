/**
 * bench/global_series.ts: the series of a /metrics page that are not per
 * stream, as every line of it parsed whole would give them.
 */
import assert from "node:assert/strict";
import { everySeries, globalSeries } from "../../bench/global_series.ts";

Deno.test("globalSeries() keeps every series but the per-stream ones, as a whole parse would", () => {
  const text = [
    "# HELP forecastd_readings_total Readings taken, by source",
    "# TYPE forecastd_readings_total counter",
    'forecastd_readings_total{source="mqtt"} 1210000',
    'forecastd_readings_total{source="http"} 0',
    "forecastd_observed_readings_total 1209990",
    'forecastd_rejected_readings_total{reason="bad_value",source="mqtt"} 3',
    'forecastd_forecast_mae{stream="s0",horizon="1"} 0.25',
    'forecastd_forecast_mae{stream="a b\\"c{stream=\\"x\\"} 9",horizon="6"} NaN',
    'forecastd_forecast_coverage{stream="s1",horizon="1"} 0.9',
    "forecastd_training_shed_total 505",
    'forecastd_build_info{version="1.0"} 1',
    "forecastd_heap_used_bytes 1.5e+08",
  ].join("\n");
  const whole = everySeries(text);
  const kept = globalSeries(text);
  const expected = new Map([...whole].filter(([k]) => !k.includes('{stream="')));
  assert.deepEqual(kept, expected);
  assert.equal(kept.size, 7);
  assert.equal(kept.get('forecastd_readings_total{source="mqtt"}'), 1210000);
  assert.equal(kept.get("forecastd_heap_used_bytes"), 1.5e8);
  assert.deepEqual(globalSeries(""), new Map());
  assert.deepEqual(globalSeries(text + "\n"), kept);
});
