/**
 * What reading forecastd's counters out of a /metrics page of `streams`
 * streams costs the bench that reads them (not part of the test suite): the
 * whole page split into lines and every series kept, as bench/scale.ts did
 * before the tenth round, against bench/global_series.ts, which skips the
 * per-stream series; ms each, `rounds` times alternated, on a page made like
 * the daemon's (three per-stream families of 4 horizons: 120,000 series at
 * 10,000 streams).
 *
 *   deno run --allow-run=cat bench/metrics_parse.ts [--streams=10000] [--rounds=6]
 *
 * One `RESULT {json}` line on stdout.
 */
import { exitOnFlagError, integer, parseFlags } from "./args.ts";
import { everySeries, globalSeries } from "./global_series.ts";
import { loadavg } from "./proc_stats.ts";
import { emitResult, median } from "./stats.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, { streams: integer(10000), rounds: integer(6) }, "Cannot parse flags")
);

const lines = [
  'forecastd_readings_total{source="mqtt"} 1210000',
  "forecastd_observed_readings_total 1209990",
];
for (
  const m of ["forecastd_forecast_mae", "forecastd_forecast_rmse", "forecastd_forecast_coverage"]
) {
  lines.push(`# HELP ${m} per stream`, `# TYPE ${m} gauge`);
  for (let k = 0; k < f.streams; k++) {
    for (const h of [1, 6, 12, 24]) lines.push(`${m}{stream="s${k}",horizon="${h}"} ${k / 7 + h}`);
  }
}
lines.push("forecastd_training_shed_total 505");
const text = lines.join("\n") + "\n";

const ms: Record<"everySeries" | "globalSeries", number[]> = { everySeries: [], globalSeries: [] };
for (let r = 0; r < f.rounds; r++) {
  for (
    const [name, parse] of [["everySeries", everySeries], ["globalSeries", globalSeries]] as const
  ) {
    const t0 = performance.now();
    const m = parse(text);
    ms[name].push(Math.round(performance.now() - t0));
    if (m.get("forecastd_training_shed_total") !== 505) throw new Error(`${name} lost a counter`);
  }
}
emitResult({
  streams: f.streams,
  bytes: text.length,
  ms,
  medianMs: { everySeries: median(ms.everySeries), globalSeries: median(ms.globalSeries) },
  loadavg1: loadavg(),
});
