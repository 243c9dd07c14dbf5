/**
 * The replay command end to end: `deno task replay` as a user runs it (the
 * task's own permissions), in a subprocess, and the preset a replay builds.
 * Its argument parsing is tested in tests/cli/replay_test.ts.
 */
import assert from "node:assert/strict";
import { formatReport, type ReplayArgs, streamPreset } from "../../src/replay/cli.ts";
import { parseReplayArgs } from "../../src/cli/replay.ts";
import { withTempDir } from "../_helpers.ts";

const ROOT = new URL("../../", import.meta.url);
const FIXTURE = new URL("../fixtures/replay_small.csv", import.meta.url);

/** Runs `deno task -q replay ...args` in the project root. */
async function task(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "replay", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function args(a: ReturnType<typeof parseReplayArgs>): ReplayArgs {
  assert.notEqual(a, "help");
  return a as ReplayArgs;
}

/** The bundled CSV under the fsnet protocol, all its rows, as JSON. */
const FSNET_JSON = [FIXTURE.pathname, "--json", "--protocol", "fsnet", "--rows", "all"];

Deno.test("deno task replay --json reports every asked horizon with finite errors and coverage", async () => {
  const r = await task(...FSNET_JSON, "--horizons", "12,1,6");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "", "no progress bar when stderr is not a terminal");
  const j = JSON.parse(r.stdout);
  assert.equal(j.rows, 600);
  assert.deepEqual(j.columns, ["temp", "load"]);
  assert.equal(j.protocol, "fsnet");
  assert.equal(j.hmax, 12);
  assert.deepEqual(j.split, { rows: 600, scaleRows: 120, warmupRows: 150, firstTarget: 150 });
  assert.equal(j.rejectedRows, 0);
  assert.ok(j.seconds > 0 && j.readingsPerSecond > 0);
  assert.deepEqual(j.horizons.map((h: { horizon: number }) => h.horizon), [1, 6, 12]);
  for (const h of j.horizons) {
    assert.ok(Number.isFinite(h.mse) && h.mse > 0, `H=${h.horizon} mse ${h.mse}`);
    assert.ok(Number.isFinite(h.mae) && h.mae > 0, `H=${h.horizon} mae ${h.mae}`);
    assert.ok(h.coverage >= 0 && h.coverage <= 1, `H=${h.horizon} coverage ${h.coverage}`);
    assert.deepEqual(Object.keys(h.experts), [
      "persistence",
      "seasonal",
      "linear",
      "lstm",
      "blend",
    ]);
    for (const [name, v] of Object.entries(h.experts)) {
      assert.ok(Number.isFinite(v), `H=${h.horizon} ${name} ${v}`);
    }
  }
});

Deno.test("deno task replay --warmup-passes 2 feeds the warm-up rows twice and scores the same origins", async () => {
  const run = async (passes: string) => {
    const r = await task(...FSNET_JSON, "--horizons", "1,6", "--warmup-passes", passes);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const [one, two] = [await run("1"), await run("2")];
  assert.equal(one.warmupPasses, 1);
  assert.equal(two.warmupPasses, 2);
  assert.equal(one.readings, 600);
  assert.equal(two.readings, 750, "600 rows and the 150 warm-up rows once more");
  assert.deepEqual(two.split, one.split);
  assert.deepEqual(two.horizons.map((h: { horizon: number }) => h.horizon), [1, 6]);
  for (const [k, h] of two.horizons.entries()) {
    const h1 = one.horizons[k];
    assert.equal(h.origins, h1.origins, `H=${h.horizon}: the same origins`);
    assert.equal(h.experts.persistence, h1.experts.persistence, `H=${h.horizon}`);
    assert.notEqual(h.mse, h1.mse, `H=${h.horizon}: the second pass changed the model`);
  }
  assert.match(
    formatReport(two),
    /120-149 validation, fed unscored \(2 passes\); targets rows 150-599/,
  );
  assert.doesNotMatch(formatReport(one), /passes/);
});

Deno.test("deno task replay --anomaly-out writes NAB's layout, one line per row, 0 for rejected rows", async () => {
  await withTempDir(async (dir) => {
    const lines = (await Deno.readTextFile(FIXTURE)).trimEnd().split("\n");
    lines.splice(301, 0, lines[300]); // a duplicate of row 299 (file row 300)
    const input = `${dir}/with_duplicate.csv`, output = `${dir}/scores.csv`;
    await Deno.writeTextFile(input, lines.join("\r\n") + "\r\n");
    const r = await task(input, "--anomaly-out", output, "--json", "--without", "lstm");
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.rows, 601);
    assert.deepEqual(j.rejected, { duplicate: 1 });
    assert.ok(!("lstm" in j.horizons[0].experts), "--without lstm leaves the LSTM out");
    const got = (await Deno.readTextFile(output)).trimEnd().split("\n");
    assert.equal(got[0], "timestamp,value,anomaly_score");
    assert.equal(got.length, 602, "a header and one line per input row");
    let positive = 0;
    for (let k = 1; k < got.length; k++) {
      const [ts, value, score] = got[k].split(",");
      const [inTs, inTemp] = lines[k].split(",");
      assert.equal(ts, inTs, `line ${k + 1}: the input's timestamp`);
      assert.equal(Number(value), Number(inTemp), `line ${k + 1}: the first target's value`);
      const s = Number(score);
      assert.ok(s >= 0 && s <= 1, `line ${k + 1}: score ${score}`);
      if (s > 0) positive++;
    }
    assert.equal(got[301].split(",")[2], "0", "the rejected duplicate scores 0");
    // the default column is the onset: sparse, one high value where an incident begins
    assert.ok(positive >= 1 && positive < 30, `onset scores: ${positive} positive`);
  });
});

Deno.test("deno task replay prints a table, and exits 2 naming the option for bad input", async () => {
  const ok = await task(FIXTURE.pathname, "--without", "lstm", "--horizons", "1,3");
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^forecastd replay .*replay_small\.csv: 600 rows x 2 columns/);
  assert.match(
    ok.stdout,
    /\n +H +origins +MSE +MAE +cover +cover@H +\| +persistence +seasonal +linear +blend\n +1 +599 /,
  );

  const short = await task(FIXTURE.pathname, "--protocol", "fsnet");
  assert.equal(short.code, 2);
  assert.match(
    short.stderr,
    /--rows 14400 \(the fsnet default\) must be at most the rows of .*: current count is 600/,
  );
  const bad = await task(FIXTURE.pathname, "--horizons", "1,0");
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /--horizons must be a comma-separated list of integers in 1\.\.512: current value is "1,0"/,
  );
});

Deno.test("streamPreset() forecasts max(horizons) steps and leaves the LSTM out with --without lstm", () => {
  const a = args(parseReplayArgs(["x.csv", "--preset", "hourly", "--horizons", "24,1"]));
  assert.equal(streamPreset(a).horizons, 24);
  assert.equal(streamPreset(a).model.enabled, true);
  const b = args(parseReplayArgs(["x.csv", "--horizons", "1,96", "--without", "lstm"]));
  assert.equal(streamPreset(b).horizons, 96);
  assert.equal(streamPreset(b).model.enabled, false);
  assert.equal(streamPreset(b).model.hidden, 32, "the rest of the preset is kept");
});
