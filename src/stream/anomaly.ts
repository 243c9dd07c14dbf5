/**
 * Anomaly scores and the alert state machine.
 *
 * Evidence is counted in nats: λ = -ln p, where p is how often this stream
 * has produced something at least as unusual (λ = 6.9 is "one in a
 * thousand", 11.5 "one in 100,000"). Per reading:
 *
 * - surprise s: the largest, over the stream's targets, of the one-step
 *   residual divided by the half-width of that target's one-step interval
 *   (1 = on the edge of the 90% interval);
 * - score = x / (1 + x) with x = log2(1 + s²): 0.5 on the interval's edge,
 *   strictly increasing in s and below 1 for every finite s, also in floating
 *   point (no tie at the top however large the surprise);
 * - point evidence: -ln of the share of this stream's past surprises at
 *   least as large (an empirical tail from a histogram of ln s that forgets
 *   over `history` readings), plus ln(s / largest seen) beyond the largest;
 * - record evidence: a reading outside the range of every value its target
 *   has had, by more than `rangeMargin` of that range, is a record; the n-th
 *   reading of an exchangeable stream is one with probability 1/n, so it adds
 *   ln n (n at most `history`);
 * - density evidence: a record of density. Count the unusual readings
 *   (evidence of at least `densityLevel`, one in twenty by default) among the
 *   last `density`; a count above every count this stream's learned windows
 *   have held is a record, and adds ln n (n = the windows counted, forgetting
 *   over `history` as the histogram does) plus the binomial tail between the
 *   old most and the new count (as if each reading were unusual with
 *   probability e^-densityLevel on its own). It sees a change in how often
 *   unusual readings come (spikes growing denser, a quiet signal starting to
 *   move) when no single reading is extreme. Counts no higher than the most
 *   the stream has had give nothing: a stream whose unusual readings come in
 *   bursts has had bursts, and the count of its warm-up (when the model gets
 *   many readings wrong) counts too, so the test stays as conservative in a
 *   daemon's first week as in its second year;
 * - smoothed evidence: the largest of the reading's own evidence, the
 *   evidence of the last `smoothing` readings together (Fisher's method: the
 *   tail of a Gamma(k, 1) sum), so a run of moderately unusual readings adds up
 *   while one spike is still seen at once, and the density evidence;
 * - likelihood = {@link evidenceToUnit} of the smoothed evidence: 1 - p for
 *   ordinary values, with a slower tail so that it never rounds to 1;
 * - onset: the likelihood at readings that begin an incident (their smoothed
 *   evidence exceeds every onset of the last `refractory` readings), 0 at the
 *   others. A sparse column, one high value per incident: what to rank
 *   incidents by, and what a benchmark such as NAB should score;
 * - percentile: the share of this stream's past surprises below this one.
 *
 * Per reading the scorer does O(BINS + smoothing + density) arithmetic on
 * buffers made once (the onsets and peaks are each their latest entry:
 * onset_rule.ts), and allocates nothing. A checkpoint holds each ring as
 * its latest entry too, in the scorer's scalars; one written while it held
 * them dense restores through reduceScorerRings (scorer_rings.ts). The
 * range of each target's values, which makes records, is range_tracker.ts.
 *
 * Longer than 500 lines: the scorer's numbers are slots of its state (a
 * double field would be a heap number of its own per stream), each behind a
 * getter and a setter of its old field's name.
 */
import { LatestRing, stepOnset } from "./onset_rule.ts";
import { type BlockArena, typedBlock } from "../model/typed_block.ts";
import { densityTail } from "./density_tail.ts";
import { DOUBLE_ZERO } from "../model/floats.ts";
import { LOG_TAIL_BIN, LOG_TAIL_BINS, LOG_TAIL_LO, tailEvidence } from "./log_tail.ts";
export { binomialTailEvidence } from "./density_tail.ts";

export { RangeTracker } from "./range_tracker.ts";

/** Evidence (nats) beyond which {@link evidenceToUnit} leaves 1 - e^-λ for a slower tail. */
const KNEE = 20;
const TAIL = Math.exp(-KNEE);

/**
 * Maps evidence λ >= 0 (nats) to [0, 1): 1 - e^-λ up to λ = 20 (p = 2e-9),
 * then 1 - e^-20 / (1 + λ - 20), which joins it smoothly and stays below 1
 * in floating point for every λ below 1e6, so larger evidence always ranks
 * higher.
 */
