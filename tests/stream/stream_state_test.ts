import assert from "node:assert/strict";
import { StreamModel } from "../../src/stream/stream.ts";
import { encodeState, packState, readState, type StateArrays } from "../../src/stream/state.ts";
import { feed, FIVE_MIN, room, small, T0 } from "./_series.ts";

/** Re-encodes a state with its arrays edited by `edit`: as an older forecastd would have written it. */
function rewriteState(
  bytes: Uint8Array,
  edit: (arrays: StateArrays) => StateArrays,
  editScalars = (scalars: Record<string, unknown>) => scalars,
): Uint8Array {
  const { scalars, arrays } = readState(bytes);
  return encodeState(editScalars(scalars as Record<string, unknown>), edit(arrays));
}

Deno.test("toBytes()/restore() continues exactly where the stream left off", () => {
  const x = room(900, 8);
  const preset = small();
  const a = new StreamModel({ id: "r", preset, columns: ["v"] });
  feed(a, x, 0, 600);
  const b = new StreamModel({ id: "r", preset, columns: ["v"] });
  b.restore(a.toBytes());
  assert.deepEqual(b.forecast(), a.forecast());
  for (let t = 600; t < 900; t++) {
    const oa = a.observe(T0 + t * FIVE_MIN, [x[t]]);
    const ob = b.observe(T0 + t * FIVE_MIN, [x[t]]);
    assert.deepEqual(ob, oa, `t=${t}`);
  }
  assert.deepEqual(b.forecast(), a.forecast());
  assert.deepEqual(b.stats(), a.stats());
});

Deno.test("restore() takes a state saved before the blend kept error products: all but the blend carries on", () => {
  const x = room(900, 8);
  const preset = small();
  const a = new StreamModel({ id: "r", preset, columns: ["v"] });
  feed(a, x, 0, 600);
  // the older layout: the experts' mean squared errors (slots, E) instead of
  // their products, the scorer's onsets dense and no peaks of their own for
  // alerts, no density test
  const onsets = new Float64Array(a.scorer.opts.refractory);
  onsets[a.scorer.onsets.slot] = a.scorer.onsets.value;
  const legacy = rewriteState(a.toBytes(), (arrays) => {
    const { blendCov, unusual: _u, ...rest } = arrays;
    return { ...rest, onsets, blendLoss: new Float64Array(blendCov.length / a.E).fill(0.5) };
  }, (scalars) => ({ ...scalars, scorer: (scalars.scorer as number[]).slice(0, 3) }));
  const b = new StreamModel({ id: "r", preset, columns: ["v"] });
  b.restore(legacy);
  assert.deepEqual(Array.from(b.net!.params), Array.from(a.net!.params), "the LSTM's weights");
  assert.equal(b.readings, a.readings);
  assert.equal(b.trainer!.updates, a.trainer!.updates);
  assert.ok(b.blend.count.every((c) => c === 0), "the blend starts over");
  assert.deepEqual(
    [b.scorer.peaks.value, b.scorer.peaks.slot],
    [a.scorer.onsets.value, a.scorer.onsets.slot],
    "the onsets stand in for the peaks",
  );
  assert.ok(a.scorer.unusualTotal > 0, "the density test had learned");
  assert.equal(b.scorer.unusualTotal, 0, "the density test starts to learn the counts");
  assert.ok(a.scorer.mostUnusual > 0);
  assert.equal(b.scorer.mostUnusual, 0);
  assert.ok(b.scorer.unusual.every((v) => v === 0));
  assert.equal(b.scorer.runOnset, 0, "no incident under way");
  assert.equal(b.scorer.total, a.scorer.total, "the surprise distribution carries on");
  // and learns again: persistence first, the others once they have a record
  feed(b, x, 600, 900);
  assert.ok(b.blend.count.some((c) => c > 0));
  const f = b.forecast()!;
  assert.ok(f.targets.v.point.every(Number.isFinite));

  const unknown = rewriteState(
    a.toBytes(),
    (arr) => ({ ...arr, somethingElse: new Float64Array(3) }),
  );
  assert.throws(
    () => b.restore(unknown),
    /Cannot restore stream state: array "somethingElse" is not part of this stream's state/,
  );
});

Deno.test("restore() refuses the state of a stream with another shape, naming the array", () => {
  const a = new StreamModel({ id: "r", preset: small(), columns: ["v"] });
  feed(a, room(50, 9));
  const b = new StreamModel({ id: "r", preset: small(), columns: ["v", "w"] });
  assert.throws(() => b.restore(a.toBytes()), /Cannot restore stream state: array "\w+" must hold/);
  const bytes = a.toBytes();
  bytes[40] ^= 1;
  assert.throws(() => a.restore(bytes), /checksum must match/);
});

