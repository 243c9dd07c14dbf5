/**
 * What the service does when readings come faster than the models learn:
 * it sheds learning, never readings.
 *
 * - Shed: when the ingest queue's backlog (how long the oldest batch not
 *   yet started has waited) is longer than `shedAfterMs`, a reading is
 *   taken with its stream frozen for that one observe: it is scored,
 *   alerted on and forecast from at once, but no expert learns from it (the
 *   engine's own "score but do not learn" switch; the engine is unchanged,
 *   so a replay through it, bench/identity.ts, is not affected).
 * - Owe: a stream with an LSTM owes one TBPTT update per `k1` shed readings,
 *   at most one window of them (more would only fit the same window again).
 * - Catch up: in idle time (the queue is empty) a stream pays what it owes,
 *   once it has learned a whole new window since it last shed, with extra
 *   updates over that window (`trainer.update()`), unless learning is paused
 *   (an open alert, frozen).
 *
 * The counters (`trainingShed`, `trainingCaughtUp`) are the service's.
 */
import type { StreamModel } from "../stream/stream.ts";
import { turnWanted } from "../async/next_turn.ts";

/** What the shedder counts. */
export interface SheddingCounters {
  /** Readings taken without learning. */
  trainingShed: number;
  /** LSTM updates made up in idle time. */
  trainingCaughtUp: number;
}

/** Shed learning a stream owes: readings shed, and its learned count at the last one. */
interface Owed {
  readings: number;
  learnedAt: number;
}

/** Sheds learning under overload and catches up after; see the module comment. */
export class TrainingShedder {
  readonly #counters: SheddingCounters;
  readonly #shedAfterMs: number;
  readonly #owed = new Map<string, Owed>();
  #shedding: string | null = null;

  /** `shedAfterMs`: the backlog (ms) above which learning is shed; Infinity: never. */
  constructor(counters: SheddingCounters, shedAfterMs: number) {
    this.#counters = counters;
    this.#shedAfterMs = shedAfterMs;
  }

  /** The stream whose reading is being taken with its learning shed right now, or null. */
  get shedding(): string | null {
    return this.#shedding;
  }

  /**
   * Whether a reading of `stream` taken now has its learning shed: the
   * backlog (ms) is longer than `shedAfterMs` and the stream is not frozen
   * anyway. When not, the caller may observe it directly, without
   * {@link take} (and without making a closure per reading).
   */
  sheds(stream: StreamModel, backlogMs: number): boolean {
    return !stream.frozen && backlogMs > this.#shedAfterMs;
  }

  /**
   * Takes a reading of `stream` through `observe`: as it is when the
   * backlog is short (or the stream is frozen anyway), with learning shed
   * when it is longer than `shedAfterMs`. Returns what `observe` returned.
   */
  take<T>(id: string, stream: StreamModel, backlogMs: number, observe: () => T): T {
    if (!this.sheds(stream, backlogMs)) return observe();
    stream.frozen = true;
    this.#shedding = id;
    try {
      return observe();
    } finally {
      stream.frozen = false;
      this.#shedding = null;
      this.#owe(id, stream);
    }
  }

  /** Whether stream `id` owes updates that idle time could pay now. */
  owes(id: string, stream: StreamModel): boolean {
    const owed = this.#owed.get(id);
    return owed !== undefined && this.#due(stream, owed);
  }

  /** Forgets stream `id` (deleted or rebuilt). */
  forget(id: string): void {
    this.#owed.delete(id);
  }

  /**
   * Idle time: makes up the updates streams owe until `deadline`
   * (performance.now() ms); `get` finds a stream's model, `changed` hears of
   * each stream whose model an update changed. Returns whether it has more
   * to do now. A request waiting for the thread (next_turn.ts turnWanted)
   * ends it after one update, as it ends the ingest queue's slices.
   */
  catchUp(
    deadline: number,
    get: (id: string) => StreamModel | undefined,
    changed: (id: string) => void,
  ): boolean {
    let more = false;
    let updates = 0;
    for (const [id, owed] of this.#owed) {
      const s = get(id);
      const trainer = s?.trainer;
      if (!s || !trainer || owed.readings <= 0) {
        this.#owed.delete(id);
        continue;
      }
      if (!this.#due(s, owed)) continue;
      if (performance.now() >= deadline || (updates > 0 && turnWanted())) return true;
      updates++;
      trainer.update();
      owed.readings -= trainer.k1;
      this.#counters.trainingCaughtUp++;
      changed(id);
      if (owed.readings <= 0) this.#owed.delete(id);
      else more = true;
    }
    return more;
  }

  /** Counts a shed reading, and the update it owes (one window's worth at most). */
  #owe(id: string, stream: StreamModel): void {
    this.#counters.trainingShed++;
    if (!stream.trainer) return;
    const most = stream.preset.model.window * stream.trainer.k1;
    const owed = this.#owed.get(id);
    if (owed) {
      owed.readings = Math.min(most, owed.readings + 1);
      owed.learnedAt = stream.learnedReadings;
    } else this.#owed.set(id, { readings: 1, learnedAt: stream.learnedReadings });
  }

  /** Learning, a window in the trainer, and a fresh window learned since the last shed reading. */
  #due(s: StreamModel, owed: Owed): boolean {
    const paused = s.state === "anomaly" || s.state === "frozen";
    return !paused && (s.trainer?.length ?? 0) >= 1 &&
      s.learnedReadings - owed.learnedAt >= s.preset.model.window;
  }
}
