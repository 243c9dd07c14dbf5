/**
 * The feed bench/warm_window.ts and bench/worker_spread.ts give one Service
 * in process: bench/scale.ts's devices, stream k's reading n a daily sine
 * (288 steps of 5 minutes) offset by k, each stream's readings as MQTT
 * messages of `perMessage`.
 *
 * ```ts
 * await feedFirst(service, ids);
 * for (let n = 1; n < last; n += perMessage) await feedStep(service, ids, n, perMessage, last);
 * ```
 */
import type { Service } from "../src/service/service.ts";

const STEP = 300_000;
const START = Date.UTC(2025, 0, 1);

/** bench/scale.ts's device k's reading n (its default 5-minute step). */
function value(k: number, n: number): number {
  return Math.round((20 + 3 * Math.sin((2 * Math.PI * n) / 288) + k * 0.01) * 1000) / 1000;
}

/** Each stream's first reading (n = 0), a message each: the streams are created. */
export async function feedFirst(s: Service, ids: readonly string[]): Promise<void> {
  for (const [k, id] of ids.entries()) {
    await s.ingest([{ stream: id, ts: START, values: { value: value(k, 0) } }], "mqtt");
  }
}

/** Readings n up to `n + perMessage` (and below `last`) of every stream, a message a stream. */
export async function feedStep(
  s: Service,
  ids: readonly string[],
  n: number,
  perMessage: number,
  last: number,
): Promise<void> {
  for (const [k, id] of ids.entries()) {
    const batch = [];
    for (let m = n; m < Math.min(n + perMessage, last); m++) {
      batch.push({ stream: id, ts: START + m * STEP, values: { value: value(k, m) } });
    }
    await s.ingest(batch, "mqtt");
  }
}
