/**
 * What every registered expert must do. The suite runs for each expert of a
 * stream built with ALL_ON, so a new expert is checked by being registered
 * (turn it on in ALL_ON if its preset field leaves it off by default).
 */
import assert from "node:assert/strict";
import { EXPERTS } from "../../src/stream/experts.ts";
import { StreamModel } from "../../src/stream/stream.ts";
import { stateArrays, stateScalars } from "../../src/stream/stream_state.ts";
import type { StateArrays } from "../../src/stream/state.ts";
import { FIVE_MIN, room, small, T0 } from "./_series.ts";

const N = 700; // more than a season (288) and the LSTM's warm-up
/** A small preset with every expert on. */
const ALL_ON = small();
const COLUMNS = ["temp", "hum", "door"];
const TARGETS = ["hum", "temp"];

/** A three-column stream with every expert on, fed N readings; returns it and its next reading. */
function warm(n = N) {
  const x = room(n + 60, 21);
  const row = (t: number) => [x[t], 60 - 2 * x[t] + 0.1 * Math.sin(t), t % 40 < 3 ? 1 : 0];
  const s = new StreamModel({ id: "c", preset: ALL_ON, columns: COLUMNS, targets: TARGETS });
  for (let t = 0; t < n; t++) s.observe(T0 + t * FIVE_MIN, row(t));
  return { s, row, next: n };
}

/** A copy of every array, by name. */
function snapshot(a: StateArrays): Record<string, number[]> {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, Array.from(v)]));
}

Deno.test("the experts run in their registered order, persistence first (the blend's fallback)", () => {
  const s = new StreamModel({ id: "o", preset: small(), columns: ["v"] });
  assert.equal(EXPERTS.length, 4);
  assert.deepEqual(s.expertNames, ["persistence", "seasonal", "linear", "lstm"]);
  const off = new StreamModel({
    id: "o",
    preset: small({ model: { ...small().model, enabled: false } }),
    columns: ["v"],
  });
  assert.deepEqual(off.expertNames, ["persistence", "seasonal", "linear"]);
  assert.equal(off.origins.preds.length, (off.Hm + 1) * off.Hm * off.J * 3);
});

Deno.test("every expert's checkpoint names are its own", () => {
  const { s } = warm(10);
  // the stream's own part: what the state holds without any expert's
  const own = new Set(Object.keys(stateArrays({ ...s, experts: [] } as unknown as StreamModel)));
  const ownScalars = new Set(
    Object.keys(stateScalars({ ...s, experts: [] } as unknown as StreamModel)),
  );
  const seen = new Map<string, string>();
  for (const e of s.experts) {
    for (const name of [...Object.keys(e.arrays?.() ?? {}), ...Object.keys(e.scalars?.() ?? {})]) {
      assert.ok(!own.has(name) && !ownScalars.has(name), `${e.name}: "${name}" is the stream's`);
      assert.ok(!seen.has(name), `${e.name}: "${name}" is ${seen.get(name)}'s too`);
      seen.set(name, e.name);
    }
  }
  assert.ok(seen.size > 0);
});

const NAMES = new StreamModel({ id: "n", preset: ALL_ON, columns: COLUMNS }).expertNames;

for (const [e, name] of NAMES.entries()) {
  Deno.test(`${name}: ready once warmed up, with finite forecasts of every target and horizon`, () => {
    const { s } = warm();
    assert.equal(s.expertNames[e], name);
    assert.equal(s.experts[e].ready(), true);
    const o = s.step % s.origins.S;
    assert.ok(s.origins.active[o] & (1 << e), `mask ${s.origins.active[o]}`);
    const f = s.expertForecast(name)!;
    assert.equal(f.length, s.Hm);
    assert.ok(
      f.every((row) => row.length === s.J && row.every(Number.isFinite)),
      JSON.stringify(f),
    );
  });

  Deno.test(`${name}: forecast() writes its own column of the origin slot and changes nothing else`, () => {
    const { s, row, next } = warm();
    const expert = s.experts[e];
    const o = s.step % s.origins.S;
    const before = snapshot(stateArrays(s));
    const mine = (k: number) => k % s.E === e && Math.floor(k / (s.Hm * s.J * s.E)) === o;
    // blank its column of the newest slot, forecast again from the same reading
    s.origins.preds.forEach((_, k) => {
      if (mine(k)) s.origins.preds[k] = NaN;
    });
    expert.forecast(o, s.lastTs, row(next - 1), e);
    assert.deepEqual(snapshot(stateArrays(s)), before, "the same forecast, nothing else touched");
  });

  Deno.test(`${name}: a restored stream's ${name} forecasts alike, now and after more readings`, () => {
    const { s, row, next } = warm();
    const b = new StreamModel({ id: "c", preset: ALL_ON, columns: COLUMNS, targets: TARGETS });
    b.restore(s.toBytes());
    assert.deepEqual(b.expertForecast(name), s.expertForecast(name));
    for (let t = next; t < next + 40; t++) {
      s.observe(T0 + t * FIVE_MIN, row(t));
      b.observe(T0 + t * FIVE_MIN, row(t));
    }
    assert.deepEqual(b.expertForecast(name), s.expertForecast(name));
  });
}
