/**
 * The readings a stream refuses, checked completely before anything
 * changes: a timestamp that is not a finite number, a reading without one
 * finite value per column, a timestamp at or before the stream's last, a
 * value out of the stream's bounds (value_bounds.ts: |x| above maxAbsValue,
 * or far beyond the range of the column's values). A reading that passes
 * cannot make the engine's arithmetic overflow; should the engine still
 * fail on one, the stream refuses it as `engine_error` (stream.ts).
 */
import { showValue } from "../domain/show_value.ts";
import type { ValueBounds } from "./value_bounds.ts";

/** A reading the stream refuses, with a machine-readable reason. */
export class ReadingError extends Error {
  readonly reason:
    | "not_finite"
    | "duplicate"
    | "out_of_order"
    | "missing_value"
    | "bad_timestamp"
    | "out_of_range"
    | "engine_error";
  constructor(reason: ReadingError["reason"], message: string) {
    super(message);
    this.name = "ReadingError";
    this.reason = reason;
  }
}

/** What a reading is checked against. */
export interface ReadingRules {
  readonly id: string;
  /** Names of the I values of each reading, in order. */
  readonly columns: readonly string[];
  /** Time of the last reading taken (ms), NaN before the first (or after a rewind). */
  readonly lastTs: number;
  /** How large a value may be. */
  readonly bounds: ValueBounds;
}

/**
 * Throws {@link ReadingError} for a reading (ts, values (I)) that `stream`
 * must refuse. Changes nothing, but for counting a refusal by the relative
 * bound (see value_bounds.ts).
 */
export function checkReading(stream: ReadingRules, ts: number, values: ArrayLike<number>): void {
  const { id, columns, lastTs, bounds } = stream;
  if (!Number.isFinite(ts)) {
    throw new ReadingError(
      "bad_timestamp",
      `Cannot ingest reading for "${id}": the timestamp must be a finite number of ms: current value is ${ts}`,
    );
  }
  if (values.length !== columns.length) {
    throw new ReadingError(
      "missing_value",
      `Cannot ingest reading for "${id}": it must hold ${columns.length} values (${
        columns.join(", ")
      }): current count is ${values.length}`,
    );
  }
  for (let i = 0; i < columns.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new ReadingError(
        "not_finite",
        `Cannot ingest reading for "${id}": '${
          columns[i]
        }' must be a finite number: current value is ${values[i]}`,
      );
    }
  }
  if (ts <= lastTs) {
    const dup = ts === lastTs;
    throw new ReadingError(
      dup ? "duplicate" : "out_of_order",
      `Cannot ingest reading for "${id}": the timestamp must be after the last one ${
        new Date(lastTs).toISOString()
      }: current value is ${new Date(ts).toISOString()}`,
    );
  }
  const p = bounds.check(values);
  if (p) {
    if (p.option === "maxValueSpreads") bounds.refused();
    const why = p.option === "maxAbsValue"
      ? "maxAbsValue"
      : `${bounds.maxSpreads} times the range of its values so far, ${bounds.least(p.column)} to ${
        bounds.greatest(p.column)
      }, beyond it; maxValueSpreads`;
    throw new ReadingError(
      "out_of_range",
      `Cannot ingest reading for "${id}": '${
        columns[p.column]
      }' must be from ${p.lo} to ${p.hi} (${why}): current value is ${showValue(values[p.column])}`,
    );
  }
}
