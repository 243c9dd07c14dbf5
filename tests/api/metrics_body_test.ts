/**
 * GET /metrics in slices (metricsBody): the text is formatMetrics' byte for
 * byte however it is sliced, the per-stream series are what the stats say,
 * and while a scrape of many streams is written the event loop turns (a
 * timer and another request set at its start are served before its body
 * ends), in process and over a real socket.
 */
import assert from "node:assert/strict";
import {
  DEFAULT_METRICS_HORIZONS,
  formatMetrics,
  metricsBody,
  type MetricsOptions,
  type MetricsSource,
  type StreamScores,
} from "../../src/api/metrics.ts";
import { healthRoutes } from "../../src/api/health.ts";
import type { HorizonColumns } from "../../src/service/application.ts";
import { serve } from "./_harness.ts";
import { metricsSourceOf } from "./_metrics.ts";

/** Per-stream families, in the order /metrics writes them, and the value each exports. */
const PER_STREAM: [string, (h: StreamScores["horizons"][number]) => number][] = [
  ["forecastd_forecast_mse", (h) => h.mse.blend],
  ["forecastd_forecast_skill", (h) => h.skill.blend],
  ["forecastd_interval_coverage", (h) => h.coverage],
];

/**
 * `n` streams' stats, horizons 1, 3, 6, 12 and 24 (3 is not exported by
 * default), about one value in five NaN (not scored yet), some ids needing
 * escapes; shuffled unless `sorted`.
 */
function manyStreams(n: number, sorted: boolean): StreamScores[] {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const value = (v: number) => rand() < 0.2 ? NaN : v;
  const out: StreamScores[] = [];
  for (let i = 0; i < n; i++) {
    const id = i % 997 === 5 ? `odd "${i}" \\ \n` : `site${i % 7}/dev-${(i * 7919) % n}.t${i}`;
    out.push({
      stream: id,
      horizons: [1, 3, 6, 12, 24].map((horizon) => ({
        horizon,
        mse: { blend: value(rand() * 2), lstm: 9 },
        skill: { blend: value(rand() - 0.5), lstm: -9 },
        coverage: value(rand()),
      })),
    });
  }
  if (sorted) out.sort((a, b) => a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0);
  else out.reverse();
  return out;
}

function sourceOf(streams: StreamScores[]): MetricsSource {
  return metricsSourceOf(() => streams, streams.length);
}

/** The text of a body, and how many chunks it came in. */
async function readBody(
  body: ReadableStream<Uint8Array>,
): Promise<{ text: string; chunks: number }> {
  const decoder = new TextDecoder();
  let text = "", chunks = 0;
  for await (const chunk of body) {
    chunks++;
    text += decoder.decode(chunk, { stream: true });
  }
  return { text: text + decoder.decode(), chunks };
}

/** The text without the memory series (read anew by each scrape). */
function withoutMemory(text: string): string {
  return text.split("\n").filter((l) => !l.startsWith("forecastd_memory_bytes{")).join("\n");
}

/** The per-stream lines `streams` should give, written plainly: the oracle. */
function expectedSeries(streams: StreamScores[], horizons: readonly number[]): string[] {
  const byId = [...streams].sort((a, b) => a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0);
  const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
  const lines: string[] = [];
  for (const [name, value] of PER_STREAM) {
    for (const s of byId) {
      for (const h of s.horizons) {
        const v = value(h);
        if (horizons.includes(h.horizon) && Number.isFinite(v)) {
          lines.push(`${name}{stream="${esc(s.stream)}",horizon="${h.horizon}"} ${v}`);
        }
      }
    }
  }
  return lines;
}

const perStreamLines = (text: string) =>
  text.split("\n").filter((l) => PER_STREAM.some(([name]) => l.startsWith(`${name}{`)));

for (const sorted of [true, false]) {
  Deno.test(`metricsBody() in slices is formatMetrics() byte for byte: 3,000 streams ${sorted ? "in id order" : "out of order"}, five horizons, NaN gaps`, async () => {
    const streams = manyStreams(3000, sorted);
    const source = sourceOf(streams);
    const options: MetricsOptions = { now: () => 1_012_500, shard: { index: 1, count: 2 } };
    const whole = formatMetrics(source, "1.2.3", options);
    assert.deepEqual(
      perStreamLines(whole),
      expectedSeries(streams, DEFAULT_METRICS_HORIZONS),
      "each stream's finite values at the exported horizons, streams in id order",
    );
    for (const sliceMs of [0, 1, 5, Infinity]) {
      const { text, chunks } = await readBody(
        metricsBody(source, "1.2.3", { ...options, sliceMs }),
      );
      assert.equal(withoutMemory(text), withoutMemory(whole), `sliceMs ${sliceMs}`);
      if (sliceMs === 0) {
        // a slice ends at every clock check: every 16 streams of each of three families
        assert.ok(chunks >= 3 * Math.floor(3000 / 16), `${chunks} chunks at sliceMs 0`);
      }
      if (sliceMs === Infinity) assert.equal(chunks, 1, "one piece");
    }
    const horizons = [3, 24];
    const { text } = await readBody(metricsBody(source, "1.2.3", { horizons, sliceMs: 0 }));
    assert.deepEqual(perStreamLines(text), expectedSeries(streams, horizons), "horizons 3 and 24");
  });
}

