/**
 * A shard worker's counters (ShardStats) as it sends them with every reply
 * and every second: their numbers in one Float64Array, and the refusals by
 * reason only when they changed since the worker last sent them (null
 * otherwise); the main thread makes the ShardStats object again only when
 * it is read (/metrics, /healthz).
 *
 * As an object of objects they were some fifteen objects and their keys
 * for the main thread's structured clone to make with every reply, and an
 * MQTT message of one reading is often a batch of its own: at 2,000 streams
 * at 1 reading/s the replies were some 460 bytes a reading of the main
 * thread's allocations, which its collector then pays for (BENCHMARKS.md,
 * "eighth round (mainheap)").
 *
 * ```ts
 * const packer = new StatsPacker(); // in the worker
 * post({ type: "stats", stats: packer.pack(stats(service)) });
 * const unpacker = new StatsUnpacker(); // on the main thread
 * unpacker.take(m.stats);
 * unpacker.stats?.counters.readings.mqtt;
 * ```
 */
import { type Source, SOURCES } from "../ingest/ingest_sink.ts";
import type { ShardStats } from "./shard_protocol.ts";

/** Where each number is in `numbers`. */
const AT = {
  checkpoints: 4,
  checkpointFailures: 5,
  checkpointCommits: 6,
  readingsBeyondLossBound: 7,
  trainingShed: 8,
  trainingCaughtUp: 9,
  /** NaN for null. */
  checkpointedAt: 10,
  unsavedStreams: 11,
  queued: 12,
  readings: 13,
  learned: 14,
  observeSeconds: 15,
  alerts: 16,
  recoveries: 17,
  idleMs: 18,
} as const;
const LENGTH = 19;

/** ShardStats as they cross; see the module comment. */
export interface PackedStats {
  /** readings by source (mqtt, ws, http, demo), then the fields of AT in its order. */
  numbers: Float64Array;
  /** Refused readings by reason, or null: the same as the worker last sent. */
  rejects: Record<string, number> | null;
}

/** A worker's side: packs its counters, with the refusals only when they changed. */
export class StatsPacker {
  /** The refusals' total when last sent (-1: never sent). */
  #rejected = -1;

  pack(s: ShardStats): PackedStats {
    const x = new Float64Array(LENGTH);
    const c = s.counters;
    for (let i = 0; i < SOURCES.length; i++) x[i] = c.readings[SOURCES[i]] ?? 0;
    x[AT.checkpoints] = c.checkpoints;
    x[AT.checkpointFailures] = c.checkpointFailures;
    x[AT.checkpointCommits] = c.checkpointCommits;
    x[AT.readingsBeyondLossBound] = c.readingsBeyondLossBound;
    x[AT.trainingShed] = c.trainingShed;
    x[AT.trainingCaughtUp] = c.trainingCaughtUp;
    x[AT.checkpointedAt] = c.checkpointedAt ?? NaN;
    x[AT.unsavedStreams] = s.unsavedStreams;
    x[AT.queued] = s.queued;
    const l = s.learning;
    x[AT.readings] = l.readings;
    x[AT.learned] = l.learned;
    x[AT.observeSeconds] = l.observeSeconds;
    x[AT.alerts] = l.alerts;
    x[AT.recoveries] = l.recoveries;
    x[AT.idleMs] = s.idleMs;
    // the counts only grow: the same total is the same refusals
    let rejected = 0;
    for (const k in s.rejects) rejected += s.rejects[k];
    const changed = rejected !== this.#rejected;
    this.#rejected = rejected;
    return { numbers: x, rejects: changed ? s.rejects : null };
  }
}

/** The main thread's side: the last counters a worker sent, as ShardStats when read. */
export class StatsUnpacker {
  #numbers: Float64Array | null = null;
  #rejects: Record<string, number> = {};
  #stats: ShardStats | null = null;

  /** Takes the counters of a worker's message. */
  take(p: PackedStats): void {
    this.#numbers = p.numbers;
    if (p.rejects !== null) this.#rejects = p.rejects;
    this.#stats = null;
  }

  /** The last counters taken, or null before any. */
  get stats(): ShardStats | null {
    const x = this.#numbers;
    if (x === null || this.#stats !== null) return this.#stats;
    const readings = {} as Record<Source, number>;
    for (let i = 0; i < SOURCES.length; i++) readings[SOURCES[i]] = x[i];
    return this.#stats = {
      counters: {
        readings,
        checkpoints: x[AT.checkpoints],
        checkpointFailures: x[AT.checkpointFailures],
        checkpointCommits: x[AT.checkpointCommits],
        readingsBeyondLossBound: x[AT.readingsBeyondLossBound],
        trainingShed: x[AT.trainingShed],
        trainingCaughtUp: x[AT.trainingCaughtUp],
        checkpointedAt: Number.isNaN(x[AT.checkpointedAt]) ? null : x[AT.checkpointedAt],
      },
      unsavedStreams: x[AT.unsavedStreams],
      rejects: this.#rejects,
      learning: {
        readings: x[AT.readings],
        learned: x[AT.learned],
        observeSeconds: x[AT.observeSeconds],
        alerts: x[AT.alerts],
        recoveries: x[AT.recoveries],
      },
      queued: x[AT.queued],
      idleMs: x[AT.idleMs],
    };
  }
}
