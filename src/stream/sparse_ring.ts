/**
 * A ring of `length` numbers that are mostly 0, holding only the slots that
 * are not: the anomaly scorer's onsets and peaks (one slot per reading of
 * the refractory period, 500 by default), of which a stream holds a few
 * records at a time (each one larger than every other in the ring).
 *
 * Dense, two such rings took 8,000 bytes per stream and a scan of 500 slots
 * each per reading; here they take what they hold (12 bytes a slot, room
 * for 8 to begin with, grown by doubling) and a scan of the slots held.
 * `dense()` gives the ring as the Float64Array of `length` it stands for, as
 * checkpoints store it; `load()` takes one back. Any value but +0 is held
 * (-0, NaN and negatives too), so `dense()` gives back every bit that
 * `load()` or `set()` was given.
 *
 * ```ts
 * const r = new SparseRing(500);
 * r.set(3, 2.5);
 * r.maxExcept(7); // 2.5: the largest value above 0 in any slot but 7
 * ```
 */

/** Room for slots a new ring starts with. */
const INITIAL_ROOM = 8;

/** A mostly-zero ring; see the module comment. */
export class SparseRing {
  /** Slots of the ring. */
  readonly length: number;
  /** Slots held, in no order, and their values: the first `count` of each. */
  #slots: Int32Array;
  #values: Float64Array;
  #count = 0;

  constructor(length: number) {
    if (!Number.isSafeInteger(length) || length < 1) {
      throw new RangeError(
        `Cannot make a sparse ring: its length must be a positive integer: current value is ${length}`,
      );
    }
    this.length = length;
    [this.#slots, this.#values] = room(Math.min(INITIAL_ROOM, length));
  }

  /** Slots held (not +0). */
  get count(): number {
    return this.#count;
  }

  /** Bytes its arrays take. */
  get byteLength(): number {
    return this.#slots.byteLength + this.#values.byteLength;
  }

  /** The value of `slot` (0 unless set). */
  get(slot: number): number {
    const i = this.#find(slot);
    return i < 0 ? 0 : this.#values[i];
  }

  /** Sets `slot` to `value`; +0 lets the slot go. */
  set(slot: number, value: number): void {
    const i = this.#find(slot);
    if (Object.is(value, 0)) {
      if (i < 0) return;
      const last = --this.#count;
      this.#slots[i] = this.#slots[last];
      this.#values[i] = this.#values[last];
      return;
    }
    if (i >= 0) {
      this.#values[i] = value;
      return;
    }
    if (this.#count === this.#slots.length) this.#grow();
    this.#slots[this.#count] = slot;
    this.#values[this.#count++] = value;
  }

  /**
   * The largest value above 0 of every slot but `slot` (the one about to be
   * written), 0 when there is none: as a scan of the dense ring from 0 with
   * `>` finds it (NaN and negatives never win).
   */
  maxExcept(slot: number): number {
    let best = 0;
    for (let i = 0; i < this.#count; i++) {
      if (this.#slots[i] !== slot && this.#values[i] > best) best = this.#values[i];
    }
    return best;
  }

  /** The ring as the dense array (`length`) it stands for. */
  dense(): Float64Array {
    const out = new Float64Array(this.length);
    for (let i = 0; i < this.#count; i++) out[this.#slots[i]] = this.#values[i];
    return out;
  }

  /** Holds what the dense array `a` (`length`) holds, and nothing else. */
  load(a: ArrayLike<number>): void {
    if (a.length !== this.length) {
      throw new RangeError(
        `Cannot load a sparse ring: the array must have ${this.length} elements: current length is ${a.length}`,
      );
    }
    this.#count = 0;
    for (let s = 0; s < a.length; s++) if (!Object.is(a[s], 0)) this.set(s, a[s]);
  }

  #find(slot: number): number {
    for (let i = 0; i < this.#count; i++) if (this.#slots[i] === slot) return i;
    return -1;
  }

  #grow(): void {
    const [slots, values] = room(Math.min(2 * this.#slots.length, this.length));
    slots.set(this.#slots);
    values.set(this.#values);
    this.#slots = slots;
    this.#values = values;
  }
}

/** Slots and values for `n` entries, in one buffer. */
function room(n: number): [Int32Array, Float64Array] {
  const buffer = new ArrayBuffer(n * 12);
  return [new Int32Array(buffer, n * 8, n), new Float64Array(buffer, 0, n)];
}
