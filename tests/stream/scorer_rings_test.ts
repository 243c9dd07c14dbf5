import assert from "node:assert/strict";
import { StreamModel } from "../../src/stream/stream.ts";
import { encodeState, readState } from "../../src/stream/state.ts";
import { kernelKind, useKernels } from "../../src/model/kernels.ts";
import { feed, room, small } from "./_series.ts";

type Next = { readings: { ts: number; values: number[] }[]; observations: unknown[] };

/** The fixture of commit 967b38f (tests/fixtures/make_scorer_rings_fixture.ts) and a stream for it. */
async function fixture(): Promise<{ bytes: Uint8Array; next: Next; stream: () => StreamModel }> {
  const dir = new URL("../fixtures/scorer_rings/", import.meta.url);
  const bytes = await Deno.readFile(new URL("state.bin", dir));
  const next: Next = JSON.parse(await Deno.readTextFile(new URL("next.json", dir)));
  const stream = () => {
    const kind = kernelKind();
    useKernels("ts");
    const p = small(),
      preset = { ...p, anomaly: { ...p.anomaly, drift: { ...p.anomaly.drift, hours: 0 } } };
    const m = new StreamModel({ id: "scorer-rings", preset, columns: ["v"] });
    useKernels(kind);
    return m;
  };
  return { bytes, next, stream };
}

/** The stream's observations of `next`'s readings, as JSON. */
const observe = (m: StreamModel, next: Next) =>
  next.readings.map((r) => JSON.parse(JSON.stringify(m.observe(r.ts, r.values))));

Deno.test("a checkpoint of commit 967b38f, its scorer's rings dense, restores and continues bit for bit", async () => {
  const { bytes, next, stream } = await fixture();
  const stored = readState(bytes);
  const { onsets, peaks } = stored.arrays;
  assert.equal(onsets.length, 500, "the dense layout");
  assert.equal(peaks.length, 500);
  assert.equal((stored.scalars as { scorer: number[] }).scorer.length, 6);
  const m = stream();
  m.restore(bytes);
  // each ring becomes its latest entry: its largest, in its slot
  assert.ok(m.scorer.onsets.value > 0 && m.scorer.peaks.value > 0, "the rings held entries");
  for (const [ring, dense] of [[m.scorer.onsets, onsets], [m.scorer.peaks, peaks]] as const) {
    assert.equal(ring.value, Math.max(...dense));
    assert.equal(dense[ring.slot], ring.value);
  }
  const seen = observe(m, next);
  seen.forEach((o, k) => assert.deepEqual(o, next.observations[k], `observation ${k} after`));
  assert.ok(seen.some((o) => o.onset > 0), "onsets after the restore");
  // the stream's own checkpoint holds them as two numbers each, in the scorer's scalars
  const again = readState(m.toBytes());
  assert.ok(!("onsets" in again.arrays) && !("peaks" in again.arrays));
  const scorer = (again.scalars as { scorer: number[] }).scorer;
  assert.deepEqual(scorer.slice(6), [
    m.scorer.onsets.value,
    m.scorer.onsets.slot,
    m.scorer.peaks.value,
    m.scorer.peaks.slot,
  ]);
});

Deno.test("the 967b38f fixture's rings decide what follows: emptied, the stream reports otherwise", async () => {
  const { bytes, next, stream } = await fixture();
  const m = stream();
  m.restore(bytes);
  m.scorer.onsets.value = 0;
  m.scorer.peaks.value = 0;
  const seen = observe(m, next);
  assert.ok(
    seen.some((o, k) => JSON.stringify(o) !== JSON.stringify(next.observations[k])),
    "without the rings' entries some observation differs",
  );
});

Deno.test("the scorer's rings travel as scalars: restored, checked, a dense ring of another length refused", () => {
  const a = new StreamModel({ id: "r", preset: small(), columns: ["v"] });
  const x = room(900, 4);
  x[700] += 6;
  feed(a, x, 0, 800);
  assert.ok(a.scorer.onsets.value > 0, "an onset in the ring");
  const stored = readState(a.toBytes());
  const b = new StreamModel({ id: "r", preset: small(), columns: ["v"] });
  b.restore(encodeState(stored.scalars, stored.arrays));
  assert.deepEqual([b.scorer.onsets, b.scorer.peaks], [a.scorer.onsets, a.scorer.peaks]);
  const scorer = (stored.scalars as { scorer: number[] }).scorer;
  scorer[7] = 500;
  assert.throws(
    () => b.restore(encodeState(stored.scalars, stored.arrays)),
    /'scorer\[7\]' must be an integer from 0 to 499 \(the refractory period\): current value is 500/,
  );
  scorer[7] = a.scorer.onsets.slot;
  scorer[8] = -1;
  assert.throws(
    () => b.restore(encodeState(stored.scalars, stored.arrays)),
    /'scorer\[8\]' must be a finite number of at least 0: current value is -1/,
  );
  // the dense layout of another refractory period
  const legacy = { ...stored.arrays, onsets: new Float64Array(400), peaks: new Float64Array(400) };
  const six = { ...(stored.scalars as object), scorer: scorer.slice(0, 6) };
  assert.throws(
    () => b.restore(encodeState(six, legacy)),
    /array "onsets" must hold 500 Float64Array values for this configuration: it holds 400/,
  );
  assert.deepEqual([b.scorer.onsets, b.scorer.peaks], [a.scorer.onsets, a.scorer.peaks]);
});
