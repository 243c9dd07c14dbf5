/**
 * Lets the event loop run: resolves in a later turn of it, after the I/O
 * that is ready now (requests, socket data, a worker's messages) has been
 * handled. Long work done in slices awaits it between slices, so nothing
 * waits for the whole of it.
 *
 * Two ways to take a turn, one per kind of thread ({@link useTurns}):
 *
 * - `"timer"` (the default, the main thread): a `setTimeout(0)`. It costs
 *   about 3 ms (timers set from timers are clamped to 4 ms, the HTML rule
 *   Deno follows), but nothing cheaper lets Deno's HTTP server answer
 *   between slices: a message over a MessageChannel (0.1 ms) or a
 *   `setImmediate` did not (measured, a request waited 0.3 to 1.1 s behind
 *   10 ms slices yielding by a message, up to 0.33 s by `setImmediate`, and
 *   1 to 34 ms with a timer).
 * - `"immediate"` (a shard worker, which serves no socket): a
 *   `setImmediate`, 0.01 ms a turn, and a timer's turn once at least
 *   {@link TIMER_TURN_MS} went by since the last one. A worker's messages
 *   and timers are taken between `setImmediate` turns (a message posted to
 *   a worker working in 5 ms slices waited 3 ms at the median, 12 to 17 ms
 *   at worst, as with timer turns), and the worker does not idle 4 ms after
 *   each slice; Deno KV's replies come later without the timer's turn (a
 *   commit waited up to 115 ms behind slices taking immediate turns only),
 *   so one of those comes every TIMER_TURN_MS. One piece of work goes on
 *   per turn: when the ingest queue and a checkpoint save both wait for a
 *   turn, each gets one of its own, first come first, and the worker's
 *   messages are taken between them (with a turn for each at once, their
 *   slices ran back to back: a message waited behind both).
 *
 * A thread that sends another one requests it waits for (a shard worker's
 * reads: the main thread) can ask it to turn early: both hold a counter in
 * shared memory ({@link useTurnSignal}), the sender adds one before it posts
 * a request and the receiver takes it off as its handler runs; while it is
 * above 0, {@link turnWanted} is true and the slices end at once (after at
 * least one item), so a request waits for the item under way, not for the
 * rest of a slice (docs/scaling.md, "a read waits for the item under way").
 */

/** How a thread's slices yield; see the module comment. */
export type TurnKind = "timer" | "immediate";

/** Under `"immediate"` turns, the most time between two timer turns, ms. */
export const TIMER_TURN_MS = 25;

let kind: TurnKind = "timer";
let lastTimerTurn = 0;

function timerTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Under immediate turns, the work waiting for its turn, first come first. */
const waiting: (() => void)[] = [];
/** Whether a turn is asked for (one at a time). */
let armed = false;

/** Asks for the next turn: a timer's if TIMER_TURN_MS went by since the last, else an immediate. */
function arm(): void {
  armed = true;
  const now = performance.now();
  if (now - lastTimerTurn >= TIMER_TURN_MS) {
    lastTimerTurn = now;
    // the loop waits for the timer (I/O gets in), then the work goes on as after an immediate
    setTimeout(() => setImmediate(take), 0);
  } else setImmediate(take);
}

/** A turn came: the first waiting goes on, the next waits for a turn of its own. */
function take(): void {
  armed = false;
  const go = waiting.shift();
  if (waiting.length > 0) arm();
  go?.();
}

/** The counter of requests posted to this thread and not yet taken, and its slot; or null. */
let signal: Int32Array | null = null;
let slot = 0;

/**
 * Sets where this thread reads the requests waiting for it: `counts[index]`
 * (shared with the thread that posts them); null: none (turnWanted() false).
 */
export function useTurnSignal(counts: Int32Array | null, index = 0): void {
  signal = counts;
  slot = index;
}

/**
 * Whether a request waits for this thread (its counter above 0): work in
 * slices ends its slice now, once it has done something.
 */
export function turnWanted(): boolean {
  return signal !== null && Atomics.load(signal, slot) > 0;
}

/** Resolves in a later turn of the event loop; see the module comment. */
export function nextTurn(): Promise<void> {
  if (kind === "timer") return timerTurn();
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!armed) arm();
  });
}

/** Sets how this thread's `nextTurn()` yields from now on (a shard worker: `"immediate"`). */
export function useTurns(k: TurnKind): void {
  if (k !== "timer" && k !== "immediate") {
    throw new RangeError(
      `Cannot set turns: the kind must be "timer" or "immediate": current value is ${
        JSON.stringify(k)
      }`,
    );
  }
  kind = k;
  lastTimerTurn = performance.now();
}

/** How this thread's `nextTurn()` yields. */
export function turnKind(): TurnKind {
  return kind;
}

/**
 * Work in slices of `ms`: `due()` once the slice is used up (or a request
 * waits for the thread: turnWanted), `turn()` takes
 * a turn of the event loop (nextTurn) and begins the next, `restart()`
 * begins one now (after an await of I/O, which let the event loop turn).
 *
 * ```ts
 * const slices = new Slices(5);
 * for (const item of items) {
 *   if (slices.due()) await slices.turn();
 *   work(item);
 * }
 * ```
 */
export class Slices {
  #end: number;
  constructor(readonly ms: number) {
    this.#end = performance.now() + ms;
  }
  due(): boolean {
    return performance.now() >= this.#end || turnWanted();
  }
  restart(): void {
    this.#end = performance.now() + this.ms;
  }
  async turn(): Promise<void> {
    await nextTurn();
    this.restart();
  }
}
