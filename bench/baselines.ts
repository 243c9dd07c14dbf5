/**
 * The simple online baselines of ../shared/data/README.md, written plainly
 * and independently of the engine, for any CSV under the same protocol, so a
 * file that is not ETT gets the same bar (not part of the test suite):
 *
 *   deno run --allow-read bench/baselines.ts --file=../shared/data/ett/ETTh2.csv \
 *     [--rows=14400|all] [--horizons=1,24,48] [--eta=...]
 *
 * Protocol (fsnet, leak-free at every horizon): the first `rows` rows; each
 * column z-scored with the mean and population std of rows [0, 20%), fixed;
 * one online pass from the first row: at every origin forecast steps 1..Hmax
 * of every column, then learn from what has arrived (the h-step models learn
 * at origin t from the features of t - h and the change to t); origins from
 * the last row before 25% on are scored while their steps all lie in the
 * rows, MSE over origins × steps 1..H × columns (as `deno task replay
 * --protocol fsnet` scores the engine). Models:
 *
 * - persistence: the last value;
 * - seasonal persistence: the value one season (a day of readings) before the
 *   target time;
 * - RLS + calendar: one direct model per horizon step predicting the change
 *   from the last value, from the last 4 rows of every column (z-scored) and
 *   hour-of-day and day-of-week sin/cos, plus 1; forgetting 0.999, ridge 1,
 *   plain (the ridge fades with forgetting);
 * - RLS held: the same with the ridge held at 1 (src/stream/rls.ts with
 *   `holdRidge`), the regularised online least squares issue 11 asks for.
 *
 * The README's exponentiated-gradient blends are not here: a plain EG on the
 * mixture's squared error (one weight vector per step and column) scored
 * 0.56-0.91 on ETTh2 at H = 1 over learning rates from 0.01 to 1000, far
 * from the README's 0.364, so without the README's exact update it would be
 * a bar of this script's making, not the README's.
 *
 * One `RESULT {json}` line with the MSE of each model per horizon; a table on
 * stderr. The README's figures were measured by another implementation; this
 * one reproduces its persistence figures exactly and the others closely (see
 * BENCHMARKS.md, "A linear expert that cannot wind up").
 */
