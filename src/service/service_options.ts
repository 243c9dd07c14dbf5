/**
 * The service's settings: what each one does, its default, and the check
 * that refuses a bad value before anything starts.
 */
import { MAX_NAME_LENGTH, MAX_VALUES_DEFAULT, MAX_VALUES_LIMIT } from "../domain/reading.ts";
import { showValue } from "../domain/show_value.ts";
import { VALUE_BOUNDS_DEFAULTS } from "../stream/value_bounds.ts";
import { RECENT_CAPACITY } from "./recent_readings.ts";
import { WARM_UP_DEFAULTS } from "./warm_up.ts";

/** The service's settings; every field has the default it names. */
export interface ServiceOptions {
  /** Most streams at once: a new stream beyond it is refused. Default 1000. */
  maxStreams?: number;
  /** Preset of a stream created without one. Default "default". */
  defaultPreset?: string;
  /**
   * The false-alarm budget of every stream (false alerts per stream per
   * week, 0: none, alerts at the preset's fixed threshold), in place of its
   * preset's `anomaly.falseAlertsPerWeek`; null keeps the preset's. Default null.
   */
  falseAlertsPerWeek?: number | null;
  /**
   * The crash-loss bound: at most this many readings of a stream are not in
   * its saved checkpoint (a save starts at half of it). Default 500.
   */
  checkpointEvery?: number;
  /** Every changed stream is saved this often, seconds. Default 60. */
  checkpointSeconds?: number;
  /** First retry of a failed save or alert write after this, doubling up to 60 s; ms. Default 1000. */
  retryMs?: number;
  /** Most readings waiting in the queue; an HTTP or WebSocket batch beyond it is refused. Default 50,000. */
  maxQueuedReadings?: number;
  /** Readings waiting longer than this, ms, are taken without learning (overload). Default 250. */
  shedAfterMs?: number;
  /** Longest run of work before the service yields to the event loop, ms. Default 10. */
  sliceMs?: number;
  /**
   * Readings kept in memory per stream, each with the forecast made for it,
   * for `recent()` (the dashboard's chart); 0 keeps none. Default 288 (a day
   * of 5-minute readings).
   */
  recentReadings?: number;
  /**
   * Most values one stream may have (1 … 256): a stream of more is refused,
   * created by a reading (reason `too_many_values`) or by `put`. Default 64.
   */
  maxValuesPerStream?: number;
  /**
   * Longest stream id or value name of a new stream (1 … 128 characters;
   * the alphabet is src/domain/reading.ts's): a longer one is refused
   * (reason `bad_name`). Default 128.
   */
  maxNameLength?: number;
  /** Largest |value| a reading may hold; a larger one is refused (`out_of_range`). Default 1e15. */
  maxAbsValue?: number;
  /**
   * How far beyond the range of a value's past values a new one may lie, in
   * widths of that range; a farther one is refused (`out_of_range`) unless
   * it persists (see src/stream/value_bounds.ts). Default 1e6.
   */
  maxValueSpreads?: number;
  /**
   * Readings fed at load to twins of a restored stream of each kind (two
   * copies, in turn), so that the per-reading code is compiled before the
   * first reading (0: none; src/service/warm_up.ts). Default 4000.
   */
  warmUpReadings?: number;
  /**
   * Wall time, ms, after which load()'s warm-up feeds no more readings,
   * whichever streams it feeds (src/service/warm_up.ts): on a loaded machine
   * a nice shard worker's warm-up does not hold the start up longer than
   * about this. Default 1000.
   */
  warmUpMs?: number;
  /**
   * When load() restores no stream to warm (a new daemon, or one whose
   * streams have no readings yet), warm a new stream of the default preset
   * instead, `warmUpReadings` readings of a made-up sensor
   * (src/model/room_temperature.ts), so that V8 compiles the per-reading code
   * before the first streams come (src/service/warm_up.ts). The daemon's shard workers set it
   * (each worker's isolate compiles the code anew). Default false.
   */
  warmUpNew?: boolean;
}

