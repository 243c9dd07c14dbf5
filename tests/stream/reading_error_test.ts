import assert from "node:assert/strict";
import { checkReading, ReadingError } from "../../src/stream/reading_error.ts";
import { ValueBounds } from "../../src/stream/value_bounds.ts";

const bounds = new ValueBounds(2, { maxSpreads: 100 });
bounds.add([18, 40]);
bounds.add([24, 40]);
const stream = { id: "room", columns: ["temp", "hum"], lastTs: Date.UTC(2026, 0, 5), bounds };

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
  assert.equal(
    reason(t + 1, [1, -1e308]),
    "out_of_range: Cannot ingest reading for \"room\": 'hum' must be from -1000000000000000 to 1000000000000000 (maxAbsValue): current value is -1e+308",
  );
  assert.equal(
    reason(t + 1, [625, 2]),
    "out_of_range: Cannot ingest reading for \"room\": 'temp' must be from -582 to 624 (100 times the range of its values so far, 18 to 24, beyond it; maxValueSpreads): current value is 625",
  );
  assert.equal(reason(t + 1, [624, 1e14]), "accepted", "hum is constant: no relative bound");
  assert.equal(reason(t, [625, 2]).split(":")[0], "duplicate", "the time is checked first");
  assert.equal(checkReading({ ...stream, lastTs: NaN }, 0, [1, 2]), undefined, "any time first");
});
