/**
 * The one queue every reading goes through, so that no amount of them keeps
 * the daemon from answering: batches are worked through item by item, in the
 * order they came, in slices of at most `sliceMs` of work; between slices
 * the event loop runs (requests are answered, sockets read, timers fire).
 *
 * - A batch handed in while the queue is idle is done at once, within the
 *   slice of the current turn of the event loop: a small batch on a quiet
 *   daemon is done before `push()` returns (its promise resolves at once).
 *   Whatever does not fit goes on in later turns.
 * - Before each item, `gate(item)` may hand back a promise: the item waits
 *   for it (the checkpoint bound: a stream that must wait for a save). With
 *   `key(item)` (the stream), only the items of its key wait: they are set
 *   aside, in order, the later items of that key join them, and the queue
 *   goes on with the other keys' items; once the promise settles, the items
 *   set aside go first, in their order. Without `key`, the whole queue
 *   waits. A batch resolves once every item of it is done, so a batch with
 *   items set aside may resolve after the batches behind it.
 * - A batch pushed with `yields` (a piece of a big part a shard worker is
 *   sent: src/shard/ingest_outbox.ts) may be overtaken: a later batch that
 *   does not yield goes before the yielding batches at the end of the queue
 *   (the one under way too: its items left wait) when none of their items
 *   left has a key of its items (with `key`: a stream's readings keep their
 *   order), and while each of them has been overtaken by fewer items than
 *   it holds (a big part still gets at least half of the work); once its
 *   items are looked at, the slice ends (its answer then goes at once, not
 *   after the pieces' work in the same slice). So a source's small message
 *   waits for the slice under way, not for the pieces ahead of it
 *   (docs/scaling.md, "the hops of a reader's reading"); and while a
 *   yielding batch waits, the slices are half as long (`sliceMs / 2`).
 * - A slice also ends, once it has done an item, when a request waits for the
 *   thread (next_turn.ts turnWanted: a shard worker's read), taken after it.
 * - The cost of an item: `msPerItem` is the time `apply` took an item in
 *   the last slices (the lower quartile of the last 16 slices' means: a
 *   slice during which the thread waited for a core counts in its own mean,
 *   not in the figure), what a caller sizes its batches by.
 * - When the queue is empty, `idle(deadline)` may use the spare time of a
 *   slice (the catch-up of shed training).
 * - At most `maxQueued` items wait; a batch beyond that is refused with a
 *   QueueFullError, so memory stays bounded (the caller answers "retry
 *   later"). A batch of a source that waits for each answer before it sends
 *   more may be let in over the limit (`force`): that source adds at most
 *   one batch at a time.
 *
 * ```ts
 * const queue = new IngestQueue<Reading, Result>({ apply: (r, i, result) => take(r, result) });
 * const result = await queue.push(readings, { accepted: 0, rejected: [] });
 * ```
 */
import { showValue } from "../domain/show_value.ts";
import { nextTurn, turnWanted } from "../async/next_turn.ts";

/** Options of IngestQueue; every field has the default it names. */
export interface IngestQueueOptions {
  /** Longest run of work before the queue yields to the event loop, ms. Default 10. */
  sliceMs?: number;
  /** Most items waiting: a batch that would pass it is refused. Default 50,000. */
  maxQueued?: number;
}

/** The defaults of IngestQueueOptions. */
export const INGEST_QUEUE_DEFAULTS: Readonly<Required<IngestQueueOptions>> = Object.freeze({
  sliceMs: 10,
  maxQueued: 50_000,
});

/** How a batch is pushed; every field has the default it names. */
export interface PushOptions {
  /** Called once as the queue comes to the batch's first item (a trace's hop). Default none. */
  started?: () => void;
  /** Whether later batches of other keys may go before it (see the module comment). Default false. */
  yields?: boolean;
}

/** The work the queue does. */
export interface QueueWork<T, C> {
  /** Does item `index` of a batch, whose context is `ctx`; synchronous. A throw fails the batch. */
  apply(item: T, index: number, ctx: C): void;
  /** Before an item: a promise to wait for first, or null to go on. */
  gate?(item: T, ctx: C): Promise<unknown> | null;
  /**
   * The key whose items keep their order (a reading's stream): an item that
   * waits at its gate holds back the later items of its key alone. Without
   * it, an item at its gate holds back the whole queue.
   */
  key?(item: T): string;
  /**
   * Called when no item waits: may work until `deadline` (performance.now()
   * ms); returns whether it has more to do.
   */
  idle?(deadline: number): boolean;
}

