/**
 * A reading's values in its stream's column order, in one buffer per number
 * of columns, so that taking a reading allocates nothing: the engine copies
 * what it keeps of a reading (no part holds the caller's values between
 * readings), so the streams of one width share a buffer (one per stream
 * took some 500 bytes a stream with its ArrayBuffer).
 */
import type { Reading } from "../domain/reading.ts";
import { ReadingError, type StreamModel } from "../stream/stream.ts";

/** The row buffers, one per number of columns. */
export class ReadingRows {
  readonly #rows = new Map<number, Float64Array>();

  /**
   * Reading `r`'s values in `stream`'s column order (the buffer is reused by
   * the next reading of any stream of as many columns); throws a
   * ReadingError (missing_value) unless its value names are exactly the
   * stream's columns.
   */
  of(stream: StreamModel, r: Reading): Float64Array {
    const cols = stream.columns;
    let row = this.#rows.get(cols.length);
    if (!row) this.#rows.set(cols.length, row = new Float64Array(cols.length));
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
