/**
 * Checkpoints written before issue 11 (tests/fixtures/checkpoint_v2, commit
 * 7155047) restore with today's settings: the arrays issue 11 added are
 * absent from them and start afresh, and the streams carry on soundly. Their
 * false-alarm budget has no record, so its alerts are held no lower than the
 * record's threshold until the record holds a week (`held`, budget.ts),
 * across a second restart too; a new stream and a checkpoint of issue 11
 * with its record are not held.
 */
import assert from "node:assert/strict";
import { getPreset } from "../../src/stream/preset.ts";
import { Engine } from "../../src/stream/engine.ts";
import { StreamModel } from "../../src/stream/stream.ts";
import { evidenceToUnit } from "../../src/stream/anomaly.ts";
import { encodeState, readState } from "../../src/stream/state.ts";
import { feed, FIVE_MIN, linear, room, small, T0 } from "./_series.ts";

const DIR = new URL("../fixtures/checkpoint_v2/", import.meta.url);

interface Next {
  stream: { id: string; preset: string; columns: string[]; targets: string[]; periodMs: number };
  readings: { ts: number; values: number[] }[];
  observations: { event: { type: string } | null }[];
}

for (const name of ["room", "plant"]) {
  Deno.test(`a ${name} checkpoint of commit 7155047 restores with today's settings and carries on`, async () => {
    const next: Next = JSON.parse(await Deno.readTextFile(new URL(`${name}.next.json`, DIR)));
    const bytes = await Deno.readFile(new URL(`${name}.state.bin`, DIR));
    const s = next.stream;
    const opts = {
      preset: getPreset(s.preset),
      columns: s.columns,
      targets: s.targets,
      periodMs: s.periodMs,
    };
    const engine = new Engine();
    const stream = engine.create(s.id, opts);
    stream.restore(bytes);
    assert.equal(stream.budget.held, true, "no record in the checkpoint: held");
    assert.ok(stream.preset.linear.holdRidge, "today's preset holds the ridge");
    for (const r of linear(stream).rls) assert.deepEqual([...r.cycle], [0, 0], "a fresh cycle");
    const opened: number[] = [];
    next.readings.forEach((r, k) => {
      const obs = engine.observe(s.id, r.ts, r.values);
      for (const v of [obs.score, obs.likelihood, obs.onset, obs.percentile]) {
        assert.ok(v !== null && v >= 0 && v <= 1, `reading ${k}: ${JSON.stringify(obs)}`);
      }
      if (obs.event?.type === "opened") opened.push(k);
    });
    // the room's spike at its reading 1,530 opens its alert as the old code's
    // did; the plant's "rise" at the end, which the old code alerted on, is
    // its trend (t / 300 on a daily cycle) setting two records in a row: the
    // restored stream's budget has no record yet, so its alerts open at the
    // fixed threshold, where an excursion's records count once (scoring.ts),
    // and so they do at the budget read as a p-value threshold, held no
    // lower than the record's until the record holds a week (budget.ts)
    const before = next.observations.flatMap((o, k) => (o.event?.type === "opened" ? [k] : []));
    assert.deepEqual(before, name === "room" ? [30] : [59]);
    assert.deepEqual(opened, name === "room" ? [30] : []);
    assert.equal(stream.budget.held, true, "less than a week of record: still held");
    // a second restart inside that week keeps it held: the same alerts
    const first = new Engine(), again = new Engine();
    first.create(s.id, opts).restore(bytes);
    const restarted: number[] = [];
    next.readings.forEach((r, k) => {
      if (k === 30) again.create(s.id, opts).restore(first.get(s.id)!.toBytes());
      const obs = (k < 30 ? first : again).observe(s.id, r.ts, r.values);
      if (obs.event?.type === "opened") restarted.push(k);
    });
    assert.equal(again.get(s.id)!.budget.held, true, "held after the second restart");
    assert.deepEqual(restarted, opened, "restarted at reading 30");
    const f = stream.forecast()!;
    for (const t of Object.values(f.targets)) assert.ok(t.point.every(Number.isFinite));
    for (const r of linear(stream).rls) {
      assert.ok(r.W.every(Number.isFinite) && r.P.every(Number.isFinite));
    }
    // and today's state, cycle included, round-trips
    const twin = new StreamModel({ id: s.id, ...opts });
    twin.restore(stream.toBytes());
    assert.deepEqual(twin.toBytes(), stream.toBytes());
    assert.equal(twin.budget.held, true);
    assert.deepEqual([...linear(twin).rls[0].cycle], [...linear(stream).rls[0].cycle]);
    assert.ok(linear(stream).rls[0].cycle[0] > 0, "the cycle moved on");
  });
}