export function evidenceToUnit(lambda: number): number {
  if (!(lambda > 0)) return 0;
  return lambda <= KNEE ? -Math.expm1(-lambda) : 1 - TAIL / (1 + lambda - KNEE);
}

/** The inverse of {@link evidenceToUnit}: the evidence (nats) of a likelihood u in [0, 1). */
export function unitToEvidence(u: number): number {
  if (!(u > 0)) return 0;
  const p = 1 - u;
  return p >= TAIL ? -Math.log1p(-u) : KNEE - 1 + TAIL / p;
}

/** The score of a surprise s >= 0: x / (1 + x) with x = log2(1 + s²). */
export function surpriseScore(s: number): number {
  // log2(1 + s²) without overflowing s² for s > 1e154
  const x = s > 1 ? 2 * Math.log2(s) + Math.log2(1 + 1 / (s * s)) : Math.log2(1 + s * s);
  return x / (1 + x);
}

/** -ln P(Γ(k, 1) >= x): the evidence of k readings whose evidence sums to x (Fisher's method). */
export function gammaTailEvidence(x: number, k: number): number {
  if (!(x > 0)) return 0;
  // P = e^-x Σ_{i<k} x^i / i!
  let term = 1, sum = 1;
  for (let i = 1; i < k; i++) {
    term *= x / i;
    sum += term;
  }
  return x - Math.log(sum);
}

/**
 * Two detectors' evidence (nats, -ln of a tail probability p1 = e^-λ1,
 * p2 = e^-λ2 each) as one, never below 0:
 * - "min" (the scorer's): the smaller p-value with Bonferroni's correction
 *   for the `tests` p-values looked at, max(λ1, λ2) - ln tests: one strong
 *   detector is enough (with more than two detectors, b is the largest
 *   evidence of the others);
 * - "hmp" (the alerts', alert_fusion.ts): the harmonic mean p-value,
 *   tests / (1/p1 + 1/p2), that is ln(e^λ1 + e^λ2) - ln tests (with more
 *   than two detectors, b is the others' ln Σ e^λ). The Cauchy combination
 *   test's form for small p-values: close to valid under the dependence of
 *   detectors that see the same readings (a guarantee under every
 *   dependence would need a larger correction: Vovk and Wang), never below Bonferroni's
 *   and at most ln tests above it, when the detectors agree;
 * - "fisher": Fisher's method, -ln P(Γ(2, 1) >= λ1 + λ2), exact for two
 *   independent p-values: moderate evidence from both adds up (it turned one
 *   incident into several onsets as the second detector confirmed the first).
 */
export function fuseEvidence(
  a: number,
  b: number,
  how: "fisher" | "min" | "hmp" = "min",
  tests = 2,
): number {
  const x = Math.max(0, a), y = Math.max(0, b);
  if (how === "hmp") {
    // ln(e^x + e^y) without overflow
    return Math.max(0, Math.max(x, y) + Math.log1p(Math.exp(-Math.abs(x - y))) - Math.log(tests));
  }
  return how === "min"
    ? Math.max(0, Math.max(x, y) - Math.log(tests))
    : gammaTailEvidence(x + y, 2);
}

/** Histogram of ln(surprise): the tail rule's (log_tail.ts), bins of 0.25 from -12 to 12. */
const BIN = LOG_TAIL_BIN;
const LN_LO = LOG_TAIL_LO;
const BINS = LOG_TAIL_BINS;
/** {@link tailEvidence}'s doubles for the point evidence (a call sets, calls and reads it at once). */
const POINT_IO = new Float64Array(2);
/** Surprises the histogram needs before it gives evidence. */
const MIN_COUNT = 30;

/** How the scorer turns surprises into evidence (from the preset's `anomaly` settings). */
export interface ScorerOptions {
  /** k: readings the smoothed evidence sums over. */
  smoothing: number;
  /** Readings of history the tail is estimated from (exponential forgetting). */
  history: number;
  /** Readings after an onset during which only stronger evidence is another onset. */
  refractory: number;
  /**
   * Nats by which a reading must exceed the onset of the incident it
   * continues (the run of readings with smoothed evidence of at least ln 10
   * since that onset) to be an onset of its own.
   */
  escalation: number;
  /**
   * Nats by which a reading must exceed every onset of the refractory
   * period to be an onset (0: exceed them), whether or not the evidence fell
   * between (onset_rule.ts).
   */
  onsetMargin?: number;
  /** Readings the density test counts unusual readings over (0: no density test). */
  density: number;
  /** Evidence (nats) at or above which a reading counts as unusual for the density test. */
  densityLevel: number;
}

