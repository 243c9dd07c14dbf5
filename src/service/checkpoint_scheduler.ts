/**
 * When the streams' checkpoints are saved, and the promise that comes with
 * it: after a crash, at most `every` readings of a stream are lost (those
 * taken since its last saved checkpoint), as long as saves succeed.
 *
 * - A stream with `every / 2` (rounded up) unsaved readings asks for a save
 *   of the streams that are due; the other half of the bound is the room for
 *   the readings that arrive while that save is written. Streams with
 *   `every / 4` go along, so that streams fall into step and share commits.
 * - A stream with `every` unsaved readings takes no more until a save has
 *   made room: `room(id)` is what the ingest path awaits before such a
 *   reading. So a slow disk slows ingest down instead of breaking the bound.
 * - Every `seconds`, every changed stream is saved.
 * - Saves run one at a time; each packs every stream it saves (checkpoint and
 *   config) into as few commits as Deno KV allows (`store.saveCheckpoints`),
 *   in batches of about `batchBytes` (2 MiB) held one at a time, each in KV
 *   before the next one's snapshots (a save cut short keeps what it wrote);
 *   snapshots yield to the event loop every `sliceMs`, and so does the
 *   store's work on a batch (StoreOptions' `sliceMs`).
 * - A stream that becomes due while a save runs is that save's next batch,
 *   with the others that did meanwhile (then the save goes on), and `room()`
 *   resolves once a batch made room: a stream of a big batch does not wait
 *   for the periodic save of every stream to end, and neither do the other
 *   streams' readings queued behind it (the ingest queue takes its items in
 *   order). A batch holds a stream once (the store takes it once): it ends
 *   before one it took urgently and meets again at its own place, and the
 *   next batch takes that one again only if it is due again (`every / 2`
 *   unsaved readings): a save takes a stream's snapshot once, as it would
 *   have at its own place, and the readings after it wait for the next save
 *   (a stream fed as fast as the others was saved twice a save, the second
 *   time for a few readings).
 * - The streams with the most unsaved learning go first: those never saved
 *   (created, or started afresh, since the daemon started: `created(id)`),
 *   most readings first; then by the age of their last saved checkpoint,
 *   oldest first. A final save the timer cuts loses the least.
 * - A save that fails is logged, counted, and retried with exponential
 *   back-off; nothing is lost from memory, every stream stays changed, and
 *   no promise of it ever rejects. While saves fail, `room()` does not hold
 *   readings back (forecastd keeps taking readings on a full disk): the
 *   readings beyond the bound are counted, and the bound holds again after
 *   the next successful save.
 *
 * Longer than 500 lines: the bound, the saves' order and batches, the due
 * streams taken during a save and the back-off are one state machine over
 * the same per-stream state; apart, each part would reach into the others'.
 */
import type { Logger } from "../log.ts";
import { showValue } from "../domain/show_value.ts";
import {
  CheckpointConflictError,
  type CheckpointEntry,
  type SaveCheckpointsResult,
} from "../store/store.ts";
import { BackOff, type BackOffOptions } from "./back_off.ts";
import { nextTurn, turnWanted } from "../async/next_turn.ts";

/** Options of CheckpointScheduler; every field has the default it names. */
export interface CheckpointSchedulerOptions {
  /** The crash-loss bound: most readings of a stream not yet in a saved checkpoint. Default 500. */
  every?: number;
  /** Every changed stream is saved at least this often, seconds. Default 60. */
  seconds?: number;
  /** Back-off between the retries of a failed save. Default 1 s doubling to 60 s. */
  retry?: BackOffOptions;
  /** Longest run of snapshot taking before it yields to the event loop, ms. Default 10. */
  sliceMs?: number;
  /** Checkpoint bytes a save takes (and holds) before it writes them and goes on. Default 2 MiB. */
  batchBytes?: number;
}

/** The defaults of CheckpointSchedulerOptions. */
export const CHECKPOINT_SCHEDULER_DEFAULTS = Object.freeze({
  every: 500,
  seconds: 60,
  sliceMs: 10,
  batchBytes: 2 * 1024 * 1024,
});

/** What the scheduler saves through: the store's batch save. */
export interface CheckpointSink {
  saveCheckpoints(entries: CheckpointEntry[]): Promise<SaveCheckpointsResult>;
}

/** Where the scheduler takes a stream's checkpoint from. */
export interface CheckpointSource {
  /** Stream `id`'s checkpoint bytes and config now, or null if it is gone; may throw. */
  snapshot(id: string): { bytes: Uint8Array; config: unknown } | null;
}

