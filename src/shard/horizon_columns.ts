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
 * A worker's streams come in id order (Service.horizonStats sorts them, in
 * the worker), so the main thread merges the workers' columns in id order
 * (mergeHorizonColumns) instead of sorting 10,000 ids at each scrape.
 *
 * ```ts
 * const columns = toHorizonColumns(service.horizonStats()); // in the worker
 * for (const s of fromHorizonColumns(columns)) s.horizons[0].mse.blend; // on the main thread
 * ```
 */
import type { StreamHorizonStats } from "../service/application.ts";
import type { HorizonStats } from "../stream/stream.ts";

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

/**
 * The streams of `columns` as objects, the blend's MSE and skill only. A
 * stream's `horizons` are made when first read (then kept): a scrape takes
 * the list of 10,000 streams at its start and makes their 120,000 horizon
 * objects (at 12 horizons) slice by slice as it writes them.
 */
export function* fromHorizonColumns(columns: HorizonColumns): Generator<StreamHorizonStats> {
  const { streams, counts, values } = columns;
  for (let i = 0, o = 0; i < streams.length; o += counts[i] * FIELDS, i++) {
    yield lazyStream(streams[i], values, o, counts[i]);
  }
}

/** Stream `stream`, whose `count` horizons are at `values[at...]`. */
function lazyStream(
  stream: string,
  values: Float64Array,
  at: number,
  count: number,
): StreamHorizonStats {
  let horizons: HorizonStats[] | null = null;
  return {
    stream,
    get horizons() {
      if (horizons) return horizons;
      horizons = [];
      for (let o = at; o < at + count * FIELDS; o += FIELDS) {
        horizons.push({
          horizon: values[o],
          scored: values[o + 1],
          mse: { blend: values[o + 2] },
          skill: { blend: values[o + 3] },
          coverage: values[o + 4],
        });
      }
      return horizons;
    },
  };
}

/**
 * The streams of several workers' columns, each in id order, as one list in
 * id order. It reads only the columns in `all` (a worker's next message
 * replaces its columns, it does not change them), so a scrape that takes
 * them at its start reads what the workers had sent by then.
 */
export function* mergeHorizonColumns(
  all: readonly HorizonColumns[],
): Generator<StreamHorizonStats> {
  const lists = all.map((c) => fromHorizonColumns(c));
  const heads = lists.map((l) => l.next());
  for (;;) {
    let k = -1; // the list whose next stream comes first
    for (let j = 0; j < heads.length; j++) {
      const h = heads[j];
      if (!h.done && (k < 0 || h.value.stream < (heads[k].value as StreamHorizonStats).stream)) {
        k = j;
      }
    }
    if (k < 0) return;
    yield heads[k].value as StreamHorizonStats;
    heads[k] = lists[k].next();
  }
}
