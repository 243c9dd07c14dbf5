/** The replay command's argument parsing (the command itself: tests/replay/cli_test.ts). */
import assert from "node:assert/strict";
import { parseReplayArgs, type ReplayCommandArgs } from "../../src/cli/replay.ts";
import type { ReplayArgs } from "../../src/replay/cli.ts";
import { withTempDir } from "../_helpers.ts";

function args(a: ReturnType<typeof parseReplayArgs>): ReplayArgs {
  assert.notEqual(a, "help");
  return a as ReplayArgs;
}

Deno.test("parseReplayArgs() defaults: all rows online, 14400 under fsnet, horizons 1 and the preset's", () => {
  const online = args(parseReplayArgs(["x.csv"]));
  assert.equal(online.rows, "all");
  assert.equal(online.protocol, "online");
  assert.equal(online.preset.name, "default");
  assert.deepEqual(online.horizons, [1, 24]);
  const fsnet = args(parseReplayArgs(["x.csv", "--protocol", "fsnet", "--preset", "hourly"]));
  assert.equal(fsnet.rows, 14_400);
  assert.deepEqual(fsnet.horizons, [1, 48]);
  assert.equal(
    args(parseReplayArgs(["x.csv", "--protocol", "fsnet", "--rows", "all"])).rows,
    "all",
  );
  assert.equal(online.anomalyScore, "onset");
  assert.equal(parseReplayArgs(["--help"]), "help");
});

Deno.test("parseReplayArgs() names the option and value it refuses", () => {
  assert.throws(() => parseReplayArgs([]), /give exactly one CSV file: current arguments are none/);
  assert.throws(
    () => parseReplayArgs(["x.csv", "--protocol", "informer"]),
    /--protocol must be one of online, fsnet: current value is "informer"/,
  );
  assert.throws(() => parseReplayArgs(["x.csv", "--rows", "1.5"]), /--rows must be .*"1\.5"/);
  assert.throws(
    () => parseReplayArgs(["x.csv", "--without", "linear"]),
    /--without must list experts that can be left out \(lstm\): current value is "linear"/,
  );
  assert.throws(() => parseReplayArgs(["x.csv", "--preset", "nope"]), /Cannot find preset/);
  assert.throws(
    () => parseReplayArgs(["x.csv", "--anomaly-score", "raw"]),
    /--anomaly-score must be one of onset, likelihood, score, percentile, alert: current value is "raw"/,
  );
  // node:util's own refusals are argument errors too, not TypeErrors
  assert.throws(
    () => parseReplayArgs(["x.csv", "--rows", "-5"]),
    (e) =>
      e instanceof RangeError &&
      /Cannot run replay: Option '--rows' argument is ambiguous/.test(e.message),
  );
  assert.throws(
    () => parseReplayArgs(["x.csv", "--bogus"]),
    (e) => e instanceof RangeError && /Cannot run replay: Unknown option '--bogus'/.test(e.message),
  );
});

Deno.test("parseReplayArgs() takes --warmup-passes N >= 1, above 1 only under --protocol fsnet", () => {
  assert.equal(args(parseReplayArgs(["x.csv"])).warmupPasses, 1);
  assert.equal(args(parseReplayArgs(["x.csv", "--warmup-passes", "1"])).warmupPasses, 1);
  assert.equal(
    args(parseReplayArgs(["x.csv", "--protocol", "fsnet", "--warmup-passes", "3"])).warmupPasses,
    3,
  );
  for (const bad of ["0", "-1", "1.5", "2e0", "two", ""]) {
    assert.throws(
      () => parseReplayArgs(["x.csv", "--protocol", "fsnet", `--warmup-passes=${bad}`]),
      (e) =>
        e instanceof RangeError &&
        e.message ===
          `Cannot run replay: --warmup-passes must be an integer of at least 1: current value is "${bad}"`,
      bad,
    );
  }
  assert.throws(
    () => parseReplayArgs(["x.csv", "--warmup-passes", "2"]),
    /--warmup-passes above 1 needs --protocol fsnet, the protocol with warm-up rows \(--protocol online scores every row\): current value is "2"/,
  );
});

Deno.test("parseReplayArgs() takes a preset file ending in .json and names what is wrong with a bad one", async () => {
  await withTempDir(async (dir) => {
    const good = `${dir}/mine.json`;
    await Deno.writeTextFile(
      good,
      JSON.stringify({ name: "mine", model: { hidden: 8, window: 8, seed: 2 }, horizons: 6 }),
    );
    const a = args(parseReplayArgs(["x.csv", "--preset", good]));
    assert.equal(a.preset.name, "mine");
    assert.equal(a.preset.model.seed, 2);
    assert.equal(a.preset.model.hidden, 8);
    assert.equal(a.preset.linear.lags, 4, "fields the file leaves out take the schema's defaults");
    assert.deepEqual(a.horizons, [1, 6]);

    const bad = `${dir}/bad.json`;
    await Deno.writeTextFile(bad, JSON.stringify({ name: "bad", model: { hidden: 0 } }));
    assert.throws(
      () => parseReplayArgs(["x.csv", "--preset", bad]),
      /Cannot load preset file ".*bad\.json": invalid fields:\n {2}model\.hidden: .*current value is 0/,
    );
    const broken = `${dir}/broken.json`;
    await Deno.writeTextFile(broken, "{ name:");
    assert.throws(
      () => parseReplayArgs(["x.csv", "--preset", broken]),
      /Cannot read --preset file ".*broken\.json": it must be JSON/,
    );
    assert.throws(
      () => parseReplayArgs(["x.csv", "--preset", `${dir}/missing.json`]),
      /Cannot read --preset file: it must be a readable JSON file: ".*missing\.json" gave/,
    );
  });
});

Deno.test("parseReplayArgs() takes --kernels wasm|ts, wasm by default", () => {
  const kernels = (a: string[]) => (parseReplayArgs(["x.csv", ...a]) as ReplayCommandArgs).kernels;
  assert.equal(kernels([]), "wasm");
  assert.equal(kernels(["--kernels", "ts"]), "ts");
  assert.equal(kernels(["--kernels=wasm"]), "wasm");
  assert.throws(
    () => parseReplayArgs(["x.csv", "--kernels", "simd"]),
    /Cannot run replay: --kernels must be one of wasm, ts: current value is "simd"/,
  );
});
