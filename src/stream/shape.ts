/**
 * The shape detector: a second anomaly detector, independent of the
 * forecasts, that looks at the recent values themselves. It keeps a memory of
 * shapes the stream has shown and scores each new shape by its distance to
 * the nearest one remembered (a streaming nearest-neighbour novelty test over
 * embedded windows, as the best published NAB detectors do), as evidence in
 * nats: -ln of the share of the stream's past distances at least as large.
 *
 * Shape letters: S readings a shape spans, D = 8 blocks of B = S/D readings,
 * J targets, K = 2·D·J coordinates of a shape, M remembered shapes: the
 * preset's `memory` (256 by default, `pi-small` 128) for one target,
 * ⌊memory · 16 / K⌋ (at least min(32, memory)) for more, so that the memory
 * stays near memory · 64 bytes (16 KB for 256: 36 shapes for 7 targets).
 *
 * A shape is the window of the last S normalised values z (the stream's
 * level normaliser: (x - mean) / std) of every target, described per block
 * by two coordinates:
 *
 * - level: the block's mean z;
 * - roughness: ln((r + 0.1·r̄) / (1.1·r̄)) with r the block's median |Δz|
 *   (reading to reading) and r̄ the long-run mean |Δz| of that target: 0
 *   when the block is about as rough as usual, about -2.4 when it is flat (a
 *   stuck sensor), about ln of the factor when the noise grows (a variance
 *   burst, chatter). The median, so that one jump (a level shift, the edge of
 *   a daily pattern, which the levels already show) does not count as
 *   roughness: a phase slightly off would otherwise make every edge novel.
 *
 * Levels and roughness are in units of the stream's own spread, so the
 * distance means the same for every sensor; the evidence compares it only
 * with the stream's own distances anyway. (The time of day as two more
 * coordinates, so that a shape usual at 8:00 would be novel at 3:00, was
 * tried and left out: leave-one-family-out preferred the shape alone, see
 * docs/anomalies_method.md.)
 *
 * The memory: the first M shapes fill it; later ones replace a slot chosen by
 * a hash of their number (uniformly at random, reproducibly), so it holds a
 * sample of the recent past whose age is exponential with mean B·M readings
 * (512 for S = 16: close to two days at one reading per 5 minutes).
 * What the detector learns, it learns late: a shape enters the memory, and
 * its distance the distribution, S readings after it was seen, and only if
 * every reading since was learned (none was inside an open alert). So an
 * anomaly that builds up over a window (a sensor sticking, whose windows
 * turn flat one block at a time) is measured against the shapes from before
 * it, not against its own first stages; and a remembered shape never
 * overlaps the one it is compared with. One shape in B (a block) is
 * remembered.
 *
 * Nothing is remembered or measured during the stream's warm-up (its
 * normaliser settling), and distances count only once the memory is full
 * (M shapes, about B·M readings after the warm-up), so that the first sight
 * of each part of a daily cycle, novel to a memory that has not yet seen a
 * day, is not taken for the stream's ordinary; the evidence is 0 until a
 * day's readings of such distances (at least 30) were counted: the edges of
 * a noise-free daily pattern, say, must have been measured before they can
 * be judged. A new stream raises nothing on its first
 * readings. A gap in the readings (or a rewind) empties the window, which
 * then refills.
 *
 * Per reading O(S·J + M·K) arithmetic on buffers made once (J = 1, M = 256,
 * K = 16: about 4,100 multiply-adds), no allocation but the memory's four doublings while
 * it fills. State: (2S + 1)·J + J +
 * S doubles, M·K floats and the 96-bin histogram: 17,552 bytes for J = 1,
 * S = 16.
 */
import { LOG_TAIL_BINS, LogTail } from "./log_tail.ts";
import { type BlockArena, sharedBlock, typedBlock } from "../model/typed_block.ts";

