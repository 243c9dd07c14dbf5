/**
 * The daemon's counters in the Prometheus text format 0.0.4
 * (`GET /metrics`): a HELP and a TYPE line per metric, then one
 * `name{label="value"} number` line per series.
 *
 * Forecast accuracy is averaged over the streams that have scored
 * forecasts at a horizon (normalised MSE of the blend, and the share of
 * readings inside the interval); a horizon no stream has scored yet is left
 * out rather than reported as NaN.
 */
import type { ServiceCounters, Source } from "../service/service.ts";

/** The content type of the text format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** What the metrics are read from. */
export interface MetricsSource {
  /** Readings by source, alerts stored, checkpoints saved. */
  readonly counters: ServiceCounters;
  /** Rejected readings by reason, from the sources, the service and the engine. */
  rejects(): Record<string, number>;
  /** What the models did: readings scored, readings learned from, and the time it took (s). */
  readonly learning: { readings: number; learned: number; observeSeconds: number };
  /** Streams learned now. */
  readonly streams: number;
  /**
   * Every stream's accuracy by horizon, one list per stream: the MSE of the
   * blend (normalised units) and the share of readings inside the interval,
   * NaN where nothing is scored yet.
   */
  horizonStats(): Iterable<readonly HorizonScore[]>;
  /** Live alert subscribers. */
  readonly subscribers: number;
  /** Readings waiting in the ingest queue. */
  readonly queued: number;
}

/** One stream's accuracy at one horizon, as the metrics read it. */
export interface HorizonScore {
  horizon: number;
  /** MSE (normalised units) by expert; the blend's is `blend`. */
  mse: Record<string, number>;
  coverage: number;
}

type Labels = Record<string, string>;

interface Family {
  name: string;
  type: "counter" | "gauge";
  help: string;
  series: [Labels, number][];
}

const SOURCES: readonly Source[] = ["mqtt", "ws", "http", "demo"];

/** Escapes a label value: backslash, double quote and newline. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** A sample value as the text format writes it (NaN, +Inf, -Inf). */
function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
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

/** The families as text. */
export function formatFamilies(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    lines.push(`# TYPE ${f.name} ${f.type}`);
    for (const [labels, value] of f.series) {
      const entries = Object.entries(labels);
      const l = entries.length === 0
        ? ""
        : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
      lines.push(`${f.name}${l} ${formatNumber(value)}`);
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * The blend's MSE and the interval coverage by horizon, each averaged over
 * the streams that have one: one pass over every stream's stats().
 */
function perHorizon(
  source: MetricsSource,
): { mse: [Labels, number][]; coverage: [Labels, number][] } {
  // horizon -> [mse sum, mse count, coverage sum, coverage count]
  const sum = new Map<number, [number, number, number, number]>();
  for (const stats of source.horizonStats()) {
    for (const h of stats) {
      const acc = sum.get(h.horizon) ?? [0, 0, 0, 0];
      if (Number.isFinite(h.mse.blend)) {
        acc[0] += h.mse.blend;
        acc[1]++;
      }
      if (Number.isFinite(h.coverage)) {
        acc[2] += h.coverage;
        acc[3]++;
      }
      sum.set(h.horizon, acc);
    }
  }
  const rows = [...sum.entries()].sort((a, b) => a[0] - b[0]);
  const mean = (at: 0 | 2): [Labels, number][] =>
    rows.filter(([, a]) => a[at + 1] > 0).map((
      [h, a],
    ) => [{ horizon: String(h) }, a[at] / a[at + 1]]);
  return { mse: mean(0), coverage: mean(2) };
}

/** Every metric of the daemon, as text. */
export function formatMetrics(
  source: MetricsSource,
  version: string,
  /** HTTP requests refused before any route, by reason (host, origin, auth_*). */
  httpRefused: Record<string, number> = {},
): string {
  const c = source.counters;
  const e = source.learning;
  const rejects = Object.entries(source.rejects()).sort(([a], [b]) => a.localeCompare(b));
  const horizons = perHorizon(source);
  const families: Family[] = [
    {
      name: "forecastd_build_info",
      type: "gauge",
      help: "The daemon's version (always 1).",
      series: [[{ version }, 1]],
    },
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
      series: Object.entries(httpRefused).sort(([a], [b]) => a.localeCompare(b))
        .map(([reason, n]) => [{ reason }, n]),
    },
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
      name: "forecastd_observe_count",
      type: "counter",
      help:
        "Readings scored, learned and forecast (divide observe_seconds_total by it for the step time).",
      series: [[{}, e.readings]],
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
      help:
        "Mean squared error of the forecast (normalised units), by horizon in readings, averaged over streams.",
      series: horizons.mse,
    },
    {
      name: "forecastd_interval_coverage",
      type: "gauge",
      help:
        "Share of readings inside the prediction interval, by horizon in readings, averaged over streams.",
      series: horizons.coverage,
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
  return formatFamilies(families);
}
