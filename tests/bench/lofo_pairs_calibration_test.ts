/**
 * bench/lofo.ts --calibration=pairs: the agreeing pairs' evidence against a
 * valid p-value, per candidate and family and on the noise files (the files
 * without windows).
 */
import assert from "node:assert/strict";
import { runLofo } from "./_lofo.ts";

interface Row {
  candidate: string;
  rows: string;
  readings: number;
  exceed: number;
  upcross: number;
  fusedExceed: number;
  ownExceed: number;
  ownUpcross: number;
  promised: number;
  ratio: number[][];
  shiftedReadings: number;
  shiftedRatio: number[];
}

Deno.test("lofo --calibration=pairs counts the pairs' part against τ, on each family and the noise files", async () => {
  const out = await Deno.makeTempDir({ dir: "/tmp", prefix: "forecastd-lofo-pairs-test-" });
  try {
    const grid = `${out}/grid.json`;
    await Deno.writeTextFile(
      grid,
      JSON.stringify([
        { name: "main", set: "" },
        { name: "off", set: "anomaly.agreeingPairs=false" },
      ]),
    );
    const { code, stdout, stderr } = await runLofo(out, [`--grid=${grid}`, "--calibration=pairs"]);
    assert.equal(code, 0, stderr);
    const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
    assert.ok(line, "a RESULT line");
    const rows: Row[] = JSON.parse(line.slice(7)).pairsCalibration;
    const names = (c: string) => rows.filter((r) => r.candidate === c).map((r) => r.rows).sort();
    const families = ["noise files", "synthCounts", "synthEnv", "synthServer", "synthTraffic"];
    assert.deepEqual(names("main"), families);
    assert.deepEqual(names("off"), families);
    for (const r of rows) {
      assert.ok(r.readings > 0 && r.promised > 0, `${r.candidate} ${r.rows}: readings`);
      assert.ok(r.ownExceed <= r.exceed && r.upcross <= r.exceed, `${r.candidate} ${r.rows}`);
      assert.equal(r.ratio.length, 5, "residual, shape, drift, their pair, the part");
      // the pair with the shape detector's evidence half the file away: normal readings both
      assert.ok(r.shiftedReadings > 0 && r.shiftedReadings <= r.readings);
      assert.equal(r.shiftedRatio.length, 5);
    }
    // the noise files are some of the families' readings
    const main = Object.fromEntries(
      rows.filter((r) => r.candidate === "main").map((r) => [r.rows, r]),
    );
    const all = families.slice(1).reduce((n, f) => n + main[f].readings, 0);
    assert.ok(main["noise files"].readings < all);
    // the pairs' part reaches τ on the noise files with the pairs on, never with them off;
    // the fused evidence is the same either way
    assert.ok(main["noise files"].exceed > 0, "the part reaches τ on the noise files");
    for (const r of rows.filter((r) => r.candidate === "off")) {
      assert.equal(r.exceed, 0, `off: ${r.rows}`);
      assert.equal(r.fusedExceed, main[r.rows].fusedExceed, `the fused evidence: ${r.rows}`);
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
