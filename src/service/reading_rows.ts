/**
 * A reading's values in its stream's column order, in one buffer kept per
 * stream model, so that taking a reading allocates nothing.
 */
import type { Reading } from "../domain/reading.ts";
import { ReadingError, type StreamModel } from "../stream/stream.ts";

/** The row buffers, one per stream model (dropped with the model). */
export class ReadingRows {
  readonly #rows = new WeakMap<StreamModel, Float64Array>();

  /**
   * Reading `r`'s values in `stream`'s column order (the buffer is reused by
   * the next reading of the stream); throws a ReadingError (missing_value)
   * unless its value names are exactly the stream's columns.
   */
  of(stream: StreamModel, r: Reading): Float64Array {
    const cols = stream.columns;
    let row = this.#rows.get(stream);
    if (!row) this.#rows.set(stream, row = new Float64Array(cols.length));
    let given = 0;
    for (const k in r.values) if (Object.hasOwn(r.values, k)) given++;
    let fits = given === cols.length;
    for (let i = 0; fits && i < cols.length; i++) {
      const v = r.values[cols[i]];
      if (v === undefined) fits = false;
      // a typed array would take null as 0 and true as 1: anything but a
      // number goes in as NaN, which the engine rejects as not_finite
      else row[i] = typeof v === "number" ? v : NaN;
    }
    if (!fits) {
      throw new ReadingError(
        "missing_value",
        `Cannot ingest reading for "${r.stream}": its values must be exactly ${
          JSON.stringify(cols)
        } (the stream's columns): current values are ${
          JSON.stringify(Object.keys(r.values))
        }; send all of a stream's values in one message, or use one stream per value`,
      );
    }
    return row;
  }
}