/** The budget read as a p-value threshold at one reading per 5 minutes (2,016 a week), as a likelihood. */
const P_VALUE_LEVEL = evidenceToUnit(Math.log(2016) + 2);

Deno.test("a new stream is not held: its alerts open at the budget read as a p-value threshold from its warm-up on", () => {
  const s = new StreamModel({ id: "n", preset: small(), columns: ["v"] });
  assert.equal(s.budget.held, false);
  feed(s, room(400, 31));
  // 300 readings of record, a seventh of a week: the record alone would hold the fixed threshold
  assert.equal(s.alerts.state, "normal");
  assert.ok(s.budget.readings < 0.5 * 2016, `${s.budget.readings} readings of record`);
  assert.equal(s.alerts.threshold, P_VALUE_LEVEL);
  assert.ok(P_VALUE_LEVEL < s.preset.anomaly.threshold, "below the fixed threshold");
  assert.equal(s.budget.held, false);
});

Deno.test("a checkpoint of issue 11 before the twelfth round (a budget of four numbers) restores not held", () => {
  const a = new StreamModel({ id: "o", preset: small(), columns: ["v"] });
  const x = room(500, 7);
  feed(a, x, 0, 300);
  const { scalars: raw, arrays } = readState(a.toBytes());
  const scalars = raw as Record<string, unknown>;
  const budget = scalars.budget as unknown[];
  assert.deepEqual(budget.slice(4), [false], "today's checkpoint holds `held`");
  scalars.budget = budget.slice(0, 4);
  const b = new StreamModel({ id: "o", preset: small(), columns: ["v"] });
  b.restore(encodeState(scalars, arrays));
  assert.equal(b.budget.held, false, "its record is the stream's own");
  assert.deepEqual(b.toBytes(), a.toBytes());
  // and it carries on as the stream it was written from
  for (let t = 300; t < 500; t++) {
    const [oa, ob] = [a, b].map((s) => s.observe(T0 + t * FIVE_MIN, [x[t]]));
    assert.deepEqual(ob, oa, `reading ${t}`);
  }
  assert.equal(b.alerts.threshold, P_VALUE_LEVEL);
});

Deno.test("a budget without the p-value's calibration (pi-small) is not held: the mark would move nothing", () => {
  const p = getPreset("pi-small");
  const preset = { ...p, model: { ...p.model, hidden: 8, window: 8 }, horizons: 6 };
  const x = room(2600, 41);
  const a = new StreamModel({ id: "pi", preset, columns: ["v"] });
  assert.equal(a.budget.mayHold, false, "no drift detector: the record's threshold");
  feed(a, x, 0, 600);
  // a checkpoint before issue 11 (no budget record) and one that carries `held` as true
  const { scalars: raw, arrays } = readState(a.toBytes());
  const scalars = raw as Record<string, unknown>;
  const { budget, ...noRecord } = scalars;
  const { budgetBins: _, ...noBins } = arrays;
  const heldTrue = { ...scalars, budget: [...(budget as unknown[]).slice(0, 4), true] };
  for (
    const [name, bytes] of [
      ["no record", encodeState(noRecord, noBins)],
      ["held", encodeState(heldTrue, arrays)],
    ] as const
  ) {
    const b = new StreamModel({ id: "pi", preset, columns: ["v"] });
    b.restore(bytes);
    assert.equal(b.budget.held, false, `${name}: not held`);
    assert.deepEqual((readState(b.toBytes()).scalars as { budget: unknown[] }).budget[4], false);
    // and the mark changes no alert: a twin marked by hand alerts the same
    const twin = new StreamModel({ id: "pi", preset, columns: ["v"] });
    twin.restore(bytes);
    twin.budget.held = true;
    let opened = 0;
    for (let t = 600; t < 2600; t++) {
      const ts = T0 + t * FIVE_MIN;
      const y = t === 2000 ? x[t] + 5 : x[t];
      const ob = b.observe(ts, [y]), ot = twin.observe(ts, [y]);
      assert.deepEqual(ob, ot, `${name}: reading ${t}`);
      if (ob.event?.type === "opened") opened++;
    }
    assert.ok(opened > 0, `${name}: the spike at 2,000 opened an alert`);
    assert.equal(twin.budget.held, true, `${name}: the hand-made mark never clears`);
  }
  // with the drift detector (the default preset) the restore still holds a stream without a record
  const d = new StreamModel({ id: "d", preset: small(), columns: ["v"] });
  feed(d, x, 0, 300);
  const s = readState(d.toBytes());
  const { budget: _b, ...without } = s.scalars as Record<string, unknown>;
  const { budgetBins: _bb, ...bins } = s.arrays;
  const e = new StreamModel({ id: "d", preset: small(), columns: ["v"] });
  e.restore(encodeState(without, bins));
  assert.equal(e.budget.held, true);
});