import { readCsv } from "../src/replay/csv.ts";
import { columnScale, fsnetSplit } from "../src/replay/protocol.ts";
import { CALENDAR_FEATURES, calendarFeatures } from "../src/stream/calendar.ts";
import { Rls } from "../src/stream/rls.ts";
import { exitOnFlagError, FlagError, integerList, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";

const flags = exitOnFlagError(() => {
  const f = parseFlags(Deno.args, {
    file: text("a CSV file"),
    rows: text("an integer >= 8 or all", "14400"),
    horizons: integerList([1, 24, 48], 1, 512),
  }, "Cannot run baselines");
  const rows = f.rows === "all" ? Infinity : Number(f.rows);
  if (!(rows === Infinity || (Number.isInteger(rows) && rows >= 8))) {
    throw new FlagError(
      `Cannot run baselines: --rows must be an integer >= 8 or all: current value is "${f.rows}"`,
    );
  }
  return { ...f, rows };
});

const table = await readCsv(flags.file, {
  maxRows: Number.isFinite(flags.rows) ? flags.rows : undefined,
});
const N = table.rows, C = table.columns.length;
const split = fsnetSplit(N);
const { mean, std } = columnScale(table.values, C, split.scaleRows);
/** z (N, C): the z-scored table. */
const z = new Float64Array(N * C);
for (let r = 0; r < N; r++) {
  for (let c = 0; c < C; c++) z[r * C + c] = (table.values[r * C + c] - mean[c]) / std[c];
}
const period = table.ts[1] - table.ts[0];
const season = Math.round(86_400_000 / period);
const Hm = Math.max(...flags.horizons);
const LAGS = 4;
const d = LAGS * C + CALENDAR_FEATURES + 1;

/** The models, in report order; the blends come after the experts they mix. */
const NAMES = ["persistence", "seasonal", "rls", "rlsHeld"] as const;
const M = NAMES.length;
const PERS = 0, SEAS = 1, RLS = 2, HELD = 3;

const plain = Array.from({ length: Hm }, () => new Rls(d, C, 0.999, 1));
const held = Array.from({ length: Hm }, () => new Rls(d, C, 0.999, 1, { holdRidge: true }));

/** Features of origin t for the h-step model: lags of every column, the target time's calendar, 1. */
function features(t: number, h: number, out: Float64Array): boolean {
  if (t < LAGS - 1) return false;
  let k = 0;
  for (let l = 0; l < LAGS; l++) for (let c = 0; c < C; c++) out[k++] = z[(t - l) * C + c];
  calendarFeatures(table.ts[t] + h * period, 0, out, k);
  out[k + CALENDAR_FEATURES] = 1;
  return true;
}

/** Forecasts of the newest origin, (Hm, C, M) z values. */
const pred = new Float64Array(Hm * C * M);
/** The forecasts of the last Hm + 1 origins, (Hm + 1, Hm, C, M). */
const ring = new Float64Array((Hm + 1) * Hm * C * M);
const phi = new Float64Array(d), y = new Float64Array(C), tmp = new Float64Array(C);
/** Squared errors (reported H, M). */
const sq = new Float64Array(flags.horizons.length * M);

function forecast(t: number): void {
  for (let h = 1; h <= Hm; h++) {
    const have = features(t, h, phi);
    const base = (h - 1) * C * M;
    for (let c = 0; c < C; c++) {
      const x = z[t * C + c];
      const o = base + c * M;
      pred[o + PERS] = x;
      const back = t + h - season * Math.ceil(h / season);
      pred[o + SEAS] = back >= 0 ? z[back * C + c] : x;
    }
    for (const [m, models] of [[RLS, plain], [HELD, held]] as const) {
      if (have) models[h - 1].predict(phi, 0, tmp, 0);
      for (let c = 0; c < C; c++) pred[base + c * M + m] = z[t * C + c] + (have ? tmp[c] : 0);
    }
  }
}

function learn(t: number): void {
  // the h-step models learn from origin t - h, whose target is row t
  for (let h = 1; h <= Hm && h <= t; h++) {
    const o = t - h;
    if (features(o, h, phi)) {
      for (let c = 0; c < C; c++) y[c] = z[t * C + c] - z[o * C + c];
      plain[h - 1].update(phi, 0, y, 0);
      held[h - 1].update(phi, 0, y, 0);
    }
  }
}

const firstOrigin = split.firstTarget - 1;
const R = flags.horizons.length;
for (let t = 0; t < N; t++) {
  // score the step of every pending origin that row t is the target of
  for (let h = 1; h <= Hm && h <= t; h++) {
    const o = t - h;
    if (o < firstOrigin) continue;
    const p = ring.subarray((o % (Hm + 1)) * Hm * C * M);
    for (let k = 0; k < R; k++) {
      const H = flags.horizons[k];
      if (h > H || o + H > N - 1) continue;
      for (let c = 0; c < C; c++) {
        for (let m = 0; m < M; m++) {
          const e = p[((h - 1) * C + c) * M + m] - z[t * C + c];
          sq[k * M + m] += e * e;
        }
      }
    }
  }
  learn(t);
  forecast(t);
  ring.set(pred, (t % (Hm + 1)) * Hm * C * M);
}

const mse: Record<string, Record<string, number>> = {};
flags.horizons.forEach((H, k) => {
  const origins = Math.max(0, N - 1 - H - firstOrigin + 1);
  mse[H] = {};
  NAMES.forEach((name, m) => (mse[H][name] = sq[k * M + m] / (origins * H * C)));
});
emitResult({ bench: "baselines", file: flags.file, rows: N, columns: C, season, mse });
console.error(
  `${flags.file}: ${N} rows x ${C} columns, season ${season} rows, MSE of z-scored values`,
);
console.error(["H", ...NAMES].map((t) => t.padStart(12)).join(""));
for (const H of flags.horizons) {
  console.error(
    [String(H), ...NAMES.map((n) => mse[H][n].toFixed(4))].map((t) => t.padStart(12)).join(""),
  );
}
