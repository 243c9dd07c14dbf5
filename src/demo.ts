/**
 * The built-in demo: a simulated room-temperature sensor
 * (src/model/room_temperature.ts), learned online by the same numeric core
 * the daemon uses, with its live forecast error printed as it goes, next to
 * the persistence forecast an operator already has.
 *
 * Per reading, in this order: score the forecast made for it, learn from it
 * (TBPTT over the rolling window), forecast the next reading.
 */
import { Network } from "./model/network.ts";
import { Normalizer } from "./model/normalize.ts";
import { OnlineTrainer } from "./model/tbptt.ts";
import { roomTemperature } from "./model/room_temperature.ts";

/** The demo's settings. */
export interface DemoOptions {
  /** Readings to simulate. Default 6000 (about 3 weeks at one reading per 5 minutes). */
  readings?: number;
  /** Hidden units. Default 32. */
  hidden?: number;
  /** TBPTT window (k2). Default 32. */
  window?: number;
  /** Seed of the sensor and of the model. Default 1. */
  seed?: number;
  /** Print a progress line every this many readings. Default 1000. */
  every?: number;
  /** Steps of the final forecast. Default 12 (one hour). */
  horizon?: number;
}

/** What the demo measured over its last reporting interval. */
export interface DemoSummary {
  readings: number;
  /** One-step MSE of the LSTM over the last interval, in °C². */
  lstmMse: number;
  /** One-step MSE of persistence (the last value) over the same readings. */
  persistenceMse: number;
  /** The final multi-step forecast, in °C. */
  forecast: number[];
  readingsPerSecond: number;
}

/** Runs the demo, writing human-readable lines through `print`. */
export function runDemo(opts: DemoOptions, print: (line: string) => void): DemoSummary {
  const readings = opts.readings ?? 6000;
  const H = opts.hidden ?? 32;
  const T = opts.window ?? 32;
  const seed = opts.seed ?? 1;
  const every = opts.every ?? 1000;
  const horizon = opts.horizon ?? 12;
  const sensor = roomTemperature(seed);
  // The network sees the normalised level and last change, and predicts the
  // next change: an untrained model forecasts "no change" (persistence), so it
  // starts as good as the operator's simple forecast and learns from there.
  const net = new Network({ inputs: 2, hidden: H, layers: 1, outputs: 1, window: T, seed });
  const trainer = new OnlineTrainer(net, { lr: 3e-3, clipNorm: 1 });
  const level = new Normalizer(1, { forgetting: 0.9995 });
  const change = new Normalizer(1, { forgetting: 0.9995 });
  const input = new Float32Array(2), y = new Float32Array(1);
  const target = [0], one = [0];

  print(
    `forecastd demo: learning a simulated room-temperature sensor online (LSTM H=${H}, window ${T}, one reading per 5 min)`,
  );
  let forecast = NaN, prev = NaN;
  let sq = 0, sqPersist = 0, n = 0;
  let summary: DemoSummary | undefined;
  let t0 = performance.now(), since = 0;
  for (let t = 0; t < readings; t++) {
    const x = sensor(t);
    // 1. score the forecast made for this reading
    if (Number.isFinite(forecast)) {
      sq += (x - forecast) ** 2;
      sqPersist += (x - prev) ** 2;
      n++;
    }
    // 2. learn: the last input should have predicted this change
    one[0] = x;
    level.update(one);
    if (Number.isFinite(prev)) {
      one[0] = x - prev;
      change.update(one);
      target[0] = (x - prev - change.moments[0]) / change.scale(0);
      if (t > 1) trainer.push(input, target);
      input[1] = target[0];
    }
    input[0] = (x - level.moments[0]) / level.scale(0);
    // 3. forecast the next reading from the live state
    net.step(input, 0, y, 0);
    forecast = x + change.denormalize(0, y[0]);
    prev = x;
    since++;
    if ((t + 1) % every === 0 || t + 1 === readings) {
      const seconds = (performance.now() - t0) / 1000;
      const day = Math.floor((t + 1) / 288);
      summary = {
        readings: t + 1,
        lstmMse: sq / n,
        persistenceMse: sqPersist / n,
        forecast: [],
        readingsPerSecond: since / seconds,
      };
      const skill = 1 - summary.lstmMse / summary.persistenceMse;
      print(
        `day ${String(day).padStart(2)}  reading ${String(t + 1).padStart(6)}  ` +
          `LSTM MSE ${summary.lstmMse.toFixed(4)} °C²  persistence ${
            summary.persistenceMse.toFixed(4)
          } °C²  skill ${(100 * skill).toFixed(0).padStart(4)}%  ` +
          `(${Math.round(summary.readingsPerSecond)} readings/s learned)`,
      );
      sq = sqPersist = n = 0;
      since = 0;
      t0 = performance.now();
    }
  }
  // the next `horizon` readings: feed each forecast back as the next input,
  // from a copy of the live state
  const h = Float32Array.from(net.h), c = Float32Array.from(net.c);
  const path: number[] = [];
  let value = forecast;
  for (let k = 0; k < horizon; k++) {
    path.push(value);
    input[1] = (value - prev - change.moments[0]) / change.scale(0);
    input[0] = (value - level.moments[0]) / level.scale(0);
    prev = value;
    net.stepFrom(h, c, input, 0, y, 0);
    value += change.denormalize(0, y[0]);
  }
  summary!.forecast = path;
  print(
    `next ${horizon} readings (${horizon * 5} min): ` +
      path.map((v) => v.toFixed(2)).join(" ") + " °C",
  );
  return summary!;
}
