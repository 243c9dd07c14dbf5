/**
 * The daemon's metrics in the Prometheus text format 0.0.4
 * (`GET /metrics`): a HELP and a TYPE line per metric, then one
 * `name{label="value"} number` line per series. The names follow
 * Prometheus' conventions, so `promtool check metrics` passes: counters end
 * in `_total`, units are base units (`_seconds`, `_bytes`), and no gauge or
 * counter ends in `_count`, `_sum` or `_bucket`.
 *
 * Model health is reported per stream and horizon (in readings ahead): the
 * blend's MSE (normalised units), its skill over persistence and the share
 * of readings inside the interval. That is streams x horizons series per
 * metric, so only the horizons of `horizons` are exported (default 1, 6, 12
 * and 24; a stream forecasting fewer steps has fewer). A value not scored yet
 * (NaN) is left out rather than reported as NaN.
 *
 * A scrape reads everything at its start (the snapshot: the counters, the
 * memory, the stream list with its stats) and writes the text from it: at
 * once in {@link formatMetrics}, or in slices in {@link metricsBody}, which
 * `GET /metrics` answers with: at 10,000 streams the per-stream series are
 * 120,000 lines, 150 ms of the main thread in one piece
 * (bench/metrics_stall.ts), so the event loop turns every `sliceMs` (5 ms)
 * while the stream list is read and they are written. Both are the same
 * generator, so the text is the same byte for byte.
 *
 * docs/integrations.md lists every metric; deploy/grafana/forecastd.json
 * charts them.
 */
import type { ServiceCounters } from "../service/service.ts";
import type { HorizonColumns } from "../service/application.ts";
import { SOURCES } from "../ingest/ingest_sink.ts";
import { nextTurn } from "../async/next_turn.ts";
import {
  columnLines,
  escapeLabel,
  familyHeader,
  formatNumber,
  labelText,
  mergeColumns,
  statsLines,
  type StreamTable,
} from "./metrics_lines.ts";

export { escapeLabel };

/** The content type of the text format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The horizons exported by default, in readings ahead. */
export const DEFAULT_METRICS_HORIZONS: readonly number[] = Object.freeze([1, 6, 12, 24]);

/** What the metrics are read from. */
export interface MetricsSource {
  /** Readings by source, alerts stored, checkpoints saved, when everything was last saved. */
  readonly counters: ServiceCounters;
  /** Rejected readings by reason, from the sources, the service and the engine. */
  rejects(): Record<string, number>;
  /**
   * What the models did: readings scored, readings learned from, the time it
   * took (s), and the parts the divergence guard re-initialised.
   */
  readonly learning: {
    readings: number;
    learned: number;
    observeSeconds: number;
    recoveries: number;
  };
  /** Streams learned now. */
  readonly streams: number;
  /**
   * Every stream's accuracy by horizon (NaN where nothing is scored yet).
   * Called at the start of a scrape and read over its first slices, so what
   * it yields must be fixed at the call (the daemon's: the columns the
   * workers last sent; with workers 0, the stream list, each stream's
   * numbers read when the scrape reaches it). Best in id order (the
   * daemon's are): the streams are sorted only when they are not.
   */
  horizonStats(): Iterable<StreamScores>;
  /**
   * The same numbers in columns (the blend's MSE and skill, the coverage),
   * each list in id order and the lists' streams disjoint (the daemon's with
   * workers: one list a worker, as it last sent them), or undefined. When
   * given, a scrape writes the per-stream series from them, without an
   * object per stream and horizon, and does not call horizonStats().
   */
  horizonColumns?(): readonly HorizonColumns[] | undefined;
  /** Live alert subscribers. */
  readonly subscribers: number;
  /** Readings waiting in the ingest queue. */
  readonly queued: number;
}

/** One stream's accuracy by horizon, as the metrics read it. */
export interface StreamScores {
  stream: string;
  horizons: readonly HorizonScore[];
}

/** One stream's accuracy at one horizon. */
export interface HorizonScore {
  horizon: number;
  /** MSE (normalised units) by expert; the blend's is `blend`. */
  mse: Record<string, number>;
  /** 1 - MSE / MSE of persistence, by expert; the blend's is `blend`. */
  skill: Record<string, number>;
  coverage: number;
}

