/**
 * bench/lofo.ts's fast mode: its copy of the anomaly path (`simulate`) must
 * reproduce the engine's alerts, stuck runs included, and its self-check
 * must stop when the copy does not (here: the stuck runs fed other raw
 * values than the engine's, as a copy without them would be).
 */
import assert from "node:assert/strict";
import { runLofo } from "./_lofo.ts";

/** Runs bench/lofo.ts on the synthetic corpus, seed 1, up to its calibration table. */
async function lofo(out: string, record: "always" | "auto") {
  const { code, stderr } = await runLofo(out, [`--record=${record}`, "--calibration=true"]);
  return { code, stderr };
}

Deno.test("lofo's fast mode passes its self-check and stops when the stuck runs differ", async () => {
  const out = await Deno.makeTempDir({ dir: "/tmp", prefix: "forecastd-lofo-test-" });
  try {
    const first = await lofo(out, "always");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /synthetic seed 1: 20 recordings \(self-check passed\)/);
    // the file whose stuck sensor opens an alert: its raw values, every one distinct
    const path = `${out}/record/synthetic/seed1/synthCounts__requests_api.csv.json`;
    const rec = JSON.parse(await Deno.readTextFile(path));
    assert.ok(Array.isArray(rec.x) && rec.x.length === rec.rows);
    rec.x = rec.x.map((v: number | null, r: number) => (v === null ? null : r));
    await Deno.writeTextFile(path, JSON.stringify(rec));
    const second = await lofo(out, "auto");
    assert.notEqual(second.code, 0);
    assert.match(
      second.stderr,
      /selfCheck: synthCounts\/requests_api\.csv seed 1 differs at row \d+/,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