/** The defaults of ServiceOptions. */
export const SERVICE_DEFAULTS: Readonly<Required<ServiceOptions>> = Object.freeze({
  maxStreams: 1000,
  defaultPreset: "default",
  falseAlertsPerWeek: null,
  checkpointEvery: 500,
  checkpointSeconds: 60,
  retryMs: 1000,
  maxQueuedReadings: 50_000,
  shedAfterMs: 250,
  sliceMs: 10,
  recentReadings: RECENT_CAPACITY,
  maxValuesPerStream: MAX_VALUES_DEFAULT,
  maxNameLength: MAX_NAME_LENGTH,
  maxAbsValue: VALUE_BOUNDS_DEFAULTS.maxAbs,
  maxValueSpreads: VALUE_BOUNDS_DEFAULTS.maxSpreads,
  warmUpReadings: WARM_UP_DEFAULTS.readings,
  warmUpMs: WARM_UP_DEFAULTS.maxMs,
  warmUpNew: false,
});

/** Applies the defaults and checks every option; throws naming the first bad one. */
export function resolveServiceOptions(options: ServiceOptions = {}): Required<ServiceOptions> {
  const o: Required<ServiceOptions> = { ...SERVICE_DEFAULTS };
  for (const [k, v] of Object.entries(options)) {
    if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  }
  for (const k of ["maxStreams", "checkpointEvery", "maxQueuedReadings"] as const) {
    if (!Number.isSafeInteger(o[k]) || o[k] < 1) {
      throw new RangeError(
        `Cannot create service: ${k} must be a positive integer: current value is ${
          showValue(o[k])
        }`,
      );
    }
  }
  for (const k of ["checkpointSeconds", "retryMs", "sliceMs"] as const) {
    if (typeof o[k] !== "number" || !(o[k] > 0) || o[k] === Infinity) {
      throw new RangeError(
        `Cannot create service: ${k} must be a positive number: current value is ${
          showValue(o[k])
        }`,
      );
    }
  }
  if (!Number.isSafeInteger(o.warmUpReadings) || o.warmUpReadings < 0) {
    throw new RangeError(
      `Cannot create service: warmUpReadings must be an integer of at least 0: current value is ${
        showValue(o.warmUpReadings)
      }`,
    );
  }
  if (typeof o.warmUpMs !== "number" || !(o.warmUpMs >= 0) || o.warmUpMs === Infinity) {
    throw new RangeError(
      `Cannot create service: warmUpMs must be a number of at least 0: current value is ${
        showValue(o.warmUpMs)
      }`,
    );
  }
  if (typeof o.warmUpNew !== "boolean") {
    throw new RangeError(
      `Cannot create service: warmUpNew must be true or false: current value is ${
        showValue(o.warmUpNew)
      }`,
    );
  }
  if (!Number.isSafeInteger(o.recentReadings) || o.recentReadings < 0) {
    throw new RangeError(
      `Cannot create service: recentReadings must be an integer of at least 0: current value is ${
        showValue(o.recentReadings)
      }`,
    );
  }
  for (
    const [k, max] of [
      ["maxValuesPerStream", MAX_VALUES_LIMIT],
      ["maxNameLength", MAX_NAME_LENGTH],
    ] as const
  ) {
    if (!Number.isInteger(o[k]) || o[k] < 1 || o[k] > max) {
      throw new RangeError(
        `Cannot create service: ${k} must be an integer from 1 to ${max}: current value is ${
          showValue(o[k])
        }`,
      );
    }
  }
  for (const k of ["maxAbsValue", "maxValueSpreads"] as const) {
    if (typeof o[k] !== "number" || !(o[k] > 0 && o[k] <= 1e30)) {
      throw new RangeError(
        `Cannot create service: ${k} must be a positive number of at most 1e+30: current value is ${
          showValue(o[k])
        }`,
      );
    }
  }
  const budget = o.falseAlertsPerWeek;
  if (budget !== null && (typeof budget !== "number" || !(budget >= 0 && budget <= 10_000))) {
    throw new RangeError(
      `Cannot create service: falseAlertsPerWeek must be null or a number from 0 to 10000: current value is ${
        showValue(budget)
      }`,
    );
  }
  if (typeof o.shedAfterMs !== "number" || !(o.shedAfterMs >= 0)) {
    throw new RangeError(
      `Cannot create service: shedAfterMs must be a number >= 0 (Infinity: never shed): current value is ${
        showValue(o.shedAfterMs)
      }`,
    );
  }
  return o;
}
