/**
 * Reading a /metrics text in tests: every line checked against the text
 * format 0.0.4 and parsed into samples; and a scrape of a daemon that has
 * done a bit of everything (readings from two sources, rejects, scored
 * forecasts, checkpoints), for the tests that need a real scrape.
 */
import assert from "node:assert/strict";
import { type Daemon, FIVE_MIN, sineReadings, startDaemon } from "./_harness.ts";
import type { MetricsSource, StreamScores } from "../../src/api/metrics.ts";

/** A parsed metrics text: name -> label text -> value, and name -> type. */
export interface ParsedMetrics {
  samples: Map<string, Map<string, number>>;
  types: Map<string, string>;
}

/** The samples of a metrics text: name -> label text -> value; every line checked. */
export function parseMetrics(text: string): ParsedMetrics {
  const samples = new Map<string, Map<string, number>>();
  const types = new Map<string, string>();
  const helps = new Set<string>();
  assert.ok(text.endsWith("\n"), "the text ends with a newline");
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ")) {
      helps.add(line.split(" ")[2]);
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      assert.ok(["counter", "gauge"].includes(type), line);
      types.set(name, type);
      continue;
    }
    const m = line.match(
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (\S+)$/,
    );
    assert.ok(m, `a sample line 'name{labels} value': ${JSON.stringify(line)}`);
    const [, name, labels = "", value] = m;
    assert.ok(!Number.isNaN(Number(value)) || value === "NaN", `value of ${line}`);
    assert.ok(types.has(name) && helps.has(name), `${name} has HELP and TYPE before its samples`);
    if (!samples.has(name)) samples.set(name, new Map());
    samples.get(name)!.set(labels, Number(value));
  }
  return { samples, types };
}

/**
 * A daemon (tests/api/_harness.ts) that took readings over MQTT and
 * WebSocket for two streams (forecasts scored at every horizon), rejected
 * bad JSON and an out-of-order reading, and saved checkpoints. Close it.
 */
export async function busyDaemon(): Promise<Daemon> {
  const d = await startDaemon();
  const t0 = Date.now() - 400 * FIVE_MIN;
  await d.service.ingest(sineReadings("room", t0, 0, 120), "mqtt");
  await d.service.ingest(sineReadings("hall", t0, 0, 80), "ws");
  await (await d.request("POST", "/v1/readings", "{oops")).body?.cancel();
  await d.service.ingest([{ stream: "room", ts: t0, values: { v: 1 } }], "http"); // out of order
  await d.service.checkpoint();
  return d;
}

/** The /metrics text of a {@link busyDaemon}. */
export async function busyScrape(): Promise<string> {
  const d = await busyDaemon();
  try {
    const res = await d.app.request("/metrics");
    assert.equal(res.status, 200);
    return await res.text();
  } finally {
    await d.close();
  }
}

/** The label names of each metric's series in a parsed scrape. */
export function labelNames(parsed: ParsedMetrics): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [name, series] of parsed.samples) {
    const names = new Set<string>();
    for (const labels of series.keys()) {
      for (const m of labels.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) names.add(m[1]);
    }
    out.set(name, names);
  }
  return out;
}

/**
 * A metrics source over `stats` with fixed counters (readings 1, 2, 3, 4 by
 * source, checkpoints 5, alerts 6, shed 7, caught up 8, unhandled 11,
 * checkpointed at 1,000,000 ms), rejects `bad_json` 2, learning 10 readings,
 * 9 learned, 0.5 s, 7 recoveries; subscribers 3, queued 12.
 */
export function metricsSourceOf(
  stats: () => Iterable<StreamScores>,
  streams: number,
): MetricsSource {
  return {
    counters: {
      readings: { mqtt: 1, ws: 2, http: 3, demo: 4 },
      rejects: {},
      checkpoints: 5,
      checkpointFailures: 0,
      checkpointCommits: 1,
      alertsStored: 6,
      alertFailures: 0,
      checkpointedAt: 1_000_000,
      readingsBeyondLossBound: 0,
      trainingShed: 7,
      trainingCaughtUp: 8,
      unhandledRejections: 11,
    },
    rejects: () => ({ bad_json: 2 }),
    learning: { readings: 10, learned: 9, observeSeconds: 0.5, recoveries: 7 },
    streams,
    horizonStats: stats,
    subscribers: 3,
    queued: 12,
  };
}