/** A batch the queue has no room for. */
export class QueueFullError extends Error {
  constructor(readonly waiting: number, readonly size: number, readonly maxQueued: number) {
    super(
      `Cannot queue readings: at most ${maxQueued} may wait (maxQueuedReadings): current count is ${waiting} waiting and ${size} in this message; retry later`,
    );
    this.name = "QueueFullError";
  }
}

interface Batch<T, C> {
  items: readonly T[];
  ctx: C;
  /** The next item to look at: those before it are done or set aside. */
  next: number;
  /** Items not yet done (set aside ones too). */
  left: number;
  /** An apply threw: the batch is rejected, its items left are dropped. */
  failed: boolean;
  queuedAt: number;
  /** Called once, as the queue comes to the batch's first item (a trace's hop). */
  started: (() => void) | undefined;
  /** Later batches may go before it (PushOptions.yields); and by how many items they did. */
  yields: boolean;
  overtaken: number;
  /** It went before yielding batches pushed before it. */
  jumped: boolean;
  resolve: (ctx: C) => void;
  reject: (e: unknown) => void;
}

/** An item set aside at its key's gate. */
interface Held<T, C> {
  item: T;
  index: number;
  batch: Batch<T, C>;
}

/** Slices whose mean cost an item `msPerItem` is taken from. */
const COST_SLICES = 16;

/** The queue; see the module comment. */
export class IngestQueue<T, C> {
  readonly sliceMs: number;
  readonly maxQueued: number;
  readonly #work: QueueWork<T, C>;
  /** Batches whose items are not all looked at yet, oldest first. */
  readonly #batches: Batch<T, C>[] = [];
  /** Items waiting (not yet done, set aside ones too). */
  #waiting = 0;
  /** Batches not yet resolved or rejected. */
  #open = 0;
  /** Items set aside by key, in order, while their key's gate is shut. */
  readonly #held = new Map<string, Held<T, C>[]>();
  /** Keys whose gate opened: their items set aside go first. */
  readonly #opened: string[] = [];
  /** End of the current turn's slice (performance.now() ms); 0: no turn open. */
  #turnEnd = 0;
  #turnTimer: ReturnType<typeof setTimeout> | undefined;
  /** The worker that goes on in later turns, or null. */
  #worker: Promise<void> | null = null;
  #drained: (() => void)[] = [];
  /** See msPerItem; NaN until a slice measured it. */
  #msPerItem = NaN;
  /** The last slices' mean ms an item, a ring of COST_SLICES; and how many were written. */
  readonly #costs = new Float64Array(COST_SLICES);
  #costsWritten = 0;

  constructor(work: QueueWork<T, C>, options: IngestQueueOptions = {}) {
    this.#work = work;
    this.sliceMs = options.sliceMs ?? INGEST_QUEUE_DEFAULTS.sliceMs;
    this.maxQueued = options.maxQueued ?? INGEST_QUEUE_DEFAULTS.maxQueued;
    if (typeof this.sliceMs !== "number" || !(this.sliceMs > 0)) {
      throw new RangeError(
        `Cannot create ingest queue: sliceMs must be a positive number: current value is ${
          showValue(this.sliceMs)
        }`,
      );
    }
    if (!Number.isSafeInteger(this.maxQueued) || this.maxQueued < 1) {
      throw new RangeError(
        `Cannot create ingest queue: maxQueued must be a positive integer: current value is ${
          showValue(this.maxQueued)
        }`,
      );
    }
  }

  /** Items waiting (those set aside at their key's gate too). */
  get length(): number {
    return this.#waiting;
  }

  /**
   * What `apply` took an item lately, ms of wall time: the lower quartile of
   * the last 16 slices' means (so a slice stretched by a wait for a core
   * does not make it); NaN before any slice.
   */
  get msPerItem(): number {
    return this.#msPerItem;
  }

  /**
   * How long the oldest batch that has not started has waited, ms (0 when
   * none waits): how far the queue is behind. The batch being worked on does
   * not count: one big batch alone is not a backlog.
   */
  backlogMs(now = performance.now()): number {
    // batches that went before yielding ones are newer than those: the oldest not started is
    // the first that did not (else the first that did)
    let oldest: Batch<T, C> | undefined;
    for (const b of this.#batches) {
      if (b.next > 0) continue;
      if (!b.jumped) {
        oldest = b;
        break;
      }
      oldest ??= b;
    }
    return oldest ? now - oldest.queuedAt : 0;
  }

