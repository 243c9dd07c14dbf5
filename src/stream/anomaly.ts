/**
 * Anomaly scores and the alert state machine.
 *
 * The surprise of a reading is the largest, over the stream's targets, of the
 * one-step residual divided by the current half-width of that target's
 * one-step interval: 1 means "on the edge of the 90% interval". From it:
 *
 * - score = s² / (1 + s²) with s the surprise: grows with the surprise and
 *   stays below 1 for every finite residual, so larger surprises always rank
 *   higher (no tie at the top);
 * - likelihood: how unusual the recent surprises are for this stream, the
 *   normal probability of the mean log-surprise over a short window against
 *   the long-run mean and spread of the log-surprise (as Numenta's anomaly
 *   likelihood does with raw scores), taking the larger of the short window
 *   and the reading alone so that one spike is seen at once;
 * - percentile: the share of this stream's past surprises below this one.
 */

/** Standard normal CDF Φ(z), by erfc (Abramowitz and Stegun 7.1.26 is too coarse in the tail). */
export function normalCdf(z: number): number {
  return 1 - 0.5 * erfc(z / Math.SQRT2);
}

/** Complementary error function (Numerical Recipes' erfcc, relative error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(
    -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
                  t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
                                  t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return x >= 0 ? r : 2 - r;
}

const BINS = 64;
/** log2 of the lowest surprise the percentile histogram tells apart. */
const LOG_LO = -10;
const BIN_WIDTH = 0.5;

/** Turns surprises into a score, a likelihood and a percentile. */
export class AnomalyScorer {
  readonly smoothing: number;
  readonly history: number;
  /** Last `smoothing` log-surprises (ring). */
  readonly recent: Float64Array;
  /** Long-run mean and variance of the log-surprise (exponentially weighted). */
  mean = 0;
  variance = 1;
  count = 0;
  /** Histogram of log2-surprises for the percentile. */
  readonly bins: Float64Array;
  // outputs of the last update()
  score = 0;
  likelihood = 0.5;
  percentile = 0;

  constructor(smoothing: number, history: number) {
    this.smoothing = smoothing;
    this.history = history;
    this.recent = new Float64Array(smoothing);
    this.bins = new Float64Array(BINS);
  }

  /** Takes the surprise s >= 0 of one reading and sets score, likelihood, percentile. */
  update(s: number): void {
    const s2 = s * s;
    this.score = s2 / (1 + s2);
    const ls = Math.log(s + 1e-6);
    // the percentile among the past, then add this one
    const b = Math.min(
      BINS - 1,
      Math.max(0, Math.floor((Math.log2(s + 1e-12) - LOG_LO) / BIN_WIDTH)),
    );
    let below = 0, total = 0;
    for (let i = 0; i < BINS; i++) {
      total += this.bins[i];
      if (i < b) below += this.bins[i];
    }
    this.percentile = total > 0 ? (below + 0.5 * this.bins[b]) / total : 0.5;
    this.bins[b] += 1;
    // likelihood against the history before this reading
    this.recent[this.count % this.smoothing] = ls;
    const n = Math.min(this.count + 1, this.smoothing);
    let short = 0;
    for (let i = 0; i < n; i++) short += this.recent[i];
    short /= n;
    const sd = Math.sqrt(this.variance) + 1e-6;
    const zShort = ((short - this.mean) / sd) * Math.sqrt(n);
    const zNow = (ls - this.mean) / sd;
    this.likelihood = this.count < 10 ? 0.5 : normalCdf(Math.max(zShort, zNow));
    // then learn the long-run distribution
    const a = 1 / Math.min(this.count + 1, this.history);
    const d = ls - this.mean;
    this.mean += a * d;
    this.variance = this.count === 0 ? 1 : (1 - a) * (this.variance + a * d * d);
    this.count++;
  }
}

/** What the alert machine says a reading did. */
export type AlertTransition = "none" | "opened" | "resolved" | "new_normal";

/** The alert machine's settings (from the preset). */
export interface AlertOptions {
  warmup: number;
  threshold: number;
  clear: number;
  debounce: number;
  newNormalAfter: number;
}

/**
 * Alert state machine: warm-up suppression, debounce, hysteresis, and the
 * acceptance of a persisting change as the new normal.
 *
 *   warming_up --(warmup readings)--> normal
 *   normal --(debounce readings with likelihood >= threshold)--> anomaly  (opened)
 *   anomaly --(debounce readings with likelihood < clear)--> normal      (resolved)
 *   anomaly --(newNormalAfter readings)--> warming_up                    (new_normal)
 *
 * After a new normal the machine warms up again for min(warmup,
 * newNormalAfter) readings while the models learn the new level, so the
 * change they are catching up with does not raise a second alert.
 */
export class AlertMachine {
  readonly opts: AlertOptions;
  state: "warming_up" | "normal" | "anomaly" = "warming_up";
  seen = 0;
  /** Consecutive readings pushing towards the other state. */
  run = 0;
  /** Readings since the open alert began. */
  duration = 0;

  constructor(opts: AlertOptions) {
    this.opts = opts;
  }

  /** Whether a likelihood counts as anomalous. */
  anomalous(likelihood: number): boolean {
    return likelihood >= this.opts.threshold;
  }

  /** Advances by one reading with its likelihood. */
  step(likelihood: number): AlertTransition {
    const o = this.opts;
    this.seen++;
    switch (this.state) {
      case "warming_up":
        if (this.seen >= o.warmup) this.state = "normal";
        return "none";
      case "normal":
        this.run = likelihood >= o.threshold ? this.run + 1 : 0;
        if (this.run >= o.debounce) {
          this.state = "anomaly";
          this.run = 0;
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
