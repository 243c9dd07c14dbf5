/**
 * Streams in their steady state for `bench/scale.ts --part=footprint
 * --steady`: a stream that has run for days holds its season profile and its
 * shape detector's memory whole, which a bench of a few minutes never
 * reaches. `seedSteadyState()` builds `variants` streams in process, feeds
 * each `readings` readings `periodMs` apart (two days at one reading a
 * second by default: a daily season of 86,400 readings, kept as bucket
 * means, seen twice), and writes their checkpoints under the bench's stream
 * ids (`s0` … `s<streams - 1>`, stream k a copy of variant k mod `variants`)
 * into the daemon's KV file through the daemon's own store, as its saves
 * write them. The daemon then restores them at start-up and the bench goes
 * on publishing each stream's readings from where its checkpoint ended.
 *
 * The readings: `deviceValue(k, n, periodMs)`, a daily cycle with noise,
 * reading n of stream k at `start + n · periodMs`; the seeded ones are
 * n = −readings … −1, the bench publishes n = 0, 1, … (both the same
 * function of k mod `variants` and n, so a stream goes on as it was fed).
 */
import { Engine } from "../src/stream/engine.ts";
import { getPreset } from "../src/stream/preset.ts";
import { Store } from "../src/store/store.ts";
import type { StreamRecord } from "../src/service/stream_record.ts";
import { ownCpu } from "./proc_stats.ts";

/** Distinct seeded streams the bench's streams are copies of. */
export const VARIANTS = 4;
const DAY_MS = 86_400_000;

/** A uniform number in [0, 1) from two integers (a reproducible hash). */
function uniform(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/**
 * Reading n of stream k, as its device writes it (3 decimals): a daily cycle
 * of ±3 around 20, a level of its own and noise of sd about 0.1, the same
 * for every stream of one variant (k mod VARIANTS).
 */
export function deviceValue(k: number, n: number, periodMs: number): number {
  const v = k % VARIANTS;
  const noise = (uniform(v, n) + uniform(n, v + 7) - 1) * 0.245;
  const x = 20 + v * 0.5 + 3 * Math.sin((2 * Math.PI * n * periodMs) / DAY_MS) + noise;
  return Math.round(x * 1000) / 1000;
}

/** How to seed the daemon's KV file. */
export interface SteadyOptions {
  /** The bench's streams: ids s0 … s<streams − 1>. */
  streams: number;
  /** The preset name of every stream. */
  preset: string;
  /** Reading n is stamped start + n · periodMs. */
  start: number;
  periodMs: number;
  /** Readings each seeded stream was fed (default: two days' worth). */
  readings?: number;
  /**
   * A directory that keeps the seeded KV file (named after the streams, the
   * preset, the period and the readings) and copies it from there when it
   * is already in it: seeding 10,000 streams takes minutes. Default: none.
   */
  cacheDir?: string;
}

/**
 * What seeding took: CPU seconds feeding, the checkpoint's bytes (null when
 * copied from `cacheDir`), seconds writing.
 */
export interface SteadyResult {
  readingsPerStream: number;
  feedCpuSeconds: number;
  checkpointBytes: number | null;
  writeSeconds: number;
}

/**
 * The checkpoint of variant v of `preset` fed `readings` readings (default:
 * two days' worth) `periodMs` apart, the last at start − periodMs.
 */
export function steadyCheckpoint(
  v: number,
  preset: string,
  start: number,
  periodMs: number,
  readings = Math.round((2 * DAY_MS) / periodMs),
): Uint8Array {
  const engine = new Engine();
  const s = engine.create("seed", { preset: getPreset(preset), columns: ["v"], targets: ["v"] });
  for (let n = -readings; n < 0; n++) {
    engine.observe("seed", start + n * periodMs, [deviceValue(v, n, periodMs)]);
  }
  return s.toBytes();
}

/** Writes `o.streams` steady-state checkpoints into `<dataDir>/forecastd.kv`. */
export async function seedSteadyState(dataDir: string, o: SteadyOptions): Promise<SteadyResult> {
  const readings = o.readings ?? Math.round((2 * DAY_MS) / o.periodMs);
  const kept = o.cacheDir &&
    `${o.cacheDir}/steady-${o.streams}-${o.preset}-${o.start}-${o.periodMs}-${readings}.kv`;
  if (kept) {
    try {
      const t0 = performance.now();
      await Deno.copyFile(kept, `${dataDir}/forecastd.kv`);
      return {
        readingsPerStream: readings,
        feedCpuSeconds: 0,
        checkpointBytes: null,
        writeSeconds: Math.round(performance.now() - t0) / 1000,
      };
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  const result = await seed(dataDir, o, readings);
  if (kept) {
    await Deno.mkdir(o.cacheDir!, { recursive: true });
    await Deno.copyFile(`${dataDir}/forecastd.kv`, kept);
  }
  return result;
}

async function seed(dataDir: string, o: SteadyOptions, readings: number): Promise<SteadyResult> {
  const c0 = ownCpu();
  const bytes = Array.from(
    { length: VARIANTS },
    (_, v) => steadyCheckpoint(v, o.preset, o.start, o.periodMs, readings),
  );
  const feedCpuSeconds = ownCpu() - c0;
  const t0 = performance.now();
  const kv = await Deno.openKv(`${dataDir}/forecastd.kv`);
  try {
    const store = new Store(kv);
    const now = Date.now();
    for (let k0 = 0; k0 < o.streams; k0 += 500) {
      const entries = [];
      for (let k = k0; k < Math.min(o.streams, k0 + 500); k++) {
        const config: StreamRecord = {
          id: `s${k}`,
          preset: o.preset,
          columns: ["v"],
          targets: ["v"],
          periodMs: null,
          frozen: false,
          createdAt: now,
          updatedAt: o.start - o.periodMs,
        };
        entries.push({ id: config.id, bytes: bytes[k % VARIANTS], config });
      }
      await store.saveCheckpoints(entries);
    }
  } finally {
    kv.close();
  }
  return {
    readingsPerStream: readings,
    feedCpuSeconds: Math.round(feedCpuSeconds * 10) / 10,
    checkpointBytes: bytes[0].byteLength,
    writeSeconds: Math.round(performance.now() - t0) / 1000,
  };
}