/** Options of formatMetrics; every field has the default it names. */
export interface MetricsOptions {
  /** Horizons (readings ahead) whose per-stream accuracy is exported. Default 1, 6, 12, 24. */
  horizons?: readonly number[];
  /** The clock, ms since the epoch, for the checkpoint age. Default Date.now. */
  now?: () => number;
  /** HTTP requests refused before any route, by reason (host, origin, auth_*). Default none. */
  httpRefused?: Record<string, number>;
  /** This instance's shard (`--shard I/N`), exported as forecastd_shard_info. Default none. */
  shard?: { index: number; count: number };
  /**
   * Copies of messages already taken that the external broker delivered
   * again after a reconnection (acknowledged, not taken again: the MQTT
   * source's `stats.duplicates`), exported as forecastd_mqtt_duplicates_total.
   * Default undefined: not exported (no MQTT source: the embedded broker
   * hands messages over in-process).
   */
  mqttDuplicates?: number;
  /**
   * The longest slice of work (ms) between turns of the event loop while
   * {@link metricsBody} writes the per-stream series. Default 5
   * (DEFAULT_METRICS_SLICE_MS); formatMetrics writes in one piece.
   */
  sliceMs?: number;
}

/** Default of MetricsOptions.sliceMs. */
export const DEFAULT_METRICS_SLICE_MS = 5;

/** Streams written between two looks at the clock. */
const STREAMS_PER_CLOCK_CHECK = 16;

type Labels = Record<string, string>;

/** A family whose series are read at the start of the scrape. */
interface Family {
  name: string;
  type: "counter" | "gauge";
  help: string;
  series: [Labels, number][];
}

/** A per-stream family: one series per stream and exported horizon, from the snapshot. */
interface StreamFamily {
  name: string;
  type: "gauge";
  help: string;
  /** The value of one stream at one horizon; a value not finite is left out. */
  value: (h: HorizonScore) => number;
  /** Where the same value is among a horizon's numbers in HorizonColumns' `values`. */
  field: number;
}

/** What a scrape writes, read at its start. */
interface Snapshot {
  families: readonly (Family | StreamFamily)[];
  /** The streams, as horizonStats() gave them at the start (read in slices); or: */
  stats: Iterable<StreamScores>;
  /** the streams as horizonColumns() gave them at the start, or null (none given). */
  columns: readonly HorizonColumns[] | null;
  horizons: ReadonlySet<number>;
}

/** The process's memory, as Deno.memoryUsage() reports it. */
function memorySeries(): [Labels, number][] {
  const m = Deno.memoryUsage();
  return [
    [{ kind: "rss" }, m.rss],
    [{ kind: "heap_used" }, m.heapUsed],
    [{ kind: "heap_total" }, m.heapTotal],
    [{ kind: "external" }, m.external],
  ];
}

/**
 * The text of `snap` in pieces: a piece ends when reading the stream list
 * or writing the per-stream series has taken `sliceMs` (checked every 16
 * streams); the pieces joined are the whole text.
 */
function* metricsPieces(snap: Snapshot, sliceMs: number): Generator<string, void, void> {
  const { horizons } = snap;
  let out = "";
  let sliceStart = performance.now();
  let streams: StreamScores[] | null = null;
  let table: StreamTable | null = null;
  for (const f of snap.families) {
    out += familyHeader(f);
    if ("series" in f) {
      for (const [labels, value] of f.series) {
        out += `${f.name}${labelText(labels)} ${formatNumber(value)}\n`;
      }
      continue;
    }
    // the family's lines of stream i, from the columns or from the stream list
    let lines: (i: number) => string;
    let n: number;
    if (snap.columns !== null) {
      const t = table ??= mergeColumns(snap.columns);
      [n, lines] = [t.ids.length, (i) => columnLines(t, i, f, horizons)];
    } else {
      if (streams === null) {
        // the list, read in slices too; sorted only when it comes out of order
        streams = [];
        let ordered = true;
        for (const s of snap.stats) {
          if (ordered && streams.length > 0 && streams[streams.length - 1].stream > s.stream) {
            ordered = false;
          }
          streams.push(s);
          if (
            streams.length % STREAMS_PER_CLOCK_CHECK === 0 &&
            performance.now() - sliceStart >= sliceMs
          ) {
            yield out;
            out = "";
            sliceStart = performance.now();
          }
        }
        if (!ordered) {
          streams.sort((a, b) => a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0);
        }
      }
      const list = streams;
      [n, lines] = [list.length, (i) => statsLines(list[i], f, horizons)];
    }
    for (let i = 0; i < n; i++) {
      out += lines(i);
      if (
        i % STREAMS_PER_CLOCK_CHECK === STREAMS_PER_CLOCK_CHECK - 1 &&
        performance.now() - sliceStart >= sliceMs
      ) {
        yield out;
        out = "";
        sliceStart = performance.now();
      }
    }
  }
  yield out;
}

