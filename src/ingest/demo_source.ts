/**
 * `forecastd serve --demo`: a simulated room-temperature sensor
 * (src/model/room_temperature.ts) that publishes through the daemon's own
 * MQTT path, as a device would, so a new user sees forecasts and an alert
 * within a minute.
 *
 * - Time: one reading every second (`intervalMs`), each 5 simulated minutes
 *   later than the last (`stepMs`): 300 times faster than real time. A new
 *   demo stream starts 30 days in the past (`startDaysAgo`) so that simulated
 *   time stays behind the clock (forecastd refuses readings more than a day
 *   in the future); once it catches up (after about two and a half hours),
 *   readings come at the real pace. A new demo stream starts at a UTC
 *   midnight, so its readings, faults and alerts are the same whatever the
 *   hour it is started: started at another time of day, the first fault
 *   would fall elsewhere in the daily cycle, and two days of history do not
 *   always make it surprising enough for the first alert. A demo stream
 *   restored from KV continues after its last reading.
 * - Warm-up: the default preset opens no alert before 288 readings (a day),
 *   so a new demo stream first gets two simulated days of history
 *   (`backlog`, 576 readings) in a few batch messages, then goes live.
 * - Faults: the 20th live reading starts the first (`firstFaultAfter`), then
 *   one every 90 readings (`faultEvery`), alternating a spike (+4.5 °C for 3
 *   readings) and a drift (rising 0.8 °C per reading for 8 readings). Each is
 *   logged as `demo.fault`.
 *
 * Messages go to the first topic pattern that names a stream, filled in as
 * `demo`/`temperature` (`sensors/demo/temperature` by default). Without a
 * broker, or when no pattern names a stream, readings go to `sink.ingest`
 * with source "demo".
 */
// first: the MQTT packages' `debug` loggers made free before they load (quiet_debug.ts)
import "./quiet_debug.ts";
import mqtt from "mqtt";
import type { Logger } from "../log.ts";
import type { Reading } from "../domain/reading.ts";
import type { IngestSink } from "./ingest_sink.ts";
import { roomTemperature } from "../model/room_temperature.ts";
import { resolvesWithin } from "../async/resolves_within.ts";
import { compileTopicPatterns, matchTopic } from "./topics.ts";
import { type BrokerConnection, connectOptions } from "./mqtt_source.ts";

const DAY_MS = 86_400_000;

/** What the demo source needs of the daemon: the sink, and where a restored stream left off. */
export interface DemoSink extends IngestSink {
  /** The time of stream `id`'s newest reading (ms), or null: unknown stream, or no reading yet. */
  lastReading(id: string): number | null;
}

/** Options of startDemoSource; every optional field has the default it names. */
export interface DemoSourceOptions {
  /** Where readings go without a broker (and where the demo stream's last reading is read). */
  sink: DemoSink;
  /** The broker to publish to, or null: straight to sink.ingest. */
  broker: BrokerConnection | null;
  /**
   * Resolves when the daemon's MQTT source has subscribed: a broker delivers
   * only to subscriptions made before a message, so the demo waits for it.
   * Default: already resolved.
   */
  subscribed?: Promise<void>;
  /** The configured topic patterns. */
  topics: readonly string[];
  log: Logger;
  /** Stream id. Default "demo". */
  stream?: string;
  /** Value name. Default "temperature". */
  value?: string;
  /** Real time between live readings, ms. Default 1000. */
  intervalMs?: number;
  /** Simulated time between readings, ms. Default 300,000 (5 minutes). */
  stepMs?: number;
  /** Readings of history sent first to a new demo stream. Default 576 (2 days). */
  backlog?: number;
  /** How far in the past a new demo stream starts, days. Default 30. */
  startDaysAgo?: number;
  /** Live readings before the first fault. Default 20. */
  firstFaultAfter?: number;
  /** Live readings between faults. Default 90. */
  faultEvery?: number;
  seed?: number;
  now?: () => number;
}

/** A running demo sensor. */
export interface DemoSource {
  /** The topic it publishes to, or null when it calls sink.ingest. */
  readonly topic: string | null;
  readonly stream: string;
  /** Readings sent so far (backlog included). */
  readonly sent: number;
  /** Resolves when the backlog has been sent. */
  readonly warmedUp: Promise<void>;
  close(): Promise<void>;
}

/** A topic of `patterns` that names `stream` (and `value` where a level says so), or null. */
export function demoTopic(
  patterns: readonly string[],
  stream: string,
  value: string,
): { topic: string; namesValue: boolean } | null {
  const compiled = compileTopicPatterns(patterns);
  for (const p of compiled) {
    if (!p.hasStream) continue;
    const topic = p.levels.map((l) =>
      l.kind === "literal"
        ? l.text
        : l.kind === "stream"
        ? stream
        : l.kind === "value"
        ? value
        : l.kind === "any"
        ? "demo"
        : null
    ).filter((s) => s !== null).join("/");
    // the first pattern matching a topic wins: it must be this one, naming this stream
    const m = matchTopic(compiled, topic);
    if (m && m.pattern === p && m.stream === stream) return { topic, namesValue: p.hasValue };
  }
  return null;
}