/**
 * The scorer's double scalars, slots of its state between the histogram and
 * the ring: a double field of an object is a heap number of its own (16 bytes
 * with V8's pointer compression), a slot 8 bytes of the stream's block.
 */
const TOTAL = BINS,
  UNUSUAL_TOTAL = BINS + 1,
  SCORE = BINS + 2,
  EVIDENCE = BINS + 3,
  DENSITY_EVIDENCE = BINS + 4,
  SURPRISE = BINS + 5,
  RESIDUAL = BINS + 6,
  SHAPE_EVIDENCE = BINS + 7,
  SMOOTHED = BINS + 8,
  LIKELIHOOD = BINS + 9,
  ONSET = BINS + 10,
  PERCENTILE = BINS + 11,
  RUN_ONSET = BINS + 12,
  POINT_IN = BINS + 13,
  POINT_OUT = BINS + 14,
  // integers, but held as doubles by V8 (fields of one shape with a double at times)
  MOST_UNUSUAL = BINS + 15,
  COUNT = BINS + 16,
  UNUSUAL_MOST = BINS + 17;
/** Where the ring of the last `smoothing` readings' evidence starts in the state. */
const RECENT = BINS + 18;

/**
 * The scorer's arrays in {@link typedBlock} order: state (bins BINS, the
 * scalars, recent smoothing), unusual (density).
 */
export const scorerBlock = (o: Pick<ScorerOptions, "smoothing" | "density">) =>
  [[Float64Array, RECENT + o.smoothing], [Int32Array, o.density]] as const;

/** Turns surprises (and range records) into a score, evidence, a likelihood, an onset and a percentile. */
export class AnomalyScorer {
  readonly opts: ScorerOptions;
  /**
   * The histogram of ln s (BINS) at 0, forgetting at 1 - 1/history per
   * reading, the scorer's double scalars (the accessors below) at BINS, and
   * the evidence of the last `smoothing` readings (ring) at RECENT: one array
   * rather than three (a typed array costs a stream about 100 bytes of heap);
   * views {@link bins} and {@link recent}, made per call.
   */
  readonly state: Float64Array;
  /**
   * Smoothed evidence of the onsets reported in the last `refractory`
   * readings, else 0 (a ring held as its latest entry, the largest).
   */
  readonly onsets = new LatestRing();
  /**
   * Smoothed evidence of the fresh readings (see `fresh`) of the last
   * `refractory` readings, else 0 (a ring held as its latest entry).
   */
  readonly peaks = new LatestRing();
  /** Whether each of the last `density` readings was unusual (ring). */
  readonly unusual: Int32Array;
  /** -ln P(Binomial(density, e^-densityLevel) >= K) per K: the evidence of a count beyond the most held before. */
  readonly densityTail: Float64Array;
  /**
   * Density windows counted (learned), forgetting as `total` does; it equals
   * `total` except in a stream restored from a checkpoint made before the
   * density test, whose counts start at the restore. (A slot of the state.)
   */
  get unusualTotal(): number {
    return this.state[UNUSUAL_TOTAL];
  }
  set unusualTotal(v: number) {
    this.state[UNUSUAL_TOTAL] = v;
  }
  /** The most unusual readings any learned density window has held. (A slot of the state.) */
  get mostUnusual(): number {
    return this.state[MOST_UNUSUAL];
  }
  set mostUnusual(v: number) {
    this.state[MOST_UNUSUAL] = v;
  }
  /** Readings scored. (A slot of the state.) */
  get count(): number {
    return this.state[COUNT];
  }
  set count(v: number) {
    this.state[COUNT] = v;
  }
  /** {@link mostUnusual} before this reading. (A slot of the state.) */
  get unusualMost(): number {
    return this.state[UNUSUAL_MOST];
  }
  set unusualMost(v: number) {
    this.state[UNUSUAL_MOST] = v;
  }
  /** Unusual readings among the last `density` (this one included). */
  unusualCount = 0;
  /** The range record given to the last update() (the readings the range was built from). */
  record = 0;
  /** The detectors the last update() fused, for Bonferroni's correction. */
  tests = 2;
  /**
   * The reading's smoothed evidence exceeds every fresh reading's of the
   * refractory period (the onset rule without `escalation`): an alert may
   * open on it.
   */
  fresh = false;

