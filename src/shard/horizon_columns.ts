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
 * A worker's streams come in id order (HorizonColumnsWriter sorts them, in
 * the worker), so the main thread merges the workers' columns in id order
 * (mergeHorizonColumns) instead of sorting 10,000 ids at each scrape.
 *
 * ```ts
 * const columns = new HorizonColumnsWriter().take(service.engine.streams); // in the worker
 * for (const s of fromHorizonColumns(columns)) s.horizons[0].mse.blend; // on the main thread
 * ```
 */
import type { HorizonColumns, StreamHorizonStats } from "../service/application.ts";
import type { HorizonStats, StreamModel } from "../stream/stream.ts";
import { BLEND_STATS_FIELDS, readBlendStats } from "../stream/read_models.ts";

export type { HorizonColumns };

/** Numbers per stream and horizon: horizon, scored, blend MSE, blend skill, coverage. */
const FIELDS = BLEND_STATS_FIELDS;

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
 * A shard worker's columns, made straight from its streams' state, in
 * parts: the same as `toHorizonColumns(service.horizonStats())`, number
 * for number, without the objects. Made every 5 s of 5,000 streams in one
 * piece, and through objects, it was some 100 ms of the worker's thread at
 * once, its readings waiting behind it (docs/scaling.md, "eleventh round
 * (noshed)"); now each second does a part.
 *
 * A pass takes the stream list (and each stream's model) when it starts and
 * reads each stream's numbers when it reaches it; `take()` ends it (doing
 * what is left) and gives its columns, and the next `step()` starts the
 * next pass. The id order is kept from one pass to the next and sorted again
 * only when the streams changed.
 *
 * ```ts
 * const writer = new HorizonColumnsWriter();
 * writer.step(service.engine.streams, 4); // a quarter of a pass (each second)
 * post({ type: "stats", horizons: writer.take(service.engine.streams) }); // every 5 s
 * ```
 */
export class HorizonColumnsWriter {
  /** The ids of the last pass, sorted. */
  #ids: string[] = [];
  #pass: Pass | null = null;

  /** Does 1 / `parts` of a pass over `streams` (starting one when none is under way). */
  step(streams: ReadonlyMap<string, StreamModel>, parts: number): void {
    const pass = this.#pass ??= this.#start(streams);
    pass.fill(Math.ceil(pass.models.length / parts));
  }

  /** Ends the pass under way (or makes a whole one now) and gives its columns. */
  take(streams: ReadonlyMap<string, StreamModel>): HorizonColumns {
    const pass = this.#pass ?? this.#start(streams);
    this.#pass = null;
    pass.fill(Infinity);
    return pass.columns;
  }

  /** A pass over the streams of now. */
  #start(streams: ReadonlyMap<string, StreamModel>): Pass {
    const ids = this.#ids;
    let same = ids.length === streams.size;
    for (let i = 0; same && i < ids.length; i++) same = streams.has(ids[i]);
    if (!same) this.#ids = [...streams.keys()].sort();
    return new Pass(this.#ids, this.#ids.map((id) => streams.get(id)!));
  }
}

/** One pass of HorizonColumnsWriter: its columns, filled stream by stream. */
class Pass {
  readonly columns: HorizonColumns;
  /** The next stream to fill, and where its numbers go. */
  #next = 0;
  #at = 0;

  constructor(ids: string[], readonly models: readonly StreamModel[]) {
    const counts = new Int32Array(ids.length);
    let total = 0;
    for (let i = 0; i < models.length; i++) total += counts[i] = models[i].Hm;
    this.columns = { streams: ids, counts, values: new Float64Array(total * FIELDS) };
  }

  /** Fills the next `n` streams (or those left). */
  fill(n: number): void {
    const end = Math.min(this.models.length, this.#next + n);
    for (; this.#next < end; this.#next++) {
      this.#at = readBlendStats(this.models[this.#next], this.columns.values, this.#at);
    }
  }
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
