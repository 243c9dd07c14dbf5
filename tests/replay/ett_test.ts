/**
 * Replays of the shared ETT files under the published fsnet protocol. They
 * need ../shared/data (relative to the project root) and are skipped with a
 * message when it is absent, e.g. on a user's machine.
 *
 * The engine's persistence expert repeats the last value, so its errors
 * check the protocol's arithmetic (rows, split, scale, origins, steps)
 * against the figures published in ../shared/data/README.md: ETTh2 0.404,
 * 1.818, 2.852 at H = 1, 24, 48; ETTm1 0.091 at H = 1.
 */
import assert from "node:assert/strict";
import { readCsv } from "../../src/replay/csv.ts";
import { type ReplayArgs, streamPreset } from "../../src/replay/cli.ts";
import { parseReplayArgs } from "../../src/cli/replay.ts";
import { fsnetSplit } from "../../src/replay/protocol.ts";
import { replay } from "../../src/replay/replay.ts";

const DATA = new URL("../../../shared/data/", import.meta.url);

function exists(url: URL): boolean {
  try {
    Deno.statSync(url);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

const HAVE_DATA = exists(new URL("ett/ETTh2.csv", DATA)) && exists(new URL("ett/ETTm1.csv", DATA));
if (!HAVE_DATA) {
  console.warn(
    `tests/replay/ett_test.ts: skipping the ETT replays: ${
      decodeURIComponent(new URL("ett/", DATA).pathname)
    } is absent (the shared reference data, not part of the project)`,
  );
}

async function persistence(file: string, preset: string, horizons: string) {
  const path = decodeURIComponent(new URL(`ett/${file}`, DATA).pathname);
  const a = parseReplayArgs([
    path,
    "--protocol",
    "fsnet",
    "--preset",
    preset,
    "--horizons",
    horizons,
    "--without",
    "lstm",
  ]) as ReplayArgs;
  const table = await readCsv(path, { maxRows: a.rows as number });
  assert.equal(table.rows, 14_400);
  assert.equal(table.columns.length, 7);
  const r = replay(table, {
    preset: streamPreset(a),
    horizons: a.horizons,
    split: fsnetSplit(table.rows),
  });
  return r.horizons.map((h) => [h.horizon, h.origins, Number(h.experts.persistence.toFixed(3))]);
}

Deno.test({
  name: "fsnet replay of ETTh2 scores persistence at the published 0.404 / 1.818 / 2.852",
  ignore: !HAVE_DATA,
  fn: async () => {
    assert.deepEqual(await persistence("ETTh2.csv", "hourly", "1,24,48"), [
      [1, 10_800, 0.404],
      [24, 10_777, 1.818],
      [48, 10_753, 2.852],
    ]);
  },
});

Deno.test({
  name: "fsnet replay of ETTm1 scores persistence at the published 0.091 (H=1)",
  ignore: !HAVE_DATA,
  fn: async () => {
    assert.deepEqual(await persistence("ETTm1.csv", "quarter-hourly", "1"), [[1, 10_800, 0.091]]);
  },
});