  /** Mass in the histogram. (This and the numbers below are slots of the state.) */
  get total(): number {
    return this.state[TOTAL];
  }
  set total(v: number) {
    this.state[TOTAL] = v;
  }
  // outputs of the last update()
  get score(): number {
    return this.state[SCORE];
  }
  set score(v: number) {
    this.state[SCORE] = v;
  }
  /** Evidence of the reading alone (nats). */
  get evidence(): number {
    return this.state[EVIDENCE];
  }
  set evidence(v: number) {
    this.state[EVIDENCE] = v;
  }
  /** Evidence (nats) of {@link unusualCount}: above 0 only for a record (density evidence). */
  get densityEvidence(): number {
    return this.state[DENSITY_EVIDENCE];
  }
  set densityEvidence(v: number) {
    this.state[DENSITY_EVIDENCE] = v;
  }
  /** The surprise given to the last update(). */
  get surprise(): number {
    return this.state[SURPRISE];
  }
  set surprise(v: number) {
    this.state[SURPRISE] = v;
  }
  /** Smoothed evidence of the forecast residuals alone (nats). */
  get residual(): number {
    return this.state[RESIDUAL];
  }
  set residual(v: number) {
    this.state[RESIDUAL] = v;
  }
  /** The second detector's evidence given to the last update() (NaN: none, not fused). */
  get shapeEvidence(): number {
    return this.state[SHAPE_EVIDENCE];
  }
  set shapeEvidence(v: number) {
    this.state[SHAPE_EVIDENCE] = v;
  }
  /** Smoothed evidence (nats): the residual's, fused with the second detector's when given. */
  get smoothed(): number {
    return this.state[SMOOTHED];
  }
  set smoothed(v: number) {
    this.state[SMOOTHED] = v;
  }
  get likelihood(): number {
    return this.state[LIKELIHOOD];
  }
  set likelihood(v: number) {
    this.state[LIKELIHOOD] = v;
  }
  get onset(): number {
    return this.state[ONSET];
  }
  set onset(v: number) {
    this.state[ONSET] = v;
  }
  get percentile(): number {
    return this.state[PERCENTILE];
  }
  set percentile(v: number) {
    this.state[PERCENTILE] = v;
  }
  /** Smoothed evidence of the onset of the incident under way, 0 when none is. */
  get runOnset(): number {
    return this.state[RUN_ONSET];
  }
  set runOnset(v: number) {
    this.state[RUN_ONSET] = v;
  }

  /** `arena`: where to cut the state and unusual from ({@link scorerBlock}), else a buffer of their own. */
  constructor(opts: ScorerOptions, arena?: BlockArena) {
    this.opts = opts;
    [this.state, this.unusual] = typedBlock(scorerBlock(opts), arena);
    this.state[SHAPE_EVIDENCE] = NaN;
    this.densityTail = densityTail(opts.density, opts.densityLevel);
  }

  /** Histogram of ln s (BINS): a view of the state. */
  get bins(): Float64Array {
    return this.state.subarray(0, BINS);
  }

  /** Evidence of the last `smoothing` readings (ring): a view of the state. */
  get recent(): Float64Array {
    return this.state.subarray(RECENT);
  }

  /**
   * Evidence (nats) of K unusual readings among the last `density`: for a
   * record (K above the most held before) ln n plus the binomial tail between
   * the two counts, else 0.
   */
  countEvidence(K: number): number {
    const most = this.mostUnusual;
    // both compared every reading (not one only once the other passes): a
    // comparison first made readings later throws away the optimised scorer
    const young = this.unusualTotal < MIN_COUNT, held = K <= most;
    if (young || held) return 0;
    return Math.log(this.unusualTotal + 1) + this.densityTail[K] - this.densityTail[most];
  }

  /** Evidence (nats) that a surprise s is unusual, from the histogram before it. */
  pointEvidence(s: number): number {
    this.state[POINT_IN] = s;
    this.#point();
    return this.state[POINT_OUT];
  }

