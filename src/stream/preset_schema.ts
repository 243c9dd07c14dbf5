/**
 * The preset schema: one zod schema gives the runtime check, the static type
 * and the defaults of a model preset (the built-in ones are in preset.ts; a
 * replay may take a file of its own).
 */
import { z } from "zod";

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** The preset schema; every field has a documented default. */
export const PresetSchema = z.object({
  name: z.string().min(1),
  description: z.string().default(""),
  model: z.object({
    /** H: LSTM hidden units. */
    hidden: int(1, 512).default(32),
    /** L: stacked LSTM layers. */
    layers: int(1, 3).default(1),
    /** k2: TBPTT window (steps backpropagated). */
    window: int(1, 512).default(32),
    /** k1: readings between two updates. */
    k1: int(1, 512).default(1),
    lr: z.number().positive().max(1).default(3e-3),
    clipNorm: z.number().positive().default(1),
    weightDecay: z.number().min(0).max(1).default(0),
    seed: z.number().int().default(1),
    /** Run the LSTM expert at all (false: the cheap experts only). */
    enabled: z.boolean().default(true),
  }).prefault({}),
  /** Hmax: the farthest horizon forecast, in readings. */
  horizons: int(1, 512).default(24),
  /** Seasonal period in seconds (86400: daily); 0 turns seasonal persistence off. */
  seasonSeconds: z.number().min(0).default(86400),
  /**
   * The most points a season keeps: a season of more readings is kept as
   * bucket means, at most this many (src/stream/season_profile.ts); one of
   * at most this many readings is read from the raw rows.
   */
  seasonPoints: int(2, 2048).default(2048),
  /** Add time-of-day and day-of-week (sin, cos) inputs. */
  calendar: z.boolean().default(true),
  /** UTC offset of the sensor's local time, minutes, for the calendar inputs. */
  utcOffsetMinutes: int(-14 * 60, 14 * 60).default(0),
  normalizer: z.object({
    /** Forgetting factor of the running mean and variance. */
    forgetting: z.number().gt(0).max(1).default(0.99999),
  }).prefault({}),
  linear: z.object({
    /** Rows of history (all columns) the linear expert sees. */
    lags: int(1, 64).default(4),
    /** RLS forgetting factor. */
    forgetting: z.number().gt(0).max(1).default(0.999),
    /** RLS ridge δ (initial P = I / δ). */
    ridge: z.number().positive().default(1),
    /** Hold the ridge at δ for good (false: it fades with forgetting, as before issue 11; see src/stream/rls.ts). */
    holdRidge: z.boolean().default(true),
    /** Ridge added per further horizon step (the h-step model's ridge is ridge + ridgePerStep·(h - 1)). */
    ridgePerStep: z.number().min(0).default(2),
  }).prefault({}),
  blend: z.object({
    /** ρ: ridge on the experts' error moments, relative to how much their errors differ (keeps nearly collinear experts' weights stable). */
    ridge: z.number().min(0).default(0.01),
    /** Readings the one-step experts' errors are averaged over (1 / (1 - β)); enough for E² error moments. */
    memory: z.number().min(1).default(500),
    /** Readings added to the memory per further horizon step (errors at horizon h correlate over h readings). */
    memoryPerStep: z.number().min(0).default(20),
    /** Scored forecasts an expert needs before it joins the blend. */
    warmup: int(1, 100_000).default(20),
    /** One reading's largest error the blend learns, in the best long-run RMS errors, from horizon 2 on (0: no bound). */
    pullBound: z.number().min(0).default(20),
    /** Horizons either side whose error moments a slot's weights are solved from with its own, at most, from horizon 2 on (0: none). */
    poolSteps: int(0, 512).default(32),
    /** How many times larger or smaller a pooled neighbour's error may be than the slot's own (0: any). */
    poolRatio: z.union([z.literal(0), z.number().min(1).finite()]).default(1.5),
  }).prefault({}),
  intervals: z.object({
    /** Target coverage of the prediction intervals. */
    coverage: z.number().gt(0).lt(1).default(0.9),
    /** Step size of the online quantile tracker, relative to the mean residual. */
    rate: z.number().positive().max(1).default(0.05),
    /** Readings the one-step mean |residual| (the step's scale) averages over; also the anomaly surprise's interval. */
    memory: z.number().min(1).default(100),
    /** Readings added to that memory per further horizon step (a slower scale balances the tracker's steps). */
    memoryPerStep: z.number().min(0).default(20),
  }).prefault({}),
  anomaly: z.object({
    /** Readings before any alert may open (and before any onset is reported). */
    warmup: int(0, 1_000_000).default(288),
    /** Likelihood at or above which a reading counts as anomalous (0.99999: one in 100,000). */
    threshold: z.number().gt(0).lt(1).default(0.99999),
    /** Likelihood below which a reading counts as normal again (hysteresis). */
    clear: z.number().gt(0).lt(1).default(0.9),
    /** Consecutive anomalous (normal) readings to open (resolve) an alert. */
    debounce: int(1, 1000).default(1),
    /** Readings whose evidence the smoothed likelihood sums (1: no smoothing). */
    smoothing: int(1, 1000).default(2),
    /** Readings of history the surprise's distribution is estimated from (exponential forgetting). */
    history: int(10, 10_000_000).default(20_000),
    /** Readings after an onset during which only stronger evidence is another onset (or alert). */
    refractory: int(1, 100_000).default(500),
    /** Nats by which a reading must exceed the onset of the incident it continues to be an onset itself. */
    escalation: z.number().min(0).default(Math.LN10),
    /**
     * Nats by which a reading must exceed every onset of the refractory period
     * to be an onset itself, whether or not the evidence fell in between
     * (src/stream/onset_rule.ts; 0: exceed them).
     */
    onsetMargin: z.number().min(0).optional(),
    /** Readings the density test counts unusual readings over (0: no density test). */
    density: int(0, 1000).default(15),
    /** Evidence (nats) at or above which a reading counts as unusual for the density test (ln 20: one in twenty). */
    densityLevel: z.number().positive().default(Math.log(20)),
    /** A value outside every value seen by more than this share of their range is a record. */
    rangeMargin: z.number().min(0).default(0.01),
    /** Learn from readings inside an open anomaly (false: the anomaly does not become the norm). */
    learnDuringAnomaly: z.boolean().default(false),
    /** Readings after which a persisting change is accepted as the new normal. */
    newNormalAfter: int(1, 1_000_000).default(288),
    /**
     * The shape detector (src/stream/shape.ts): nearest-neighbour novelty of
     * the recent values' shape, fused with the residual's evidence as the
     * smaller of two p-values (Bonferroni). Chosen by leave-one-family-out
     * (docs/anomalies_method.md).
     */
    shape: z.object({
      /** S: readings a shape spans, a multiple of 8 (0: no shape detector). */
      window: int(0, 512).refine((v) => v % 8 === 0, "must be a multiple of 8").default(16),
      /**
       * M: shapes remembered with one target (16 KB at 256; with J targets
       * ⌊M / J⌋, at least min(32, M)).
       */
      memory: int(16, 256).default(256),
    }).prefault({}),
    /**
     * The drift detector (src/stream/drift.ts): sums of each hour's
     * deviation from the stream's learned day over the last hours, for slow
     * drifts and changes of period, fused after the scorer with the others
     * as the smallest of three p-values (Bonferroni): it opens alerts and
     * changes nothing the models learn (src/stream/alert_fusion.ts). W = 6,
     * chosen by leave-one-family-out on both development sets
     * (docs/anomalies_method.md, "The fourth round"); the pi-small preset
     * keeps it off (its memory per stream).
     */
    drift: z.object({
      /** W: hours the sums span (0: no drift detector). */
      hours: int(0, 168).default(6),
      /**
       * D: days the learned day remembers, each hour of the day learning at
       * 1 / min(days seen, D); 28 (a month) chosen over 7 by
       * leave-one-family-out (docs/anomalies_method.md, "The sixteenth
       * round: the learned day remembers 28 days").
       */
      days: int(1, 365).default(28),
    }).prefault({}),
    /**
     * The level-shift evidence (src/stream/level_shift.ts): a two-sided
     * CUSUM of the signed one-step residuals scored against the stream's
     * own excursions of it; with the drift detector on it opens alerts by
     * its own rule and changes nothing the models learn
     * (src/stream/alert_fusion.ts; the thirteenth round of issue 11).
     */
    levelShift: z.object({
      /** k: the CUSUM's allowance, in interval half-widths (0: off). */
      allowance: z.number().min(0).max(10).default(0),
    }).prefault({}),
    /**
     * The false-alarm budget: at most this many false alerts per stream per
     * week at the stream's sampling rate; alerts open at the evidence level
     * this stream's own record allows, never above `threshold`
     * (src/stream/budget.ts). 0: alerts open at `threshold`.
     */
    falseAlertsPerWeek: z.number().min(0).default(1),
    /**
     * The alerts open at ln(readings a week / falseAlertsPerWeek) + this
     * many nats, the budget read as a p-value threshold on the fused
     * evidence, instead of at the level this stream's record allows
     * (src/stream/budget.ts; the eleventh round of issue 11). Unset: the
     * record's. Only with the drift detector on: without it the alerts'
     * budget is the scorer's, which decides what a stream learns.
     */
    pValueMargin: z.number().min(0).max(20).optional(),
    /**
     * How the alerts fuse the detectors' evidence (src/stream/alert_fusion.ts):
     * "hmp" (unset), their harmonic mean p-value, close to valid under
     * their dependence, or "min", the strongest with Bonferroni's correction (before
     * the tenth round of issue 11). Chosen by leave-one-family-out
     * (docs/anomalies_method.md, "The tenth round"); what is learned does not
     * depend on it.
     */
    fusion: z.enum(["hmp", "min"]).optional(),
    /**
     * Pairs of detectors that agree open alerts by their own rule: each pair
     * by Fisher's method, their harmonic mean less ln 2
     * (src/stream/alert_fusion.ts; the fifteenth round of issue 11). Only
     * with the drift detector on; unset: off. What is learned, the fused
     * evidence and the onsets do not depend on it.
     */
    agreeingPairs: z.boolean().optional(),
    /**
     * The agreeing pairs open at the bar their own record of upcrossings
     * sets: the level at which they cross as often as a valid p-value
     * crosses the alerts' threshold, never below it nor above `threshold`
     * (src/stream/pairs_record.ts; the seventeenth round of issue 11).
     * Unset or false: at the alerts' threshold. Only with `agreeingPairs`.
     */
    pairsRecord: z.boolean().optional(),
  }).prefault({}),
  gaps: z.object({
    /** A gap longer than this many sampling periods resets the window (weights are kept). */
    maxPeriods: z.number().min(1).default(10),
  }).prefault({}),
});

/** A validated preset with every default filled in. */
export type Preset = z.infer<typeof PresetSchema>;

/** Validates a preset, throwing one message that names each bad field and its value. */
export function parsePreset(input: unknown, source = "preset"): Preset {
  const r = PresetSchema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const path = i.path.join(".");
    let value: unknown = input;
    for (const k of i.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[k];
    return `  ${path || "(root)"}: ${i.message}: current value is ${JSON.stringify(value)}`;
  });
  throw new RangeError(`Cannot load ${source}: invalid fields:\n${lines.join("\n")}`);
}
