/**
 * Every stream's accuracy by horizon as a shard worker sends it to the main
 * thread (every 5 s, for the metrics), in columns: the stream ids, each
 * stream's horizon count, and per stream and horizon five numbers in one
 * Float64Array (the horizon, the forecasts scored, the blend's MSE and
 * skill, the interval coverage): what `/metrics` exports of it.
 *
 * As objects (every expert's MSE and skill, per horizon) the 5,000 streams
 * of a worker were some 200,000 objects to copy across and keep on the main
 * thread, every 5 s: at 10,000 streams the main thread spent a third of its
 * time copying them in and collecting them (bench/scale.ts --part=footprint
 * profiled with --v8-flags=--prof). In columns they are one array of numbers
 * and one of ids; the main thread makes the objects only when /metrics is
 * read, with the blend's entries alone.
 *
 * ```ts
 * const columns = toHorizonColumns(service.horizonStats()); // in the worker
 * for (const s of fromHorizonColumns(columns)) s.horizons[0].mse.blend; // on the main thread
 * ```
 */
import type { StreamHorizonStats } from "../service/application.ts";

/** Numbers per stream and horizon: horizon, scored, blend MSE, blend skill, coverage. */
const FIELDS = 5;

/** Every stream's accuracy by horizon, in columns; see the module comment. */
export interface HorizonColumns {
  streams: string[];
  /** Horizons of each stream, in stream order. */
  counts: Int32Array;
  /** (Σ counts, FIELDS): horizon, scored, blend MSE, blend skill, coverage. */
  values: Float64Array;
}

/** `stats` in columns (the blend's MSE and skill; the experts' are left out). */
export function toHorizonColumns(stats: Iterable<StreamHorizonStats>): HorizonColumns {
  const streams: string[] = [];
  const counts: number[] = [];
  const values: number[] = [];
  for (const s of stats) {
    streams.push(s.stream);
    counts.push(s.horizons.length);
    for (const h of s.horizons) {
      values.push(h.horizon, h.scored, h.mse.blend, h.skill.blend, h.coverage);
    }
  }
  return { streams, counts: Int32Array.from(counts), values: Float64Array.from(values) };
}

/** The streams of `columns` as objects, the blend's MSE and skill only. */
export function* fromHorizonColumns(columns: HorizonColumns): Iterable<StreamHorizonStats> {
  const { streams, counts, values } = columns;
  let o = 0;
  for (let i = 0; i < streams.length; i++) {
    const horizons = [];
    for (let k = 0; k < counts[i]; k++, o += FIELDS) {
      horizons.push({
        horizon: values[o],
        scored: values[o + 1],
        mse: { blend: values[o + 2] },
        skill: { blend: values[o + 3] },
        coverage: values[o + 4],
      });
    }
    yield { stream: streams[i], horizons };
  }
}