Deno.test("restore() takes a state of a stream without the LSTM that still held the LSTM's input", () => {
  const base = small();
  const preset = { ...base, model: { ...base.model, enabled: false } };
  const make = () => new StreamModel({ id: "n", preset, columns: ["v", "w"] });
  const x = room(700, 14);
  const a = make();
  for (let t = 0; t < 500; t++) a.observe(T0 + t * FIVE_MIN, [x[t], 2 * x[t + 1]]);
  const now = readState(a.toBytes());
  assert.ok(!("lastInput" in now.arrays), "a stream without the LSTM keeps no LSTM input");
  assert.ok(!("hasInput" in (now.scalars as object)) && !("trainer" in (now.scalars as object)));
  // as forecastd wrote it before the experts had an interface: (2I + calendar) zeros and two scalars
  const legacy = rewriteState(
    a.toBytes(),
    (arrays) => ({ ...arrays, lastInput: new Float32Array(2 * 2 + 4) }),
    (scalars) => ({ ...scalars, hasInput: false, trainer: null }),
  );
  const b = make();
  b.restore(legacy);
  assert.deepEqual(b.toBytes(), a.toBytes());
  for (let t = 500; t < 600; t++) {
    const row = [x[t], 2 * x[t + 1]];
    assert.deepEqual(
      b.observe(T0 + t * FIVE_MIN, row),
      a.observe(T0 + t * FIVE_MIN, row),
      `t=${t}`,
    );
  }
  assert.deepEqual(b.forecast(), a.forecast());
  // a stream with the LSTM has a column more for it (E = 4 experts, not 3)
  const withLstm = new StreamModel({ id: "n", preset: base, columns: ["v", "w"] });
  assert.throws(
    () => withLstm.restore(a.toBytes()),
    /array "preds" must hold 336 Float64Array values for this configuration: it holds 252$/,
  );
});

Deno.test("a young stream's shape memory is held as it fills; its checkpoint holds the whole", () => {
  const x = room(900, 8);
  const preset = small();
  const a = new StreamModel({ id: "r", preset, columns: ["v"] });
  let t = 0;
  for (; a.shape.used === 0 || a.shape.used % 16 !== 1; t++) a.observe(T0 + t * FIVE_MIN, [x[t]]);
  const { K, M, used } = a.shape;
  assert.ok(used < M, `${used} of ${M} slots used at t=${t}`);
  assert.equal(a.shape.memory.length, Math.max(16, 2 ** Math.ceil(Math.log2(used))) * K);
  // the checkpoint: the whole (M, K) array, the bytes an array of every slot would make
  const bytes = a.toBytes();
  const { scalars, arrays } = readState(bytes);
  const whole = new Float32Array(M * K);
  whole.set(a.shape.memory);
  assert.deepEqual(arrays.shapeMemory, whole);
  assert.deepEqual(packState(encodeState(scalars, arrays)), bytes);
  // restored: the slots in use, and on as the live stream goes
  const b = new StreamModel({ id: "r", preset, columns: ["v"] });
  b.restore(bytes);
  assert.equal(b.shape.memory.length, used * K);
  for (; t < 900; t++) {
    assert.deepEqual(b.observe(T0 + t * FIVE_MIN, [x[t]]), a.observe(T0 + t * FIVE_MIN, [x[t]]));
  }
  assert.deepEqual(b.toBytes(), a.toBytes());
  // a memory of another length is refused, naming it
  arrays.shapeMemory = whole.slice(K);
  assert.throws(
    () =>
      new StreamModel({ id: "r", preset, columns: ["v"] }).restore(encodeState(scalars, arrays)),
    new RegExp(`array "shapeMemory" must hold ${M * K} Float32Array values`),
  );
});

Deno.test("a checkpoint is packed; the same state unpacked (version 3) restores to the same stream", () => {
  const x = room(700, 5);
  const preset = small();
  const a = new StreamModel({ id: "p", preset, columns: ["v"] });
  for (let t = 0; t < 600; t++) a.observe(T0 + t * FIVE_MIN, [x[t]]);
  const bytes = a.toBytes();
  const { scalars, arrays } = readState(bytes);
  const plain = encodeState(scalars, arrays);
  assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint16(4, true), 4);
  assert.ok(bytes.length < plain.length, `${bytes.length} against ${plain.length} bytes`);
  const b = new StreamModel({ id: "p", preset, columns: ["v"] });
  b.restore(plain);
  const c = new StreamModel({ id: "p", preset, columns: ["v"] });
  c.restore(bytes);
  assert.deepEqual(b.toBytes(), bytes);
  assert.deepEqual(c.toBytes(), bytes);
  for (let t = 600; t < 700; t++) {
    const want = a.observe(T0 + t * FIVE_MIN, [x[t]]);
    assert.deepEqual(b.observe(T0 + t * FIVE_MIN, [x[t]]), want);
    assert.deepEqual(c.observe(T0 + t * FIVE_MIN, [x[t]]), want);
  }
  assert.deepEqual(c.toBytes(), a.toBytes());
});

Deno.test("toBytes() makes no new array of the uncompressed state's size: it encodes into a kept one", () => {
  const x = room(400, 8);
  const a = new StreamModel({ id: "r", preset: small(), columns: ["v"] });
  feed(a, x, 0, 300);
  const first = a.toBytes(); // the kept buffer grows to its size here, once
  const plainLength = new DataView(first.buffer, first.byteOffset).getUint32(7, true);
  // every new Uint8Array of a length counted (a view of a buffer is not an allocation)
  const lengths: number[] = [];
  const Original = globalThis.Uint8Array;
  class Counted extends Original {
    // deno-lint-ignore no-explicit-any
    constructor(...args: any[]) {
      // deno-lint-ignore no-explicit-any
      super(...(args as [any]));
      if (typeof args[0] === "number") lengths.push(args[0]);
    }
  }
  let again: Uint8Array[];
  globalThis.Uint8Array = Counted as Uint8ArrayConstructor;
  try {
    again = [a.toBytes(), a.toBytes(), a.toBytes()];
  } finally {
    globalThis.Uint8Array = Original;
  }
  const whole = lengths.filter((n) => n >= plainLength);
  assert.deepEqual(whole, [], `arrays of ${plainLength} bytes or more: ${whole.join(", ")}`);
  // (made while counted: Counted arrays, compared as plain ones)
  for (const b of again) assert.deepEqual(new Original(b.buffer, b.byteOffset, b.length), first);
});
