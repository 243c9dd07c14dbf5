/**
 * The big batches the fairness test and bench/scale.ts's healthz part send:
 * one 10,000-reading HTTP body and a 1 MiB WebSocket message or MQTT payload
 * of readings, each over a few streams of its own, times from START on.
 */
import { START, STEP } from "./_daemon.ts";

/** `n` readings `{"stream", "ts", "values": {name: ...}}` over `streams`, in time order. */
export function httpBatch(n: number, streams: readonly string[], name = "v"): unknown[] {
  return Array.from({ length: n }, (_, i) => ({
    stream: streams[i % streams.length],
    ts: START + Math.floor(i / streams.length) * STEP,
    values: { [name]: 20 + Math.sin(i / 40) },
  }));
}

/**
 * Readings over `streams` with two values and an RFC 3339 time each, as many
 * as fit `bytes` of JSON, at most `max` (the default batch limit is 10,000):
 * about 8,500 in 1 MiB.
 */
export function bytesBatch(bytes: number, streams: readonly string[], max = 10_000): unknown[] {
  const out: unknown[] = [];
  for (let i = 0, size = 2; i < max; i++) {
    const r = {
      stream: streams[i % streams.length],
      ts: new Date(START + Math.floor(i / streams.length) * STEP).toISOString(),
      values: { temperature: 20 + Math.sin(i / 40), humidity: 40 + Math.cos(i / 30) },
    };
    size += JSON.stringify(r).length + 1;
    if (size > bytes) break;
    out.push(r);
  }
  return out;
}