  /**
   * {@link pointEvidence} of the state's POINT_IN, into its POINT_OUT: the
   * tail rule of log_tail.ts over the histogram of ln s, σ fixed at 1
   * (beyond the largest surprise seen, ln of the ratio).
   */
  #point(): void {
    if (this.total < MIN_COUNT) {
      this.state[POINT_OUT] = 0;
      return;
    }
    POINT_IO[0] = this.total;
    POINT_IO[1] = Math.log(this.state[POINT_IN] + 1e-300);
    tailEvidence(this.state, POINT_IO, 1);
    this.state[POINT_OUT] = POINT_IO[1];
  }

  /**
   * Scores one reading: surprise s >= 0, and `record` > 0 (the number of
   * readings its range was built from) when it lies outside every value seen.
   * `learn` adds s to the long-run distribution (false inside an open
   * anomaly, so an anomaly does not become the norm); `quiet` (warming up)
   * gives no onset. `shape`, when a number, is a second detector's evidence
   * (nats) for this reading, fused with the residual's smoothed evidence
   * ({@link fuseEvidence}, the smaller p-value) before the likelihood, the
   * onset and freshness are taken; with more detectors than two, `shape` is
   * the largest evidence of the others and `tests` counts them all (the
   * residual's included), for Bonferroni's correction.
   */
  update(
    s: number,
    record: number,
    learn: boolean,
    quiet: boolean,
    shape = NaN,
    tests = 2,
  ): void {
    // the numbers travel in fields: a double passed to a call V8 does not
    // inline (#score is large) would be a new heap object every reading
    this.surprise = s;
    this.record = record;
    this.shapeEvidence = shape;
    this.tests = tests;
    this.#score(learn, quiet);
  }

  /** Scores the reading whose inputs {@link update} set. */
  #score(learn: boolean, quiet: boolean): void {
    const o = this.opts,
      count = this.count,
      s = this.surprise,
      record = this.record,
      shape = this.shapeEvidence;
    this.score = surpriseScore(s);
    // percentile and evidence against the past, then learn
    const f = (Math.log(s + 1e-300) - LN_LO) / BIN;
    const b = Math.min(BINS - 1, Math.max(0, Math.floor(f)));
    let below = 0;
    for (let i = 0; i < b; i++) below += this.state[i];
    this.percentile = this.total > 0 ? (below + 0.5 * this.state[b]) / this.total : 0.5;
    this.state[POINT_IN] = s;
    this.#point();
    let lambda = this.state[POINT_OUT];
    if (record > 1) lambda += Math.log(record);
    this.evidence = lambda;
    // smoothed: the larger of this reading and the last k together
    const k = o.smoothing;
    this.state[RECENT + count % k] = lambda;
    let sum = 0;
    const n = Math.min(count + 1, k);
    for (let i = 0; i < n; i++) sum += this.state[RECENT + i];
    this.smoothed = Math.max(lambda, gammaTailEvidence(sum, n));
    // density: unusual readings among the last `density`
    const L = o.density;
    if (L > 0) {
      this.unusual[count % L] = lambda >= o.densityLevel ? 1 : 0;
      let K = 0;
      for (let i = 0; i < L; i++) K += this.unusual[i];
      this.unusualCount = K;
      this.unusualMost = this.mostUnusual;
      this.densityEvidence = this.countEvidence(K);
      if (this.densityEvidence > this.smoothed) this.smoothed = this.densityEvidence;
    }
    this.residual = this.smoothed;
    if (!Number.isNaN(shape)) {
      this.smoothed = fuseEvidence(this.smoothed, shape, "min", this.tests);
    }
    const likelihood = evidenceToUnit(this.smoothed);
    this.likelihood = likelihood;
    const starts = stepOnset(
      this,
      count % o.refractory,
      this.smoothed,
      quiet,
      o.escalation,
      o.onsetMargin,
    );
    this.onset = starts ? likelihood : 0;
    if (learn) {
      const g = 1 - 1 / o.history;
      for (let i = 0; i < BINS; i++) this.state[i] *= g;
      this.state[b] += 1;
      this.total = this.total * g + 1;
      if (L > 0) {
        // stored every reading, not only on a new most (see countEvidence)
        this.mostUnusual = Math.max(this.mostUnusual, this.unusualCount);
        this.unusualTotal = this.unusualTotal * g + 1;
      }
    }
    this.count = count + 1;
  }
}