/** The shape detector's settings (the preset's `anomaly.shape`). */
export interface ShapeOptions {
  /** S: readings a shape spans, a multiple of 8; 0 turns the detector off. */
  window: number;
  /** M with one target: shapes remembered (16 … 256; default SHAPE_MEMORY). */
  memory?: number;
  /** Readings of history the distances' distribution is estimated from (exponential forgetting). */
  history: number;
  /**
   * Readings before the detector remembers or measures anything (the
   * stream's warm-up, while its normaliser settles): shapes normalised by a
   * spread estimated from a few readings would stay in the memory and the
   * distribution as if they were the stream's own.
   */
  warmup: number;
}

/** D: blocks of a shape. */
export const SHAPE_BLOCKS = 8;
/** M: shapes remembered by a single-target detector (K = 16), unless the preset says fewer. */
export const SHAPE_MEMORY = 256;
/** Share of r̄ added to a block's roughness, so that a flat block is far but finite. */
const ROUGH_FLOOR = 0.1;
/** Smallest r̄ (z units): a stream flat so far. */
const MIN_ROUGH = 1e-6;
const DAY_MS = 86_400_000;

/**
 * The detector's arrays of a size known at its start, for J targets and a
 * window of S readings (0: off), in {@link typedBlock} order: its state
 * (ring ((2S + 1)·J), rough (J), pending (S), the scalars (SCALARS)), bins
 * (LOG_TAIL_BINS).
 */
export function shapeBlock(J: number, S: number) {
  return [
    [Float64Array, (S > 0 ? (2 * S + 2) * J + S : 0) + SCALARS],
    [Float64Array, LOG_TAIL_BINS],
  ] as const;
}

/** The detectors' scratch (lagged (K), diffs (S / D), shape (K)): one for every detector of K and S. */
function scratchFor(K: number, S: number): readonly [Float64Array, Float64Array, Float64Array] {
  const k = S > 0 ? K : 0;
  const spec = [[Float64Array, k], [Float64Array, S / SHAPE_BLOCKS], [Float64Array, k]] as const;
  return sharedBlock("shape scratch", spec);
}

/**
 * The detector's numbers, slots at the end of its state (from #scalarsAt): a
 * number field of an object is a heap number of its own once V8 holds it as
 * a double (16 bytes with pointer compression), a slot 8 bytes of the block.
 */
const FILLED = 0,
  HEAD = 1,
  TAKEN = 2,
  REMEMBERED = 3,
  USED = 4,
  LAST_UNLEARNED = 5,
  ROUGH_COUNT = 6,
  PERIOD_MS = 7,
  LAST_TS = 8,
  DISTANCE = 9,
  EVIDENCE = 10,
  SCALARS = 11;

