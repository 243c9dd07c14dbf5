import assert from "node:assert/strict";
import { checkReading, ReadingError } from "../../src/stream/reading_error.ts";

const stream = { id: "room", columns: ["temp", "hum"], lastTs: Date.UTC(2026, 0, 5) };

function reason(ts: number, values: number[]): string {
  try {
    checkReading(stream, ts, values);
    return "accepted";
  } catch (e) {
    assert.ok(e instanceof ReadingError);
    return `${e.reason}: ${e.message}`;
  }
}

Deno.test("checkReading() refuses each kind of bad reading with its reason and message", () => {
  const t = stream.lastTs;
  assert.equal(reason(t + 1, [1, 2]), "accepted");
  assert.equal(
    reason(NaN, [1, 2]),
    'bad_timestamp: Cannot ingest reading for "room": the timestamp must be a finite number of ms: current value is NaN',
  );
  assert.equal(
    reason(t + 1, [1]),
    'missing_value: Cannot ingest reading for "room": it must hold 2 values (temp, hum): current count is 1',
  );
  assert.equal(
    reason(t + 1, [1, Infinity]),
    "not_finite: Cannot ingest reading for \"room\": 'hum' must be a finite number: current value is Infinity",
  );
  assert.equal(
    reason(t, [1, 2]),
    'duplicate: Cannot ingest reading for "room": the timestamp must be after the last one 2026-01-05T00:00:00.000Z: current value is 2026-01-05T00:00:00.000Z',
  );
  assert.match(
    reason(t - 60_000, [1, 2]),
    /^out_of_order: .*current value is 2026-01-04T23:59:00\.000Z$/,
  );
  assert.equal(reason(0, [1, 2]).split(":")[0], "out_of_order");
  assert.equal(checkReading({ ...stream, lastTs: NaN }, 0, [1, 2]), undefined, "any time first");
});