/** Every metric of the daemon, as text, written at once. */
export function formatMetrics(
  source: MetricsSource,
  version: string,
  options: MetricsOptions = {},
): string {
  let text = "";
  for (const piece of metricsPieces(snapshot(source, version, options), Infinity)) text += piece;
  return text;
}

/**
 * Every metric of the daemon as a response body: the snapshot is taken
 * now, the text (the same as formatMetrics') written in slices of at most
 * `options.sliceMs`, the event loop turning between them (nextTurn), each
 * slice one chunk. Cancelling the body stops the writing.
 */
export function metricsBody(
  source: MetricsSource,
  version: string,
  options: MetricsOptions = {},
): ReadableStream<Uint8Array> {
  const pieces = metricsPieces(
    snapshot(source, version, options),
    options.sliceMs ?? DEFAULT_METRICS_SLICE_MS,
  );
  const encoder = new TextEncoder();
  let first = true;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!first) await nextTurn();
      first = false;
      let next = pieces.next();
      // a slice that only read the stream list wrote nothing: the next one, a turn later
      while (!next.done && next.value === "") {
        await nextTurn();
        next = pieces.next();
      }
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    cancel() {
      pieces.return();
    },
  });
}

/** What a scrape writes: every family, the per-stream ones over the stream list of now. */
function snapshot(source: MetricsSource, version: string, options: MetricsOptions): Snapshot {
  const c = source.counters;
  const e = source.learning;
  const now = options.now ?? Date.now;
  const rejects = Object.entries(source.rejects()).sort(([a], [b]) => a.localeCompare(b));
  const columns = source.horizonColumns?.() ?? null;
  const stats = columns === null ? source.horizonStats() : [];
  const families: (Family | StreamFamily)[] = [
    {
      name: "forecastd_build_info",
      type: "gauge",
      help: "The daemon's version (always 1).",
      series: [[{ version }, 1]],
    },
    ...(options.shard
      ? [{
        name: "forecastd_shard_info",
        type: "gauge" as const,
        help: "This instance's shard and the shard count of --shard I/N (always 1); its " +
          "other metrics count its own streams only.",
        series: [[
          { shard: String(options.shard.index), shards: String(options.shard.count) },
          1,
        ] as [Labels, number]],
      }]
      : []),
    {
      name: "forecastd_readings_total",
      type: "counter",
      help: "Readings taken into the models, by source.",
      series: SOURCES.map((s) => [{ source: s }, c.readings[s]]),
    },
    {
      name: "forecastd_rejected_readings_total",
      type: "counter",
      help: "Messages and readings rejected, by reason.",
      series: rejects.map(([reason, n]) => [{ reason }, n]),
    },
    {
      name: "forecastd_http_refused_total",
      type: "counter",
      help: "HTTP requests and WebSocket handshakes refused by the Host, Origin or token " +
        "checks, by reason.",
      series: Object.entries(options.httpRefused ?? {}).sort(([a], [b]) => a.localeCompare(b))
        .map(([reason, n]) => [{ reason }, n]),
    },
    ...(options.mqttDuplicates === undefined ? [] : [{
      name: "forecastd_mqtt_duplicates_total",
      type: "counter" as const,
      help: "Copies of MQTT messages already taken that the broker delivered again after a " +
        "reconnection: acknowledged, not taken again.",
      series: [[{}, options.mqttDuplicates] as [Labels, number]],
    }]),
    {
      name: "forecastd_training_steps_total",
      type: "counter",
      help: "Readings the models learned from.",
      series: [[{}, e.learned]],
    },
    {
      name: "forecastd_training_shed_total",
      type: "counter",
      help:
        "Readings scored and forecast from without learning, because readings came faster than training kept up.",
      series: [[{}, c.trainingShed]],
    },
    {
      name: "forecastd_training_caught_up_total",
      type: "counter",
      help: "LSTM updates made up in idle time for shed readings.",
      series: [[{}, c.trainingCaughtUp]],
    },
    {
      name: "forecastd_ingest_queue_readings",
      type: "gauge",
      help: "Readings waiting in the ingest queue.",
      series: [[{}, source.queued]],
    },
    {
      name: "forecastd_observe_seconds_total",
      type: "counter",
      help: "Time spent scoring, learning and forecasting readings, seconds.",
      series: [[{}, e.observeSeconds]],
    },
    {
      name: "forecastd_observed_readings_total",
      type: "counter",
      help: "Readings scored, learned and forecast (the rate of observe_seconds_total " +
        "over the rate of this is the time per reading).",
      series: [[{}, e.readings]],
    },
    {
      name: "forecastd_model_recoveries_total",
      type: "counter",
      help:
        "Parts of models re-initialised because their state went bad (an expert, the intervals, the blend, or the whole model).",
      series: [[{}, e.recoveries]],
    },
    {
      name: "forecastd_streams",
      type: "gauge",
      help: "Streams learned now.",
      series: [[{}, source.streams]],
    },
    {
      name: "forecastd_forecast_mse",
      type: "gauge",
      help: "Mean squared error of the forecast (normalised units: divided by each target's " +
        "variance), by stream and horizon in readings.",
      value: (h) => h.mse.blend,
      field: 2,
    },
    {
      name: "forecastd_forecast_skill",
      type: "gauge",
      help: "Skill of the forecast over persistence (1 - its MSE / the MSE of the last value; " +
        "above 0 is better), by stream and horizon in readings.",
      value: (h) => h.skill.blend,
      field: 3,
    },
    {
      name: "forecastd_interval_coverage",
      type: "gauge",
      help: "Share of readings inside the prediction interval, by stream and horizon in readings.",
      value: (h) => h.coverage,
      field: 4,
    },
    {
      name: "forecastd_alerts_total",
      type: "counter",
      help: "Alert events stored.",
      series: [[{}, c.alertsStored]],
    },
    {
      name: "forecastd_alert_failures_total",
      type: "counter",
      help: "Alert events that could not be stored.",
      series: [[{}, c.alertFailures]],
    },
    {
      name: "forecastd_alert_subscribers",
      type: "gauge",
      help: "Live alert subscribers (SSE and WebSocket clients, webhooks, MQTT).",
      series: [[{}, source.subscribers]],
    },
    {
      name: "forecastd_checkpoints_total",
      type: "counter",
      help: "Stream checkpoints saved.",
      series: [[{}, c.checkpoints]],
    },
    {
      name: "forecastd_checkpoint_failures_total",
      type: "counter",
      help: "Checkpoint saves that failed.",
      series: [[{}, c.checkpointFailures]],
    },
    {
      name: "forecastd_checkpoint_commits_total",
      type: "counter",
      help: "Deno KV commits made by checkpoint saves.",
      series: [[{}, c.checkpointCommits]],
    },
    {
      name: "forecastd_checkpoint_age_seconds",
      type: "gauge",
      help: "Seconds since the oldest change not yet in a saved checkpoint was made (0 when " +
        "every change is saved): the learning a crash now would lose goes back this far " +
        "(about the checkpoint period or below while saves succeed).",
      series: [[{}, Math.max(0, now() - c.checkpointedAt) / 1000]],
    },
    {
      name: "forecastd_readings_beyond_loss_bound_total",
      type: "counter",
      help:
        "Readings taken while their stream already had --checkpoint-every readings unsaved (only while saves fail).",
      series: [[{}, c.readingsBeyondLossBound]],
    },
    {
      name: "forecastd_unhandled_rejections_total",
      type: "counter",
      help: "Rejected promises nobody handled: logged and counted, the daemon goes on.",
      series: [[{}, c.unhandledRejections]],
    },
    {
      name: "forecastd_memory_bytes",
      type: "gauge",
      help:
        "Memory of the process: rss (resident set), heap_used and heap_total (the JavaScript heap), external (typed arrays and other memory outside the heap).",
      series: memorySeries(),
    },
  ];
  return {
    families,
    stats,
    columns,
    horizons: new Set(options.horizons ?? DEFAULT_METRICS_HORIZONS),
  };
}