/** Scores shapes of the recent values by their distance to the shapes remembered. */
export class ShapeDetector {
  readonly opts: ShapeOptions;
  /** J: targets. */
  readonly J: number;
  /** K: coordinates of a shape. */
  readonly K: number;
  /** M: shapes remembered, min(memory, ⌊memory · 16 / K⌋) (at least min(32, memory)). */
  readonly M: number;
  /**
   * The state, one array rather than four (a typed array costs a stream
   * about 100 bytes of heap): the ring at 0, rough at #roughAt, pending at
   * #pendingAt, the numbers below at #scalarsAt; views of the first three by
   * name below ({@link ring}, {@link rough}, {@link pending}), made per call.
   */
  readonly state: Float64Array;
  readonly #roughAt: number;
  readonly #pendingAt: number;
  readonly #scalarsAt: number;
  /**
   * (M, K) the remembered shapes, held up to the slots in use (`used`,
   * growing by doubling from 16 shapes): a young stream holds a few shapes,
   * not 16 KB of zeros. A checkpoint holds the whole (M, K) array
   * (`memoryLength`), the slots not used as trailing zeros.
   */
  memory: Float32Array;
  /** (LOG_TAIL_BINS) histogram of ln distance. */
  readonly bins: Float64Array;
  readonly tail: LogTail;
  /**
   * Scratch: the shape S readings ago (K), a block's sorted |Δz| (B), the
   * current shape (K), shared by every detector of the same K and S (they
   * update one at a time).
   */
  readonly #lagged: Float64Array;
  readonly #diffs: Float64Array;
  readonly #shape: Float64Array;
  /** Readings in the window since the last reset (at most 2S + 1). (This and the numbers below are slots of the state.) */
  get filled(): number {
    return this.state[this.#scalarsAt + FILLED];
  }
  set filled(v: number) {
    this.state[this.#scalarsAt + FILLED] = v;
  }
  get head(): number {
    return this.state[this.#scalarsAt + HEAD];
  }
  set head(v: number) {
    this.state[this.#scalarsAt + HEAD] = v;
  }
  /** Readings taken (n, the reading number). */
  get taken(): number {
    return this.state[this.#scalarsAt + TAKEN];
  }
  set taken(v: number) {
    this.state[this.#scalarsAt + TAKEN] = v;
  }
  /** Shapes remembered. */
  get remembered(): number {
    return this.state[this.#scalarsAt + REMEMBERED];
  }
  set remembered(v: number) {
    this.state[this.#scalarsAt + REMEMBERED] = v;
  }
  /** Slots of the memory in use. */
  get used(): number {
    return this.state[this.#scalarsAt + USED];
  }
  set used(v: number) {
    this.state[this.#scalarsAt + USED] = v;
  }
  /** The number of the last reading not learned from. */
  get lastUnlearned(): number {
    return this.state[this.#scalarsAt + LAST_UNLEARNED];
  }
  set lastUnlearned(v: number) {
    this.state[this.#scalarsAt + LAST_UNLEARNED] = v;
  }
  /** Readings that r̄ averages (its rate is 1 / min(roughCount, history)). */
  get roughCount(): number {
    return this.state[this.#scalarsAt + ROUGH_COUNT];
  }
  set roughCount(v: number) {
    this.state[this.#scalarsAt + ROUGH_COUNT] = v;
  }
  /** The sampling period, from the first two timestamps (NaN before). */
  get periodMs(): number {
    return this.state[this.#scalarsAt + PERIOD_MS];
  }
  set periodMs(v: number) {
    this.state[this.#scalarsAt + PERIOD_MS] = v;
  }
  get lastTs(): number {
    return this.state[this.#scalarsAt + LAST_TS];
  }
  set lastTs(v: number) {
    this.state[this.#scalarsAt + LAST_TS] = v;
  }
  // outputs of the last update()
  /** Distance to the nearest remembered shape (NaN before a window is full). */
  get distance(): number {
    return this.state[this.#scalarsAt + DISTANCE];
  }
  set distance(v: number) {
    this.state[this.#scalarsAt + DISTANCE] = v;
  }
  /** Evidence (nats) of that distance. */
  get evidence(): number {
    return this.state[this.#scalarsAt + EVIDENCE];
  }
  set evidence(v: number) {
    this.state[this.#scalarsAt + EVIDENCE] = v;
  }

  /**
   * `arena`: where to cut the arrays of a size known at the start
   * ({@link shapeBlock}) from; default, a buffer of their own. The memory,
   * which grows, always has its own.
   */
  constructor(targets: number, opts: ShapeOptions, arena?: BlockArena) {
    const S = opts.window;
    if (!Number.isInteger(S) || S < 0 || S % SHAPE_BLOCKS !== 0) {
      throw new RangeError(
        `Cannot create shape detector: the window must be 0 or a positive multiple of ${SHAPE_BLOCKS}: current value is ${S}`,
      );
    }
    this.opts = opts;
    this.J = targets;
    this.K = 2 * SHAPE_BLOCKS * targets;
    const memory = opts.memory ?? SHAPE_MEMORY;
    // the memory holds at most memory · 2D coordinates: several targets remember fewer shapes
    const floats = memory * 2 * SHAPE_BLOCKS;
    this.M = Math.max(Math.min(32, memory), Math.min(memory, Math.floor(floats / this.K)));
    this.memory = new Float32Array(0);
    [this.state, this.bins] = typedBlock(shapeBlock(targets, S), arena);
    this.#roughAt = S > 0 ? (2 * S + 1) * targets : 0;
    this.#pendingAt = this.#roughAt + (S > 0 ? targets : 0);
    [this.#lagged, this.#diffs, this.#shape] = scratchFor(this.K, S);
    this.#scalarsAt = this.state.length - SCALARS;
    this.state.fill(NaN, this.#pendingAt, this.#scalarsAt);
    this.lastUnlearned = -1;
    this.periodMs = NaN;
    this.lastTs = NaN;
    this.distance = NaN;
    this.tail = new LogTail(opts.history, 30, this.bins);
  }

  /** The last 2S + 1 readings' z per target, (2S + 1, J) ring; slot `head` is the newest (a view). */
  get ring(): Float64Array {
    return this.state.subarray(0, this.#roughAt);
  }

  /** r̄ (J): the long-run mean |Δz| per target (a view). */
  get rough(): Float64Array {
    return this.state.subarray(this.#roughAt, this.#pendingAt);
  }

  /** (S) the distances of the last S readings, not yet counted (NaN: none), by reading number mod S (a view). */
  get pending(): Float64Array {
    return this.state.subarray(this.#pendingAt, this.#scalarsAt);
  }

  /** The length of the whole memory (M · K, 0 when off), as a checkpoint holds it. */
  get memoryLength(): number {
    return this.enabled ? this.M * this.K : 0;
  }

  /**
   * Takes a whole memory (M · K, as a checkpoint holds it), keeping its
   * first `slots` shapes (those in use) and any after them not all zeros.
   */
  loadMemory(all: Float32Array, slots: number): void {
    let end = all.length;
    while (end > slots * this.K && Object.is(all[end - 1], 0)) end--;
    this.memory = all.slice(0, Math.ceil(end / this.K) * this.K);
  }

  /** Whether the detector runs at all. */
  get enabled(): boolean {
    return this.opts.window > 0;
  }

  /** Whether the last reading was scored: a full window, a full memory, enough distances. */
  get ready(): boolean {
    return this.used === this.M && this.tail.total >= this.#minDistances() &&
      Number.isFinite(this.distance);
  }

  /**
   * Distances counted before the evidence means something: a day's readings
   * (at least 30), so that every part of a daily cycle has been measured.
   */
  #minDistances(): number {
    const day = this.periodMs > 0 ? DAY_MS / this.periodMs : 288;
    return Math.max(this.tail.minCount, Math.min(day, this.opts.history / 2));
  }

  /** Empties the window (a gap or a rewind): the next readings refill it. */
  resetWindow(): void {
    this.filled = 0;
    this.lastTs = NaN;
  }

  /** The z of target j, k readings before the newest at `head` (k <= 2S; the head read once by the caller). */
  #z(head: number, k: number, j: number): number {
    const R = 2 * this.opts.window + 1;
    return this.state[((head - k + R) % R) * this.J + j];
  }

  /**
   * Takes one reading: the targets' normalised values z (J) at ts (ms).
   * `learn` false (inside an open anomaly) keeps this reading, and the shapes
   * and distances of the S readings before it, out of the memory and the
   * distribution. Sets `distance` and `evidence`; returns the evidence.
   */
  update(z: ArrayLike<number>, ts: number, learn: boolean): number {
    this.evidence = 0;
    this.distance = NaN;
    if (!this.enabled) return 0;
    const S = this.opts.window, J = this.J, R = 2 * S + 1;
    if (Number.isNaN(this.periodMs) && Number.isFinite(this.lastTs) && ts > this.lastTs) {
      this.periodMs = ts - this.lastTs;
    }
    this.lastTs = ts;
    const n = this.taken++;
    if (!learn) this.lastUnlearned = n;
    const warm = n >= this.opts.warmup;
    const head = (this.head + 1) % R;
    this.head = head;
    const st = this.state, rough = this.#roughAt, pending = this.#pendingAt;
    for (let j = 0; j < J; j++) st[head * J + j] = z[j];
    if (this.filled < R) this.filled++;
    // r̄: the long-run mean |Δz| of each target
    if (this.filled >= 2 && learn && warm) {
      this.roughCount++;
      const rate = 1 / Math.min(this.roughCount, this.opts.history);
      for (let j = 0; j < J; j++) {
        st[rough + j] += rate *
          (Math.abs(this.#z(head, 0, j) - this.#z(head, 1, j)) - st[rough + j]);
      }
    }
    // what was seen S readings ago is learned now, if every reading since was
    const old = st[pending + n % S];
    const clean = this.lastUnlearned < n - S;
    if (clean && Number.isFinite(old)) this.tail.add(old);
    st[pending + n % S] = NaN;
    // (the shape S readings ago, if it began after the warm-up)
    if (
      clean && n - 2 * S >= this.opts.warmup && this.filled === R &&
      (n - S) % (S / SHAPE_BLOCKS) === 0
    ) {
      this.#embed(S, this.#lagged);
      this.#remember(this.#lagged);
    }
    if (this.filled < S + 1 || !warm) return 0;
    this.#embed(0, this.#shape);
    const d = this.#nearest();
    this.distance = d;
    if (this.used === this.M && Number.isFinite(d)) {
      if (this.tail.total >= this.#minDistances()) this.evidence = this.tail.evidence(d);
      st[pending + n % S] = d;
    }
    return this.evidence;
  }

  /** The shape of the window ending `lag` readings before the newest into e (K). */
  #embed(lag: number, e: Float64Array): void {
    const S = this.opts.window, J = this.J, B = S / SHAPE_BLOCKS;
    const diffs = this.#diffs, head = this.head;
    let k = 0;
    for (let j = 0; j < J; j++) {
      const rbar = Math.max(this.state[this.#roughAt + j], MIN_ROUGH);
      for (let b = 0; b < SHAPE_BLOCKS; b++) {
        // block b covers readings lag+S-1-b·B .. lag+S-B-b·B before the newest, oldest block first
        let sum = 0;
        for (let i = 0; i < B; i++) {
          const back = lag + S - 1 - (b * B + i);
          const v = this.#z(head, back, j);
          sum += v;
          // insertion into the sorted |Δz| of the block
          const d = Math.abs(v - this.#z(head, back + 1, j));
          let p = i;
          while (p > 0 && diffs[p - 1] > d) {
            diffs[p] = diffs[p - 1];
            p--;
          }
          diffs[p] = d;
        }
        const r = B % 2 ? diffs[(B - 1) / 2] : (diffs[B / 2 - 1] + diffs[B / 2]) / 2;
        e[k++] = sum / B;
        e[k++] = Math.log((r + ROUGH_FLOOR * rbar) / ((1 + ROUGH_FLOOR) * rbar));
      }
    }
  }

  /** Distance from the current shape to the nearest remembered shape (Infinity if none). */
  #nearest(): number {
    const K = this.K, m = this.memory, e = this.#shape, used = this.used;
    let best = Infinity;
    for (let s = 0; s < used; s++) {
      let d2 = 0;
      const off = s * K;
      for (let k = 0; k < K && d2 < best; k++) {
        const diff = e[k] - m[off + k];
        d2 += diff * diff;
      }
      if (d2 < best) best = d2;
    }
    return Math.sqrt(best);
  }

  /** Remembers shape e (K) in a free slot, or in place of a random one. */
  #remember(e: Float64Array): void {
    let slot: number;
    if (this.used < this.M) slot = this.used++;
    else {
      // a reproducible uniform choice: the golden-ratio hash of the count
      slot = Math.floor(((this.remembered * 0.6180339887498949) % 1) * this.M);
    }
    this.remembered++;
    if ((slot + 1) * this.K > this.memory.length) {
      const shapes = Math.min(this.M, Math.max(16, slot + 1, 2 * this.memory.length / this.K));
      const next = new Float32Array(shapes * this.K);
      next.set(this.memory);
      this.memory = next;
    }
    this.memory.set(e, slot * this.K);
  }
}
