/**
 * The empirical upper tail of a positive statistic, as evidence in nats: a
 * histogram of x = ln v (bins of 0.25 from -12 to 12; or x = v itself, for a
 * statistic whose tail is exponential rather than Pareto) that forgets at
 * 1 - 1/history per value added, and
 *
 *   λ(v) = -ln((mass at or above v + 1) / (total + 1))
 *          + (x - e) / σ            (beyond everything seen: x above e, the
 *                                    highest occupied bin's upper edge)
 *
 * with the part of v's own bin above it counted as if uniform within the bin.
 * Beyond the data the tail is extrapolated as an exponential in x (a Pareto
 * tail in v, the peaks-over-threshold estimate) whose scale σ is the mean
 * excess of x over the level the top 5% of the mass lies above, at least one
 * bin (0.25): a statistic whose largest values bunch together makes a value
 * far beyond them very unlikely, one with a long tail less so. (The anomaly
 * scorer's point evidence, src/stream/anomaly.ts, takes the same rule,
 * {@link tailEvidence}, with σ fixed at 1.) Nothing until `minCount` values
 * were added. O(bins) per call, no allocation.
 */
import { DOUBLE_ZERO } from "../model/floats.ts";

/** The histogram's bin width and lower edge, in x. */
export const LOG_TAIL_BIN = 0.25;
export const LOG_TAIL_LO = -12;
const BIN = LOG_TAIL_BIN;
const LN_LO = LOG_TAIL_LO;
/** Bins of ln v from -12 to 12. */
export const LOG_TAIL_BINS = 96;
/** The share of the mass the extrapolation's scale is measured on. */
const TAIL_SHARE = 0.05;

/** {@link tailEvidence}'s doubles for LogTail.evidence() (a call sets, calls and reads it at once). */
const TAIL_IO = new Float64Array(2);

/** The bin of a position in bins (fractional), clamped to the histogram. */
const binOf = (f: number) => Math.min(LOG_TAIL_BINS - 1, Math.max(0, Math.floor(f)));

/**
 * The tail rule (see the module comment) over a histogram of x, `bins`
 * (LOG_TAIL_BINS from index 0; a longer array may hold more after them):
 * takes the histogram's mass from `io[0]` and x from `io[1]`, and writes the
 * evidence (nats) that x is unusually large into `io[1]`. Beyond every x
 * seen it adds (x - e) / σ, σ being `sigma` or, when that is undefined, the
 * histogram's own {@link tailScale}. LogTail.evidence() and the anomaly
 * scorer's point evidence (σ = 1) both take it. O(bins), no allocation.
 *
 * The doubles travel in `io`, not as arguments and a result: a double passed
 * to a call V8 does not inline, or returned from one, is a new heap number,
 * and the scorer's call (from its large #score) is not inlined: 48 bytes a
 * reading (bench/scorer_alloc.ts).
 */
export function tailEvidence(bins: Float64Array, io: Float64Array, sigma?: number): void {
  const total = io[0], x = io[1];
  // (the position and its bin as two numbers: a [bin, position] pair was a new array a call)
  const f = (x - LN_LO) / BIN, b = binOf(f);
  let above = 0, top = -1;
  for (let i = LOG_TAIL_BINS - 1; i > b; i--) {
    above += bins[i];
    if (top < 0 && bins[i] > 0) top = i;
  }
  // the part of x's own bin above it (uniform within the bin)
  above += bins[b] * Math.min(1, Math.max(0, b + 1 - f));
  let lambda = -Math.log((above + 1) / (total + 1));
  if (top < 0) {
    // nothing as large so far: beyond the highest occupied bin's upper edge
    for (let i = b; i >= 0 && top < 0; i--) if (bins[i] > 0) top = i;
    const edge = LN_LO + (top + 1) * BIN;
    lambda += Math.max(0, x - edge) / (sigma ?? tailScale(bins, total));
  }
  io[1] = lambda;
}

/** σ: the mean excess (in x) of the top 5% of the mass over the level it lies above. */
function tailScale(bins: Float64Array, total: number): number {
  const want = TAIL_SHARE * total;
  let mass = 0, i = LOG_TAIL_BINS - 1;
  while (i > 0 && mass + bins[i] < want) mass += bins[i--];
  // the level u: bin i's lower edge, with all of bin i's mass counted above it
  const u = i;
  let excess = 0;
  mass = 0;
  for (let k = u; k < LOG_TAIL_BINS; k++) {
    mass += bins[k];
    excess += bins[k] * (k - u + 0.5) * BIN;
  }
  return mass > 0 ? Math.max(BIN, excess / mass) : 1;
}

export class LogTail {
  /** Histogram of ln v (LOG_TAIL_BINS), forgetting at 1 - 1/history per value added. */
  readonly bins: Float64Array;
  readonly history: number;
  readonly minCount: number;
  /** Mass in the histogram. */
  total = DOUBLE_ZERO; // a double from the start: see DOUBLE_ZERO

  /** Whether x is v itself (an exponential tail in v) rather than ln v (a Pareto tail). */
  readonly linear: boolean;

  /**
   * @param bins the histogram to use (a view the owner checkpoints), LOG_TAIL_BINS long
   * @param scale "log": x = ln v (a Pareto tail beyond the data); "linear": x = v (an
   *   exponential tail, as a CUSUM's has)
   */
  constructor(
    history: number,
    minCount = 30,
    bins: Float64Array = new Float64Array(LOG_TAIL_BINS),
    scale: "log" | "linear" = "log",
  ) {
    if (bins.length !== LOG_TAIL_BINS) {
      throw new RangeError(
        `Cannot create tail histogram: it must have ${LOG_TAIL_BINS} bins: current count is ${bins.length}`,
      );
    }
    this.bins = bins;
    this.history = history;
    this.minCount = minCount;
    this.linear = scale === "linear";
  }

  /** x: ln v, or v on the linear scale. */
  #x(v: number): number {
    return this.linear ? v : Math.log(v + 1e-300);
  }

  /** v's position in bins (fractional); its bin is {@link binOf} of it. */
  #where(v: number): number {
    return (this.#x(v) - LN_LO) / BIN;
  }

  /** Evidence (nats) that v is unusually large, from the values added before it. */
  evidence(v: number): number {
    if (this.total < this.minCount) return 0;
    TAIL_IO[0] = this.total;
    TAIL_IO[1] = this.#x(v);
    tailEvidence(this.bins, TAIL_IO);
    return TAIL_IO[1];
  }

  /** Adds v to the distribution (the older mass forgets by 1 - 1/history). */
  add(v: number): void {
    const g = 1 - 1 / this.history;
    for (let i = 0; i < LOG_TAIL_BINS; i++) this.bins[i] *= g;
    this.bins[binOf(this.#where(v))] += 1;
    this.total = this.total * g + 1;
  }
}