/** The counters the scheduler keeps (the service's, shown in /metrics). */
export interface CheckpointCounters {
  /** Stream checkpoints saved. */
  checkpoints: number;
  /** Saves (and stream snapshots) that failed. */
  checkpointFailures: number;
  /** Deno KV commits made by saves. */
  checkpointCommits: number;
  /** Readings taken while their stream already had `every` unsaved ones (only while saves fail). */
  readingsBeyondLossBound: number;
}

/** What the scheduler needs. */
export interface CheckpointSchedulerDeps {
  store: CheckpointSink;
  source: CheckpointSource;
  log: Logger;
  counters: CheckpointCounters;
  /** The clock of `oldestUnsaved()`, ms since the epoch. Default Date.now. */
  now?: () => number;
  /** Told after each batch of a save is in KV, with how many streams it saved. Default none. */
  saved?: (streams: number) => void;
}

/** One stream's save state. */
interface StreamState {
  /** Changes so far (readings, config, catch-up training). */
  changes: number;
  /** `changes` when the last saved checkpoint was taken. */
  savedChanges: number;
  /** Readings taken since the last saved checkpoint was taken. */
  unsaved: number;
  /** Its snapshot failed: retries of it back off on their own, the other streams go on. */
  backOff: BackOff | null;
  /** When its next snapshot may be tried (performance.now() ms), after a failed one. */
  retryAt: number;
  /** When its oldest change not in a saved checkpoint was made (the clock's ms), NaN if none. */
  dirtySince: number;
  /**
   * When the snapshot of its last saved checkpoint was taken (the clock's
   * ms): -Infinity when KV holds no checkpoint of it that restores (see
   * `created()`); the scheduler's start for a stream restored at start.
   */
  savedAt: number;
}

/** Which streams a save takes: every changed one, or those with `every / 2` unsaved readings. */
type Scope = "all" | "due";
type Done = Record<"streams" | "commits", number>; // what a save wrote

/** Throws unless `v` is a number in range; `what` names it for the message. */
function check(name: string, v: unknown, ok: boolean, rule: string): void {
  if (!ok) {
    throw new RangeError(
      `Cannot create checkpoint scheduler: ${name} must be ${rule}: current value is ${
        showValue(v)
      }`,
    );
  }
}

