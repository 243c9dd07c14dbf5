/**
 * Checkpoints written before issue 11 (tests/fixtures/checkpoint_v2, commit
 * 7155047) restore with today's settings: the arrays issue 11 added are
 * absent from them and start afresh, and the streams carry on soundly.
 */
import assert from "node:assert/strict";
import { getPreset } from "../../src/stream/preset.ts";
import { Engine } from "../../src/stream/engine.ts";
import { StreamModel } from "../../src/stream/stream.ts";
import { linear } from "./_series.ts";

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
    // and so they do at the budget read as a p-value threshold, which holds
    // no lower than the record's until the record holds a week (budget.ts)
    const before = next.observations.flatMap((o, k) => (o.event?.type === "opened" ? [k] : []));
    assert.deepEqual(before, name === "room" ? [30] : [59]);
    assert.deepEqual(opened, name === "room" ? [30] : []);
    const f = stream.forecast()!;
    for (const t of Object.values(f.targets)) assert.ok(t.point.every(Number.isFinite));
    for (const r of linear(stream).rls) {
      assert.ok(r.W.every(Number.isFinite) && r.P.every(Number.isFinite));
    }
    // and today's state, cycle included, round-trips
    const twin = new StreamModel({ id: s.id, ...opts });
    twin.restore(stream.toBytes());
    assert.deepEqual(twin.toBytes(), stream.toBytes());
    assert.deepEqual([...linear(twin).rls[0].cycle], [...linear(stream).rls[0].cycle]);
    assert.ok(linear(stream).rls[0].cycle[0] > 0, "the cycle moved on");
  });
}
