/**
 * bench/lr_folds.ts: the replays' names read as file, view, preset, setting
 * and seed; each fold's no-worse rule over every view of the files it
 * chooses on.
 */
import assert from "node:assert/strict";
import { type Cell, folds, load } from "../../bench/lr_folds.ts";

/** A cell of one seed-averaged MSE per horizon (H = 1, 24). */
const cell = (file: string, view: string, setting: string, mse: number[]): Cell => ({
  file,
  preset: "hourly",
  view,
  setting,
  mse,
  seeds: 3,
});

/** Three files, each seen whole and over its first 600 readings, at the baseline and at S. */
function grid(sFirst600OfB: number[]): Cell[] {
  const cells: Cell[] = [];
  for (const f of ["A", "B", "C"]) {
    for (const view of ["all", "first600"]) {
      cells.push(cell(f, view, "0.001", [1, 2]));
      cells.push(
        cell(
          f,
          view,
          "0.003to0.001h300",
          f === "B" && view === "first600" ? sFirst600OfB : [0.99, 1.98],
        ),
      );
    }
  }
  return cells;
}

Deno.test("lr_folds keeps the baseline when a setting loses one horizon of another file's first readings", () => {
  // S gains every cell but B's first 600 readings at H = 24 (2.01 against 2)
  const r = folds(grid([0.9, 2.01]), "0.001");
  assert.deepEqual(
    r.folds.map((f) => [f.heldOut, f.chosen]),
    [["A", "0.001"], ["B", "0.003to0.001h300"], ["C", "0.001"]],
  );
  // held out B, chosen by A and C: its own first 600 readings are reported, the loss included
  const g = r.folds[1].gains.get("B hourly first600");
  assert.ok(g && Math.abs(g[0] - 0.1) < 1e-12 && g[1] < 0, `B's first 600: ${g}`);
});

Deno.test("lr_folds chooses a setting that gains every view of the other files", () => {
  const r = folds(grid([0.9, 1.9]), "0.001");
  assert.deepEqual(r.folds.map((f) => f.chosen), Array(3).fill("0.003to0.001h300"));
  assert.deepEqual(r.views, ["all", "first600"]);
});

Deno.test("lr_folds reads FILE.firstN_PRESET_SETTING_SEED.json as a view of FILE, averaging the seeds", () => {
  const dir = Deno.makeTempDirSync({ prefix: "lr_folds_test_" });
  try {
    const write = (name: string, mse: number[]) =>
      Deno.writeTextFileSync(
        `${dir}/${name}`,
        JSON.stringify({ horizons: mse.map((m, i) => ({ h: [1, 24][i], mse: m })) }),
      );
    write("ETTh2_hourly_0.001_1.json", [1, 2]);
    write("ETTh2_hourly_0.001_2.json", [3, 4]);
    write("ETTh2.first600_hourly_0.003to0.001h300_1.json", [5, 6]);
    write("ETTm1.first2000_quarter-hourly_0.001_1.json", [7, 8]);
    write("notes.txt", [0]);
    const cells = load(dir).map((c) => [c.file, c.preset, c.view, c.setting, c.seeds, c.mse]);
    cells.sort((a, b) => String(a).localeCompare(String(b)));
    assert.deepEqual(cells, [
      ["ETTh2", "hourly", "all", "0.001", 2, [2, 3]],
      ["ETTh2", "hourly", "first600", "0.003to0.001h300", 1, [5, 6]],
      ["ETTm1", "quarter-hourly", "first2000", "0.001", 1, [7, 8]],
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