/** Decides when to save and saves; see the module comment. */
export class CheckpointScheduler {
  readonly every: number;
  readonly seconds: number;
  /** Unsaved readings of a stream that ask for a save: `every / 2`, rounded up. */
  readonly trigger: number;
  /** Unsaved readings of a stream that join a save another stream asked for: `trigger / 2`. */
  readonly #along: number;
  readonly #sliceMs: number;
  readonly #batchBytes: number;
  /** When the scheduler was made: what a restored stream's checkpoint holds goes up to it. */
  readonly #startedAt: number;
  readonly #deps: CheckpointSchedulerDeps;
  readonly #now: () => number;
  readonly #streams = new Map<string, StreamState>();
  /**
   * Streams with unsaved changes, and the oldest of their changes (NaN:
   * to be found again, after a save or a forget): kept as they change, so
   * that the workers' stats (every reply, every second) do not walk every
   * stream.
   */
  #dirty = 0;
  #oldest = NaN;
  readonly #retry: BackOffOptions;
  /** Back-off of whole saves (a failed commit). */
  readonly #backOff: BackOff;
  /** The running save loop, or null. */
  #running: Promise<void> | null = null;
  /** The save under way in that loop, or null. */
  #current: Promise<boolean> | null = null;
  /** What the running loop must save once more when its save ends. */
  #again: Scope | null = null;
  /** Streams that became due while a save ran: the next batch of that save takes them first. */
  readonly #urgent = new Set<string>();
  /** Resolves when the running save's next batch is written (or fails). */
  #written: Promise<void>;
  #wrote: () => void = () => {};
  /** Callers of save() waiting for a save that starts after their call. */
  #waiters: ((saved: boolean) => void)[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(deps: CheckpointSchedulerDeps, options: CheckpointSchedulerOptions = {}) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.every = options.every ?? CHECKPOINT_SCHEDULER_DEFAULTS.every;
    this.seconds = options.seconds ?? CHECKPOINT_SCHEDULER_DEFAULTS.seconds;
    this.#sliceMs = options.sliceMs ?? CHECKPOINT_SCHEDULER_DEFAULTS.sliceMs;
    this.#batchBytes = options.batchBytes ?? CHECKPOINT_SCHEDULER_DEFAULTS.batchBytes;
    this.#startedAt = this.#now();
    check(
      "every",
      this.every,
      Number.isSafeInteger(this.every) && this.every >= 1,
      "a positive integer",
    );
    check("seconds", this.seconds, this.seconds > 0, "a positive number");
    check("sliceMs", this.#sliceMs, this.#sliceMs > 0, "a positive number");
    check("batchBytes", this.#batchBytes, this.#batchBytes > 0, "a positive number");
    this.trigger = Math.ceil(this.every / 2);
    this.#along = Math.ceil(this.trigger / 2);
    this.#retry = options.retry ?? {};
    this.#backOff = new BackOff(this.#retry);
    this.#written = new Promise((resolve) => (this.#wrote = resolve));
  }

  /** Whether the last save failed (a retry is scheduled). */
  get failing(): boolean {
    return this.#backOff.failures > 0;
  }

  /** Stream `id` changed: `readings` more readings taken (0: its config or model changed). */
  changed(id: string, readings = 0): void {
    let st = this.#streams.get(id);
    if (!st) {
      st = {
        changes: 0,
        savedChanges: 0,
        unsaved: 0,
        backOff: null,
        retryAt: 0,
        dirtySince: NaN,
        savedAt: this.#startedAt,
      };
      this.#streams.set(id, st);
    }
    if (st.changes === st.savedChanges) {
      st.dirtySince = this.#now();
      // a first dirty stream is the oldest; with others, the oldest is known unless NaN
      this.#oldest = this.#dirty === 0 ? st.dirtySince : Math.min(this.#oldest, st.dirtySince);
      this.#dirty++;
    }
    st.changes++;
    if (readings > 0) {
      if (st.unsaved >= this.every) this.#deps.counters.readingsBeyondLossBound += readings;
      st.unsaved += readings;
      if (st.unsaved >= this.trigger) {
        if (this.#running) this.#urgent.add(id);
        this.#kick("due");
      }
    }
  }

  /**
   * Stream `id` has no checkpoint in KV that restores (created, rebuilt, or
   * started afresh): it changed, and it goes first in the saves until one
   * saves it.
   */
  created(id: string): void {
    this.changed(id);
    this.#streams.get(id)!.savedAt = -Infinity;
  }

  /** Streams with changes not yet in a saved checkpoint. */
  get unsavedStreams(): number {
    return this.#dirty;
  }

  /**
   * When the oldest change not yet in a saved checkpoint was made (ms of the
   * clock), or null when every change is saved: what a crash now would lose
   * goes back to it.
   */
  oldestUnsaved(): number | null {
    if (this.#dirty === 0) return null;
    if (Number.isNaN(this.#oldest)) {
      let oldest = Infinity;
      for (const st of this.#streams.values()) {
        if (st.changes !== st.savedChanges && st.dirtySince < oldest) oldest = st.dirtySince;
      }
      this.#oldest = oldest;
    }
    return this.#oldest;
  }

  /** Forgets stream `id` (deleted): nothing more of it is saved. */
  forget(id: string): void {
    const st = this.#streams.get(id);
    if (st && st.changes !== st.savedChanges) {
      this.#dirty--;
      this.#oldest = NaN;
    }
    this.#streams.delete(id);
  }

  /** Readings of `id` taken since its last saved checkpoint was taken. */
  unsaved(id: string): number {
    return this.#streams.get(id)?.unsaved ?? 0;
  }

  /** Whether a reading of `id` must wait for `room(id)`: `every` unsaved readings, saves working. */
  full(id: string): boolean {
    const st = this.#streams.get(id);
    return st !== undefined && st.unsaved >= this.every && st.backOff === null && !this.failing &&
      !this.#stopped;
  }

  /**
   * Resolves once stream `id` has fewer than `every` unsaved readings (a save
   * made room), or at once when saves are failing or the scheduler stopped.
   */
  async room(id: string): Promise<void> {
    while (this.full(id)) {
      if (this.#running) this.#urgent.add(id);
      this.#kick("due", true);
      await Promise.race([this.#running, this.#written]);
    }
  }

  /**
   * Saves every changed stream, in a save that starts after this call (after
   * the one running, if any). Resolves with whether it succeeded; never
   * rejects. Runs even while a retry waits out its back-off.
   */
  save(): Promise<boolean> {
    const done = new Promise<boolean>((resolve) => this.#waiters.push(resolve));
    this.#kick("all", true);
    return done;
  }

  /** Starts the periodic save (every `seconds`). */
  start(): void {
    this.#timer ??= setInterval(() => this.#kick("all"), this.seconds * 1000);
  }

  /**
   * Stops the periodic save and the retries, and resolves when the running
   * save has ended. `save()` still works after it: the final save.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#retryTimer);
    this.#timer = this.#retryTimer = undefined;
    await this.#running;
  }

  /** Resolves when no save is running. */
  async settled(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /**
   * Resolves when the save under way now (if any) has ended: the saves
   * after it take no snapshot of a stream forgotten before they start.
   */
  async currentSave(): Promise<void> {
    await this.#current;
  }

  /** Starts a save of `scope` now, or after the running one; during back-off only if `now`. */
  #kick(scope: Scope, now = false): void {
    if (this.#running) {
      if (this.#again !== "all") this.#again = scope;
      return;
    }
    if (!now && (this.failing || this.#stopped)) return; // the retry timer, or close(), will save
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#running = this.#loop(scope);
  }

  async #loop(first: Scope): Promise<void> {
    let scope: Scope | null = first;
    try {
      // streams that become due in this turn of the event loop join this save
      await nextTurn();
      if (this.#again === "all") scope = "all";
      while (scope !== null) {
        this.#again = null;
        const waiters = this.#waiters.splice(0);
        // save() asks for everything, even streams waiting out their own back-off
        this.#current = this.#saveOnce(waiters.length > 0 ? "all" : scope, waiters.length > 0);
        const saved = await this.#current;
        this.#current = null;
        // after a failure, the callers who came meanwhile learn of it too (and may call again)
        for (const w of saved ? waiters : [...waiters, ...this.#waiters.splice(0)]) w(saved);
        if (this.failing) {
          // a commit failed: everything is tried again after the back-off
          if (!this.#stopped) {
            this.#retryTimer = setTimeout(() => {
              this.#retryTimer = undefined;
              this.#kick("all", true);
            }, this.#backOff.delayMs);
          }
          return;
        }
        scope = this.#waiters.length > 0 ? "all" : this.#again;
      }
    } finally {
      this.#running = null;
    }
  }

  /**
   * One save of the streams of `scope` (with `retryNow`, also those whose
   * snapshot failed lately), the most unsaved learning first, in batches of
   * about `batchBytes`; resolves with whether every one was saved. Only a
   * failed commit makes the whole scheduler back off (the streams after it
   * are left for the retry).
   */
  async #saveOnce(scope: Scope, retryNow: boolean): Promise<boolean> {
    const { source, log, counters } = this.#deps;
    const now = performance.now();
    const todo: [string, StreamState][] = [];
    for (const [id, st] of this.#streams) {
      if (st.changes === st.savedChanges) continue;
      // streams half-way to due go along: they share this save's commits now instead of
      // asking for a save of their own a few readings later (streams fall into step)
      if (scope === "due" && st.unsaved < this.#along) continue;
      if (!retryNow && st.retryAt > now) continue;
      todo.push([id, st]);
    }
    todo.sort(([, a], [, b]) => a.savedAt - b.savedAt || b.unsaved - a.unsaved);
    let snapshotFailed = false;
    const done: Done = { streams: 0, commits: 0 }; // logged once, when the save ends
    // the streams this save took a snapshot of: met again (at their own place after an urgent
    // batch), each is taken again only if it is due again, not for the readings since
    const took = new Set<string>();
    let deadline = performance.now() + this.#sliceMs;
    let k = 0;
    while (k < todo.length || this.#urgent.size > 0) {
      // the streams that became due meanwhile go first; one also left in todo is saved
      // there again only if it changed since (below)
      const urgent: [string, StreamState][] = [];
      for (const id of this.#urgent) {
        const st = this.#streams.get(id);
        if (st !== undefined && st.changes !== st.savedChanges) urgent.push([id, st]);
      }
      this.#urgent.clear();
      todo.splice(k, 0, ...urgent);
      // they go in a batch of their own: what waits for room waits for their commit alone
      const end = urgent.length > 0 ? k + urgent.length : todo.length;
      const entries: CheckpointEntry[] = [];
      const taken: Taken[] = [];
      const held = new Set<string>(); // the streams of this batch
      let bytes = 0;
      while (k < end && bytes < this.#batchBytes) {
        const [id, st] = todo[k];
        // taken urgently, met again at its own place (a batch that cut the urgent ones short
        // took the rest of them with what follows): the batch ends before it
        if (held.has(id)) break;
        k++;
        // saved since (taken urgently) and not changed, or changed but not due again
        if (st.changes === st.savedChanges) continue;
        if (took.has(id) && st.unsaved < this.trigger) continue;
        // (a request waiting for the thread ends the slice too: next_turn.ts turnWanted)
        if (performance.now() >= deadline || turnWanted()) {
          await nextTurn();
          deadline = performance.now() + this.#sliceMs;
          if (this.#streams.get(id) !== st) continue; // deleted meanwhile
        }
        try {
          const snap = source.snapshot(id);
          if (!snap) continue;
          entries.push({ id, bytes: snap.bytes, config: snap.config });
          held.add(id);
          took.add(id);
          taken.push({ id, st, changes: st.changes, readings: st.unsaved, at: this.#now() });
          bytes += snap.bytes.byteLength;
          st.backOff = null;
          st.retryAt = 0;
        } catch (error) {
          // this stream stays changed and is tried again after its own back-off; the others go on
          snapshotFailed = true;
          counters.checkpointFailures++;
          st.backOff ??= new BackOff(this.#retry);
          const retryInMs = st.backOff.failed();
          st.retryAt = performance.now() + retryInMs;
          log.error("checkpoint.snapshot_failed", { stream: id, error, retryInMs });
        }
      }
      if (entries.length === 0) continue;
      // the store's work on the batch (in slices of its own) follows no more than half a slice
      // of snapshots without a turn between
      if (performance.now() >= deadline - this.#sliceMs / 2) await nextTurn();
      if (!await this.#write(entries, taken, done)) return false;
      deadline = performance.now() + this.#sliceMs;
    }
    if (done.commits > 0) log.debug("checkpoint.saved", { ...done, scope });
    return !snapshotFailed;
  }

  /** Writes one batch of a save, adding what it saved to `done`; resolves with whether all was. */
  async #write(entries: CheckpointEntry[], taken: Taken[], done: Done): Promise<boolean> {
    try {
      return await this.#writeBatch(entries, taken, done);
    } finally {
      // room() looks again
      const wrote = this.#wrote;
      this.#written = new Promise((resolve) => (this.#wrote = resolve));
      wrote();
    }
  }

  async #writeBatch(entries: CheckpointEntry[], taken: Taken[], done: Done): Promise<boolean> {
    const { store, log, counters } = this.#deps;
    let saved: Set<string>;
    let commits = 0;
    let error: unknown = null;
    try {
      const result = await store.saveCheckpoints(entries);
      saved = new Set(taken.map((t) => t.id));
      commits = result.commits;
    } catch (e) {
      error = e;
      // another writer replaced some: the rest were saved
      saved = e instanceof CheckpointConflictError
        ? new Set(taken.map((t) => t.id).filter((id) => !e.streams.includes(id)))
        : new Set();
      if (e instanceof CheckpointConflictError) commits = e.result.commits;
    }
    for (const t of taken) {
      if (!saved.has(t.id)) continue;
      // (a stream deleted meanwhile is no longer counted among the dirty)
      if (this.#streams.get(t.id) === t.st && t.changes === t.st.changes) this.#dirty--;
      this.#oldest = NaN;
      t.st.savedChanges = Math.max(t.st.savedChanges, t.changes);
      t.st.unsaved = Math.max(0, t.st.unsaved - t.readings);
      t.st.savedAt = t.at;
      // changes made after its snapshot are unsaved: they are no older than the snapshot
      t.st.dirtySince = t.st.changes === t.st.savedChanges ? NaN : t.at;
    }
    counters.checkpoints += saved.size;
    counters.checkpointCommits += commits;
    if (saved.size > 0) this.#deps.saved?.(saved.size);
    done.streams += saved.size;
    done.commits += commits;
    if (error === null) {
      this.#backOff.succeeded();
      return true;
    }
    counters.checkpointFailures++;
    const retryInMs = this.#backOff.failed();
    log.error("checkpoint.failed", {
      streams: entries.length,
      saved: saved.size,
      error,
      retryInMs,
    });
    return false;
  }
}

/** A stream whose snapshot a save took: what it saves of the stream's state. */
interface Taken {
  id: string;
  st: StreamState;
  /** The stream's `changes` at the snapshot. */
  changes: number;
  /** Its unsaved readings at the snapshot. */
  readings: number;
  /** When the snapshot was taken (the clock's ms). */
  at: number;
}
