/**
 * `deno task replay` against labelled anomaly windows: the `alert` column
 * and the --labels / --kinds report, end to end as a user runs them.
 */
import assert from "node:assert/strict";
import { parseReplayArgs } from "../../src/cli/replay.ts";
import { withTempDir } from "../_helpers.ts";

const ROOT = new URL("../../", import.meta.url);
const FIXTURE = new URL("../fixtures/replay_small.csv", import.meta.url);

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

/** The fixture's spike is rows 450-452 (hourly from 2021-03-01 00:00 UTC). */
const LABELS = {
  "fixtures/replay_small.csv": [
    ["2021-03-19 16:00:00.000000", "2021-03-19 22:00:00.000000"], // rows 448-454: the spike
    ["2021-03-23 00:00:00.000000", "2021-03-23 12:00:00.000000"], // rows 528-540: nothing
  ],
};

Deno.test("deno task replay --labels --kinds reports the windows hit, how late, per kind", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/windows.json`, JSON.stringify(LABELS));
    await Deno.writeTextFile(
      `${dir}/kinds.json`,
      JSON.stringify({ "fixtures/replay_small.csv": ["spike", "level_shift"] }),
    );
    const common = [
      FIXTURE.pathname,
      ...["--targets", "temp", "--labels", `${dir}/windows.json`],
      ...["--kinds", `${dir}/kinds.json`, "--without", "lstm"],
    ];
    const r = await task(
      ...common,
      "--json",
      "--anomaly-out",
      `${dir}/alerts.csv`,
      "--anomaly-score",
      "alert",
    );
    assert.equal(r.code, 0, r.stderr);
    const l = JSON.parse(r.stdout).labels;
    assert.equal(l.windows.length, 2);
    const [spike, none] = l.windows;
    assert.ok(
      spike.firstRow >= 450 && spike.firstRow <= 452,
      `spike window: ${JSON.stringify(spike)}`,
    );
    assert.equal(spike.delay, spike.firstRow - 448);
    assert.equal(none.firstRow, -1);
    assert.deepEqual(l.byKind, {
      spike: { windows: 1, hit: 1 },
      level_shift: { windows: 1, hit: 0 },
    });
    // the alert column: 1 exactly where an alert opened; those after the
    // probationary rows (90 of 600) outside both windows are the false alerts
    const rows = (await Deno.readTextFile(`${dir}/alerts.csv`)).trimEnd().split("\n").slice(1);
    assert.equal(rows.length, 600);
    assert.ok(rows.every((line) => /,[01]$/.test(line)));
    const ones = rows.flatMap((line, k) => (line.endsWith(",1") ? [k] : []));
    assert.ok(ones.includes(spike.firstRow), `alert rows ${JSON.stringify(ones)}`);
    const outside = ones.filter((k) =>
      k >= 90 && !(k >= 448 && k <= 454) && !(k >= 528 && k <= 540)
    );
    assert.equal(l.falseAlerts, outside.length, `alert rows ${JSON.stringify(ones)}`);
    // the table says the same in words
    const t = await task(...common);
    assert.equal(t.code, 0, t.stderr);
    assert.match(
      t.stdout,
      /alerts against 2 labelled windows .*: 1 hit, \d+ false alerts in [\d.]+ weeks/,
    );
    assert.match(
      t.stdout,
      /spike +2021-03-19 16:00 \.\. 2021-03-19 22:00 +alert at row 45\d, \d readings into it/,
    );
    assert.match(t.stdout, /level_shift +2021-03-23 00:00 \.\. 2021-03-23 12:00 +missed/);
    assert.match(t.stdout, /per kind: spike 1\/1, level_shift 0\/1/);
  });
});

Deno.test("deno task replay --labels without the file's windows exits 2 naming the key", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/windows.json`, JSON.stringify({ "other/file.csv": [] }));
    const r = await task(FIXTURE.pathname, "--labels", `${dir}/windows.json`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--labels must hold windows for "fixtures\/replay_small.csv"/);
  });
});

Deno.test("parseReplayArgs() takes the alert column, and --kinds only with --labels", () => {
  const a = parseReplayArgs(["x.csv", "--anomaly-score", "alert", "--labels", "w.json"]);
  assert.notEqual(a, "help");
  if (a !== "help") {
    assert.deepEqual([a.anomalyScore, a.labels, a.kinds], ["alert", "w.json", undefined]);
  }
  assert.throws(
    () => parseReplayArgs(["x.csv", "--kinds", "k.json"]),
    /^UsageError: Cannot run replay: --kinds needs --labels \(the windows the kinds describe\): current value is "k.json"$/,
  );
});