Deno.test("GET /metrics of 20,000 streams serves a timer and a /healthz request set at its start before its body ends", async () => {
  const streams = manyStreams(20_000, true);
  const app = healthRoutes({
    version: "1.2.3",
    readiness: () => ({ kv: true, broker: null }),
    metrics: sourceOf(streams),
  });
  const events: string[] = [];
  let healthz: Promise<void> = Promise.resolve();
  setTimeout(() => {
    events.push("timer");
    healthz = Promise.resolve(app.request("/healthz")).then(async (res) => {
      await res.body?.cancel();
      events.push(`healthz ${res.status}`);
    });
  }, 0);
  const res = await app.request("/metrics");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  events.push("metrics end");
  await healthz;
  assert.deepEqual(
    events,
    ["timer", "healthz 200", "metrics end"],
    "the timer and /healthz are served while the metrics are written, not after",
  );
  assert.equal(
    perStreamLines(text).length,
    expectedSeries(streams, DEFAULT_METRICS_HORIZONS).length,
  );
  assert.ok(text.endsWith("\n") && text.includes('forecastd_memory_bytes{kind="rss"}'), "whole");
});

Deno.test("GET /metrics over a real socket: /healthz asked for at its start is served before the server has written its 20,000 streams, and the text is formatMetrics'", async () => {
  const streams = manyStreams(20_000, false);
  const source = sourceOf(streams);
  const options: MetricsOptions = { now: () => 1_012_500 };
  const app = healthRoutes({
    version: "1.2.3",
    readiness: () => ({ kv: true, broker: null }),
    metrics: source,
    metricsOptions: options,
  });
  // what the server did, in order: requests taken, and the end of the metrics body it wrote
  const events: string[] = [];
  let base = "";
  let healthz: Promise<void> = Promise.resolve();
  const server = await serve({
    fetch: async (req: Request) => {
      const path = new URL(req.url).pathname;
      events.push(`${path} taken`);
      if (path === "/metrics") {
        // the snapshot is taken in app.fetch: a timer set now asks for /healthz over the socket
        setTimeout(() => {
          healthz = fetch(`http://${base}/healthz`).then((res) => res.body?.cancel());
        }, 0);
      }
      const res = await app.fetch(req);
      if (path !== "/metrics") return res;
      const ended = new TransformStream<Uint8Array, Uint8Array>({
        flush: () => void events.push("/metrics written"),
      });
      return new Response(res.body!.pipeThrough(ended), res);
    },
  });
  base = server.base;
  try {
    const res = await fetch(`http://${base}/metrics`);
    const text = (await readBody(res.body!)).text;
    await healthz;
    assert.deepEqual(events, ["/metrics taken", "/healthz taken", "/metrics written"]);
    assert.equal(withoutMemory(text), withoutMemory(formatMetrics(source, "1.2.3", options)));
  } finally {
    await server.close();
  }
});

/**
 * `streams` (in id order) as `lists` lists of columns, stream i in list
 * i % lists, each list in id order: a sharded daemon's workers'.
 */
function columnsOf(streams: StreamScores[], lists: number): HorizonColumns[] {
  return Array.from({ length: lists }, (_, k) => {
    const mine = streams.filter((_, i) => i % lists === k);
    const values: number[] = [];
    for (const s of mine) {
      for (const h of s.horizons) {
        values.push(h.horizon, 1, h.mse.blend, h.skill.blend, h.coverage);
      }
    }
    return {
      streams: mine.map((s) => s.stream),
      counts: Int32Array.from(mine.map((s) => s.horizons.length)),
      values: Float64Array.from(values),
    };
  });
}

Deno.test("a source's horizon columns give the page its stats give, byte for byte, without reading the stats", async () => {
  const streams = manyStreams(3000, true);
  // some streams with fewer horizons, or none yet
  for (let i = 0; i < streams.length; i += 13) {
    streams[i].horizons = streams[i].horizons.slice(i % 4);
  }
  const options: MetricsOptions = { now: () => 1_012_500 };
  const expected = formatMetrics(sourceOf(streams), "1.2.3", options);
  for (const lists of [1, 2, 3]) {
    const columns = columnsOf(streams, lists);
    const source: MetricsSource = {
      ...sourceOf(streams),
      horizonStats: () => {
        throw new Error("horizonStats() read although the source has columns");
      },
      horizonColumns: () => columns,
    };
    const whole = formatMetrics(source, "1.2.3", options);
    assert.equal(withoutMemory(whole), withoutMemory(expected), `${lists} lists, at once`);
    for (const sliceMs of [0, 5]) {
      const { text } = await readBody(metricsBody(source, "1.2.3", { ...options, sliceMs }));
      assert.equal(
        withoutMemory(text),
        withoutMemory(expected),
        `${lists} lists, sliceMs ${sliceMs}`,
      );
    }
    const horizons = [3, 24];
    const { text } = await readBody(metricsBody(source, "1.2.3", { horizons, sliceMs: 0 }));
    assert.deepEqual(perStreamLines(text), expectedSeries(streams, horizons), "horizons 3 and 24");
  }
  // no columns (a Service with no workers): the stats
  const none: MetricsSource = { ...sourceOf(streams), horizonColumns: () => undefined };
  assert.equal(withoutMemory(formatMetrics(none, "1.2.3", options)), withoutMemory(expected));
});
