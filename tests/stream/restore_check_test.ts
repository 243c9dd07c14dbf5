/**
 * restore() refuses a checkpoint whose values a healthy stream cannot hold,
 * even with its checksum recomputed (issue item 9), naming what and where,
 * and leaves the stream as it was.
 */
import assert from "node:assert/strict";
import { StreamModel } from "../../src/stream/stream.ts";
import { encodeState, readState, type StateArrays } from "../../src/stream/state.ts";
import { crc32 } from "../../src/stream/crc32.ts";
import { feed, room, small, T0 } from "./_series.ts";

const preset = small();
const x = room(400, 31);

function trained(): StreamModel {
  const s = new StreamModel({ id: "c", preset, columns: ["v"] });
  feed(s, x, 0, 300);
  return s;
}

/** The checkpoint of a trained stream, changed by `edit` and encoded again (a valid checksum). */
function tampered(
  edit: (scalars: Record<string, unknown>, arrays: StateArrays) => void,
): Uint8Array {
  const { scalars, arrays } = readState(trained().toBytes());
  edit(scalars as Record<string, unknown>, arrays);
  return encodeState(scalars, arrays);
}

/** restore() into a fresh and a trained stream throws matching `pattern`; neither changes. */
function refused(bytes: Uint8Array, pattern: RegExp, latestTs?: number): void {
  for (const s of [new StreamModel({ id: "c", preset, columns: ["v"] }), trained()]) {
    const before = s.toBytes();
    assert.throws(() => s.restore(bytes, { latestTs }), pattern);
    assert.deepEqual(s.toBytes(), before, "a refused checkpoint changes nothing");
  }
}

Deno.test("restore() takes a checkpoint of a healthy stream, and one with lastTs up to latestTs", () => {
  const a = trained();
  const b = new StreamModel({ id: "c", preset, columns: ["v"] });
  b.restore(a.toBytes(), { latestTs: a.lastTs });
  assert.deepEqual(b.toBytes(), a.toBytes());
  refused(a.toBytes(), /'lastTs' must be at most .*: current value is /, a.lastTs - 1);
});

Deno.test("restoreNew() restores a new stream as restore() does and refuses what it refuses", () => {
  const a = trained();
  const b = new StreamModel({ id: "c", preset, columns: ["v"] });
  b.restoreNew(a.toBytes(), { latestTs: a.lastTs });
  assert.deepEqual(b.toBytes(), a.toBytes());
  const fresh = () => new StreamModel({ id: "c", preset, columns: ["v"] });
  assert.throws(() => fresh().restoreNew(a.toBytes(), { latestTs: a.lastTs - 1 }), /'lastTs' must/);
  assert.throws(
    () => fresh().restoreNew(tampered((_, x) => (x.params[7] = NaN))),
    /array "params" must hold finite numbers .*: current value at \[7\] is NaN$/,
  );
});

Deno.test("restore() refuses NaN, infinite and overflowing arrays, naming the array and the index", () => {
  refused(
    tampered((_, a) => (a.params[7] = NaN)),
    /^RangeError: Cannot restore stream state: array "params" must hold finite numbers of at most 1000000 in magnitude: current value at \[7\] is NaN$/,
  );
  refused(
    tampered((_, a) => (a.params[0] = 1e30)),
    /array "params" must hold finite numbers of at most 1000000 in magnitude: current value at \[0\] is 1\.0+\d*e\+30$/,
  );
  refused(
    tampered((_, a) => (a.q[2] = NaN)),
    /array "q" must hold finite numbers of at least 0 and at most 1e\+30: current value at \[2\] is NaN$/,
  );
  refused(
    tampered((_, a) => (a.rlsW0[1] = Infinity)),
    /array "rlsW0" must hold finite numbers of at most 1e\+30 in magnitude: current value at \[1\] is Infinity$/,
  );
  refused(
    tampered((_, a) => (a.levelM2[0] = -1)),
    /array "levelM2" must hold finite numbers of at least 0: current value at \[0\] is -1$/,
  );
  refused(
    tampered((_, a) => (a.hits[0] = a.n[0] + 5)),
    /array "hits" must hold at most the forecasts scored \("n"\): current value at \[0\] is/,
  );
  refused(
    tampered((_, a) => (a.active[0] = 1 << 9)),
    /array "active" must hold masks of the 4 experts \(0 to 15\): current value at \[0\] is 512$/,
  );
});