/**
 * Starts the simulated sensor; see the module comment. Returns at once: the
 * connection, the wait for `subscribed` and the backlog go on in the
 * background (`warmedUp`), so a broker that is down delays the demo, not the
 * daemon.
 */
export function startDemoSource(opts: DemoSourceOptions): DemoSource {
  const log = opts.log.child({ source: "demo" });
  const stream = opts.stream ?? "demo";
  const value = opts.value ?? "temperature";
  const intervalMs = opts.intervalMs ?? 1000;
  const stepMs = opts.stepMs ?? 300_000;
  const now = opts.now ?? Date.now;
  const firstFault = opts.firstFaultAfter ?? 20;
  const faultEvery = opts.faultEvery ?? 90;
  const sensor = roomTemperature(opts.seed ?? 1);

  const target = opts.broker ? demoTopic(opts.topics, stream, value) : null;
  if (opts.broker && !target) {
    log.warn("demo.no_topic", {
      topics: opts.topics,
      hint: "no topic pattern names a stream; the demo feeds the service directly",
    });
  }
  // publishes wait in MQTT.js until it is connected
  const client = target && opts.broker
    ? mqtt.connect(opts.broker.url, {
      ...connectOptions(opts.broker),
      clientId: `forecastd-demo-${crypto.randomUUID().slice(0, 8)}`,
      clean: true,
      reconnectPeriod: 2000,
    })
    : null;
  let lastError = "";
  client?.on("error", (e) => {
    if (e.message !== lastError) log.warn("demo.mqtt_error", { error: e.message });
    lastError = e.message;
  });

  // Where simulated time starts: after the restored stream's last reading, or in the past.
  const known = opts.sink.lastReading(stream);
  let ts = known !== null
    ? known + stepMs
    : Math.floor(now() / DAY_MS) * DAY_MS - (opts.startDaysAgo ?? 30) * DAY_MS;
  const backlog = known !== null ? 0 : opts.backlog ?? 576;
  let sent = 0;
  let live = 0;
  let fault: { kind: "spike" | "drift"; left: number; step: number } | null = null;
  let faults = 0;

  /** The next simulated reading, with any fault applied. */
  const next = (isLive: boolean): Reading => {
    // the sensor's daily cycle follows the simulated time of day
    let v = sensor(Math.round(ts / stepMs));
    if (isLive) {
      if (!fault && live >= firstFault && (live - firstFault) % faultEvery === 0) {
        const kind = faults++ % 2 === 0 ? "spike" : "drift";
        fault = { kind, left: kind === "spike" ? 3 : 8, step: 0 };
        log.info("demo.fault", {
          stream,
          kind,
          readings: fault.left,
          at: new Date(ts).toISOString(),
        });
      }
      if (fault) {
        fault.step++;
        v += fault.kind === "spike" ? 4.5 : 0.8 * fault.step;
        if (--fault.left === 0) fault = null;
      }
      live++;
    }
    const r = { stream, ts, values: { [value]: Math.round(v * 1000) / 1000 } };
    ts += stepMs;
    return r;
  };

  const send = async (readings: Reading[]): Promise<void> => {
    sent += readings.length;
    if (!client || !target) {
      const result = await opts.sink.ingest(readings, "demo");
      for (const r of result.rejected) log.warn("demo.rejected", { ...r });
      return;
    }
    const items = readings.map((r) =>
      target.namesValue ? { value: r.values[value], ts: r.ts } : { ...r.values, ts: r.ts }
    );
    const payload = JSON.stringify(items.length === 1 ? items[0] : items);
    await client.publishAsync(target.topic, payload, { qos: 1 });
  };

  let closed = false;
  let markClosed!: () => void;
  const closedSignal = new Promise<void>((resolve) => markClosed = resolve);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const warmedUp = (async () => {
    await Promise.race([opts.subscribed, closedSignal]);
    if (backlog > 0 && !closed) {
      log.info("demo.backlog", { stream, readings: backlog, from: new Date(ts).toISOString() });
      for (let i = 0; i < backlog && !closed; i += 96) {
        const batch: Reading[] = [];
        for (let j = i; j < Math.min(backlog, i + 96); j++) batch.push(next(false));
        await send(batch);
      }
    }
  })();

  const tick = async () => {
    timer = undefined;
    if (closed) return;
    try {
      await send([next(true)]);
    } catch (e) {
      if (!closed) log.warn("demo.publish_failed", { error: e });
    }
    if (!closed) timer = setTimeout(tick, delay());
  };
  /** Faster than real time until simulated time reaches the clock, then at its pace. */
  const delay = () => Math.max(intervalMs, ts - now());
  warmedUp.then(() => {
    if (!closed) timer = setTimeout(tick, delay());
  }, (e) => log.error("demo.backlog_failed", { error: e }));

  let closing: Promise<void> | null = null;
  return {
    topic: target?.topic ?? null,
    stream,
    get sent() {
      return sent;
    },
    warmedUp,
    close() {
      closing ??= (async () => {
        closed = true;
        markClosed();
        if (timer !== undefined) clearTimeout(timer);
        // the backlog stops after its current batch (bounded: the broker may be gone)
        await resolvesWithin(warmedUp.catch(() => {}), 2000);
        await client?.endAsync(!client.connected);
      })();
      return closing;
    },
  };
}