  /**
   * Hands in a batch; resolves with `ctx` once `apply` has done every item
   * (rejects with what it threw, if it did). Throws QueueFullError when the
   * batch would make more than `maxQueued` items wait, unless `force`.
   * `how`: a callback as the queue comes to its first item, and whether
   * later batches may go before it (PushOptions).
   */
  push(items: readonly T[], ctx: C, force = false, how: PushOptions = {}): Promise<C> {
    if (items.length === 0) return Promise.resolve(ctx);
    if (!force && this.#waiting + items.length > this.maxQueued && this.#waiting > 0) {
      throw new QueueFullError(this.#waiting, items.length, this.maxQueued);
    }
    const yields = how.yields ?? false;
    const at = yields ? this.#batches.length : this.#placeOf(items);
    const done = new Promise<C>((resolve, reject) => {
      const batch: Batch<T, C> = {
        items,
        ctx,
        next: 0,
        left: items.length,
        failed: false,
        queuedAt: performance.now(),
        started: how.started,
        yields,
        overtaken: 0,
        jumped: at < this.#batches.length,
        resolve,
        reject,
      };
      if (batch.jumped) this.#batches.splice(at, 0, batch);
      else this.#batches.push(batch);
    });
    this.#waiting += items.length;
    this.#open++;
    if (this.#worker === null) this.#runInline();
    return done;
  }

  /**
   * Where a batch of `items` that does not yield goes: before the yielding
   * batches at the end of the queue that it may overtake (none of their
   * items left has one of its keys, each overtaken by fewer items than it
   * holds), which count it; else at the end.
   */
  #placeOf(items: readonly T[]): number {
    const end = this.#batches.length;
    const key = this.#work.key;
    // (the usual case: no piece waits, nothing to look at)
    if (key === undefined || end === 0 || !this.#batches[end - 1].yields) return end;
    let keys: Set<string> | null = null;
    let at = end;
    for (; at > 0; at--) {
      const b = this.#batches[at - 1];
      if (!b.yields || b.overtaken + items.length > b.items.length) break;
      if (keys === null) {
        keys = new Set<string>();
        for (const x of items) keys.add(key(x));
      }
      let shared = false;
      for (let i = b.next; i < b.items.length && !shared; i++) shared = keys.has(key(b.items[i]));
      if (shared) break;
    }
    for (let i = at; i < end; i++) this.#batches[i].overtaken += items.length;
    return at;
  }

  /** Makes the queue look for idle work (after something gave it some). */
  wake(): void {
    if (this.#worker === null && this.#work.idle) this.#worker = this.#goOn(null);
  }

  /**
   * Refuses the batches that have not started and whose context `which`
   * picks (default: all): each rejects with `reason`; the batch under way,
   * if any, and the others go on. Returns how many items that refused.
   */
  refuseWaiting(reason: unknown, which: (ctx: C) => boolean = () => true): number {
    // (a batch under way may be behind one that went before it: PushOptions.yields)
    const keep = this.#batches.filter((b) => b.next > 0 || !which(b.ctx));
    const refused = this.#batches.filter((b) => !keep.includes(b));
    this.#batches.splice(0, this.#batches.length, ...keep);
    let items = 0;
    for (const b of refused) {
      items += b.items.length;
      this.#waiting -= b.items.length;
      this.#open--;
      b.reject(reason);
    }
    this.#settled();
    return items;
  }

  /** Resolves when every batch handed in so far is done (idle work may go on). */
  drain(): Promise<void> {
    if (this.#open === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** Ends the current turn's timer, so nothing of the queue is left pending (after drain()). */
  close(): void {
    clearTimeout(this.#turnTimer);
    this.#turnTimer = undefined;
    this.#turnEnd = 0;
  }

  /**
   * The next slice's length, ms: `sliceMs`, half of it while a yielding
   * batch waits (a big part in pieces: what a message posted to the thread
   * waits for is the slice under way).
   */
  #sliceNow(): number {
    for (const b of this.#batches) if (b.yields) return this.sliceMs / 2;
    return this.sliceMs;
  }

  /** Whether an item may be done now: one not looked at, or one set aside whose gate opened. */
  #ready(): boolean {
    return this.#batches.length > 0 || this.#opened.length > 0;
  }

  /** Works within the current turn's slice, then leaves the rest to the worker. */
  #runInline(): void {
    const now = performance.now();
    if (this.#turnEnd === 0) {
      this.#turnEnd = now + this.#sliceNow();
      // the turn ends when the event loop has had its go
      this.#turnTimer = setTimeout(() => {
        this.#turnEnd = 0;
        this.#turnTimer = undefined;
      }, 0);
    }
    const gate = now < this.#turnEnd ? this.#slice(this.#turnEnd) : null;
    if (this.#ready() || gate !== null) this.#worker = this.#goOn(gate);
    else this.#settled();
  }

  /**
   * The worker: waits for `gate` (if any), then works a slice per turn until
   * nothing is left that may be done now (items set aside wake it again).
   */
  async #goOn(gate: Promise<unknown> | null): Promise<void> {
    try {
      for (;;) {
        if (gate !== null) await gate.catch(() => {});
        else await nextTurn();
        gate = null;
        const deadline = performance.now() + this.#sliceNow();
        if (this.#ready()) gate = this.#slice(deadline);
        if (!this.#ready() && gate === null) {
          if (this.#waiting > 0) break; // only items set aside: their gates wake the queue
          const more = this.#work.idle?.(deadline) ?? false;
          if (!more && !this.#ready()) break;
        }
      }
    } finally {
      this.#worker = null;
      this.#settled();
    }
  }

  /**
   * Does items until `deadline` or a gate that holds the whole queue (no
   * `key`); returns that gate's promise, or null. The items set aside whose
   * gate opened go first, then the batches in order.
   */
  #slice(deadline: number): Promise<unknown> | null {
    const start = performance.now();
    let done = 0;
    let now = start;
    const over = () => now >= deadline || (done > 0 && turnWanted()); // (a request waits)
    try {
      while (this.#opened.length > 0) {
        const key = this.#opened[0];
        const list = this.#held.get(key)!;
        while (list.length > 0) {
          if (over()) return null;
          const h = list[0];
          if (!h.batch.failed) {
            const gate = this.#work.gate?.(h.item, h.batch.ctx) ?? null;
            if (gate !== null) {
              this.#waitAt(key, gate); // shut again: the rest of its items stay aside
              break;
            }
          }
          list.shift();
          done += this.#do(h.batch, h.item, h.index);
          now = performance.now();
        }
        this.#opened.shift();
        if (list.length === 0) this.#held.delete(key);
      }
      const key = this.#work.key;
      while (this.#batches.length > 0) {
        const b = this.#batches[0];
        while (b.next < b.items.length) {
          if (over()) return null;
          if (b.next === 0 && b.started !== undefined) {
            b.started();
            b.started = undefined;
          }
          const item = b.items[b.next];
          if (key !== undefined) {
            // (no key's lookup a reading while nothing is set aside: the usual case)
            const list = this.#held.size === 0 ? undefined : this.#held.get(key(item));
            if (list !== undefined) {
              // its key waits: after the items set aside before it
              list.push({ item, index: b.next++, batch: b });
              continue;
            }
            const gate = this.#work.gate?.(item, b.ctx) ?? null;
            if (gate !== null) {
              const k = key(item);
              this.#held.set(k, [{ item, index: b.next++, batch: b }]);
              this.#waitAt(k, gate);
              continue;
            }
          } else {
            const gate = this.#work.gate?.(item, b.ctx) ?? null;
            if (gate !== null) return gate;
          }
          done += this.#do(b, item, b.next++);
          now = performance.now();
        }
        // every item looked at (done, or set aside)
        if (this.#batches[0] === b) this.#batches.shift();
        // a batch that went before yielding ones: the slice ends, so that its answer (its
        // promise's reactions, after this task) does not wait for the pieces' work
        if (b.jumped && this.#batches.length > 0) return null;
      }
      return null;
    } finally {
      if (done > 0) this.#measured((now - start) / done);
    }
  }

  /** A slice's mean ms an item: msPerItem becomes the lower quartile of the last slices'. */
  #measured(ms: number): void {
    this.#costs[this.#costsWritten++ % COST_SLICES] = ms;
    const n = Math.min(this.#costsWritten, COST_SLICES);
    const sorted = this.#costs.slice(0, n).sort();
    this.#msPerItem = sorted[Math.floor((n - 1) / 4)];
  }

  /** Key `key`'s items wait for `gate`; once it settles they go first (the worker is woken). */
  #waitAt(key: string, gate: Promise<unknown>): void {
    const open = () => {
      this.#opened.push(key);
      if (this.#worker === null) this.#worker = this.#goOn(null);
    };
    gate.then(open, open);
  }

  /** Does one item of `b` (drops it if an earlier item of `b` threw); returns 1 if applied. */
  #do(b: Batch<T, C>, item: T, index: number): number {
    this.#waiting--;
    b.left--;
    if (b.failed) return 0;
    try {
      this.#work.apply(item, index, b.ctx);
    } catch (e) {
      b.failed = true;
      // its items not looked at yet are dropped (those set aside, when their turn comes)
      const rest = b.items.length - b.next;
      this.#waiting -= rest;
      b.left -= rest;
      b.next = b.items.length;
      this.#open--;
      b.reject(e);
      this.#settled();
      return 1;
    }
    if (b.left === 0) {
      this.#open--;
      b.resolve(b.ctx);
      this.#settled();
    }
    return 1;
  }

  #settled(): void {
    if (this.#open === 0) { for (const d of this.#drained.splice(0)) d(); }
  }
}