Deno.test("restore() refuses scalars out of range: negative counts, a lastTs too late, wrong types", () => {
  refused(
    tampered((s) => (s.readings = -5)),
    /^RangeError: Cannot restore stream state: 'readings' must be an integer of at least 0: current value is -5$/,
  );
  refused(
    tampered((s) => (s.learnedReadings = (s.readings as number) + 1)),
    /'learnedReadings' must be at most 'readings' \(300\): current value is 301$/,
  );
  refused(
    tampered((s) => (s.lastTs = Date.UTC(2100, 0, 1))),
    /'lastTs' must be at most 2026-.*: current value is 2100-01-01T00:00:00.000Z$/,
    Date.UTC(2026, 5, 1),
  );
  refused(
    tampered((s) => (s.periodMs = -300_000)),
    /'periodMs' must be a positive number of ms or null: current value is -300000$/,
  );
  refused(
    tampered((s) => (s.frozen = "yes")),
    /'frozen' must be true or false: current value is "yes"$/,
  );
  refused(
    tampered((s) => (s.histLen = 10_000)),
    /'histLen' must be an integer from 0 to \d+ \(the history's rows\): current value is 10000$/,
  );
  refused(
    tampered((s) => ((s.alerts as unknown[])[0] = "panic")),
    /'alerts\[0\]' must be one of warming_up, normal, anomaly: current value is "panic"$/,
  );
  refused(
    tampered((s) => ((s.trainer as number[])[0] = 99)),
    /'trainer\[0\]' must be an integer from 0 to 8 \(the window\): current value is 99$/,
  );
  refused(
    tampered((s) => ((s.level as number[])[0] = -1)),
    /'level\[0\]' must be a finite number of at least 0: current value is -1$/,
  );
});

Deno.test("a stream restores from a refused checkpoint's twin after a good one: restore() is all or nothing", () => {
  const good = trained().toBytes();
  const s = new StreamModel({ id: "c", preset, columns: ["v"] });
  assert.throws(() => s.restore(tampered((_, a) => (a.adamV[3] = -1))), /"adamV"/);
  s.restore(good);
  assert.deepEqual(s.toBytes(), good);
  s.observe(T0 + 300 * 300_000, [x[300]]);
  assert.equal(s.readings, 301);
});

Deno.test("restore() refuses a period estimator out of its window", () => {
  refused(
    tampered((s) => ((s.period as number[])[0] = 99)),
    /'period\[0\]' must be an integer from 0 to 15 \(the window\): current value is 99$/,
  );
  refused(
    tampered((s) => ((s.period as number[])[3] = 2)),
    /'period\[3\]' must be a share from 0 to 1: current value is 2$/,
  );
  refused(
    tampered((_, a) => (a.periodRecent[0] = -300_000)),
    /array "periodRecent" must hold finite numbers of at least 0 and at most 1e\+30: current value at \[0\] is -300000$/,
  );
});

Deno.test("restore() refuses the shape detector, the budget, the guard and the ridge cycle out of range", () => {
  refused(
    tampered((s) => ((s.shape as number[])[1] = 40)),
    /'shape\[1\]' must be an integer from 0 to 32: current value is 40$/,
  );
  refused(
    tampered((s) => ((s.shape as number[])[4] = 300)),
    /'shape\[4\]' must be an integer from 0 to 256 \(the memory's shapes\): current value is 300$/,
  );
  refused(
    tampered((s) => ((s.budget as number[])[3] = 1)),
    /'budget\[3\]' must be a likelihood above 0 and below 1: current value is 1$/,
  );
  refused(
    tampered((s) => ((s.budget as unknown[])[4] = 1)),
    /'budget\[4\]' must be true or false: current value is 1$/,
  );
  refused(
    tampered((s) => ((s.guard as unknown[])[0] = "panic")),
    /'guard\[0\]' must be one of warming_up, normal, anomaly: current value is "panic"$/,
  );
  refused(
    tampered((_, a) => (a.rlsC0[0] = 999)),
    /'rlsC0\[0\]' must be an integer from 0 to \d+ \(the features\): current value is 999$/,
  );
  refused(
    tampered((_, a) => (a.budgetBins[5] = -1)),
    /array "budgetBins" must hold finite numbers of at least 0/,
  );
});

Deno.test("restore() refuses a packed checkpoint with a byte changed or cut short, with the reason", () => {
  const bytes = trained().toBytes();
  assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint16(4, true), 4, "packed");
  const flipped = bytes.slice();
  flipped[bytes.length >> 1] ^= 0x10;
  refused(
    flipped,
    /^RangeError: Cannot restore stream state: the checksum must match the contents/,
  );
  // cut short with its checksum recomputed, as a file truncated and "repaired" would be
  const cut = bytes.slice(0, bytes.length - 100);
  new DataView(cut.buffer).setUint32(cut.length - 4, crc32(cut.subarray(0, cut.length - 4)), true);
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(7, true);
  refused(
    cut,
    new RegExp(
      `^RangeError: Cannot restore stream state: the packed state must decompress to its ${length} bytes`,
    ),
  );
});