/** What the alert machine says a reading did. */
export type AlertTransition = "none" | "opened" | "resolved" | "new_normal";

/** An alert machine's scalars in a checkpoint: state, seen, run, run onset and duration. */
export type MachineScalars = [AlertMachine["state"], number, number, boolean, number];

/** The alert machine's settings (from the preset). */
export interface AlertOptions {
  warmup: number;
  threshold: number;
  clear: number;
  debounce: number;
  newNormalAfter: number;
}

/**
 * Alert state machine: warm-up suppression, debounce, hysteresis,
 * de-duplication, and the acceptance of a persisting change as the new normal.
 *
 *   warming_up --(warmup readings)--> normal
 *   normal --(debounce readings with likelihood >= threshold,
 *             one of them an onset >= threshold)--> anomaly           (opened)
 *   anomaly --(debounce readings with likelihood < clear)--> normal   (resolved)
 *   anomaly --(newNormalAfter readings)--> warming_up                 (new_normal)
 *
 * Requiring an onset means an alert does not open again for the same or
 * weaker evidence within the scorer's refractory period: one alert per
 * incident. After a new normal the machine warms up again for min(warmup,
 * newNormalAfter) readings while the models learn the new level, so the
 * change they are catching up with does not raise a second alert.
 */
export class AlertMachine {
  readonly opts: AlertOptions;
  /**
   * Likelihood at or above which an alert opens: `opts.threshold`, unless the
   * stream sets it from its false-alarm budget (src/stream/budget.ts) before
   * each step.
   */
  threshold: number = DOUBLE_ZERO; // a double from the start: see DOUBLE_ZERO
  state: "warming_up" | "normal" | "anomaly" = "warming_up";
  seen = 0;
  /** Consecutive readings pushing towards the other state. */
  run = 0;
  /** Whether the current run towards an alert holds an onset >= threshold. */
  runOnset = false;
  /** Readings since the open alert began. */
  duration = 0;

  constructor(opts: AlertOptions) {
    this.opts = opts;
    this.threshold = opts.threshold;
    // written a second time: V8 takes a field never written again for a
    // constant, and the first change, readings later, would throw away the
    // optimised code that relied on it (the scoring and alert paths)
    this.state = "warming_up";
    this.run = 0;
    this.runOnset = false;
    this.duration = 0;
  }

  /** The scalars a checkpoint keeps (not the threshold: its owner's). */
  scalars(): MachineScalars {
    return [this.state, this.seen, this.run, this.runOnset, this.duration];
  }

  /** Puts back {@link scalars}. */
  restoreScalars(s: Readonly<MachineScalars>): void {
    [this.state, this.seen, this.run, this.runOnset, this.duration] = s;
  }

  /**
   * Whether a likelihood counts as anomalous by the preset's fixed threshold
   * (what the stream does not learn from), whatever the alerts open at.
   */
  anomalous(likelihood: number): boolean {
    return likelihood >= this.opts.threshold;
  }

  /** Advances by one reading with its likelihood and onset. */
  step(likelihood: number, onset = likelihood): AlertTransition {
    const o = this.opts;
    this.seen++;
    switch (this.state) {
      case "warming_up":
        if (this.seen >= o.warmup) this.state = "normal";
        return "none";
      case "normal":
        if (likelihood >= this.threshold) {
          this.run++;
          this.runOnset ||= onset >= this.threshold;
        } else {
          this.run = 0;
          this.runOnset = false;
        }
        if (this.run >= o.debounce && this.runOnset) {
          this.state = "anomaly";
          this.run = 0;
          this.runOnset = false;
          this.duration = o.debounce;
          return "opened";
        }
        return "none";
      case "anomaly":
        this.duration++;
        this.run = likelihood < o.clear ? this.run + 1 : 0;
        if (this.run >= o.debounce) {
          this.state = "normal";
          this.run = 0;
          return "resolved";
        }
        if (this.duration >= o.newNormalAfter) {
          this.state = "warming_up";
          this.seen = Math.max(0, o.warmup - o.newNormalAfter);
          this.run = 0;
          return "new_normal";
        }
        return "none";
    }
  }
}
