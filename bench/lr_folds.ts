/**
 * The LSTM's learning rate, or its schedule by the stream's age, chosen by
 * leave one file out (issue 11; fifteenth and sixteenth rounds,
 * BENCHMARKS.md). Reads the replays' JSON written as
 * DIR/FILE_PRESET_SETTING_SEED.json (`deno task replay ... --preset P
 * --json-out ...`, P the preset's file with `model.lr` and `model.seed`
 * changed) and, for the held-out file's youth,
 * DIR/FILE.firstN_PRESET_SETTING_SEED.json (the same preset replayed over
 * the file's first N rows, `--protocol online --rows N`: every forecast of a
 * young stream scored). SETTING is a rate (`0.001`) or a schedule
 * `STARTtoLRhHALF` (`0.003to0.001h1000`: from 0.003 down to 0.001, the
 * distance halving every 1,000 readings). The schedules were measured with
 * the engine of commit c6a8e25 (presets' `model.lrStart` and
 * `model.lrHalfLife`), reverted when no fold chose one (BENCHMARKS.md,
 * sixteenth round, lrage).
 *
 * Prints, per file-preset, view (the whole file, its first N readings) and
 * setting, each horizon's MSE averaged over the seeds, then each fold's
 * choice: leaving one data file out, among the settings with no cell of the
 * others (seed-averaged; every view, every horizon) worse than the baseline
 * setting's, the one with the best mean relative improvement over them; the
 * held-out file-presets' figures at that setting, view by view. A
 * file-preset is held out with every file-preset of the same data file, so a
 * fold never chooses on the data it is scored on.
 *
 * `--files=A,B,...` keeps only those data files, `--presets=P,Q,...` only
 * those presets, `--settings=S,T,...` only those settings (all found by
 * default; the baseline is always kept).
 *
 *   deno run --allow-read bench/lr_folds.ts DIR [BASELINE] [--files=A,B] [--presets=P,Q] [--settings=S,T]
 */

/** One file-preset's view at one setting, averaged over the seeds found. */
export interface Cell {
  file: string;
  preset: string;
  /** "all" (the whole file under its protocol) or "firstN" (its first N readings). */
  view: string;
  setting: string;
  /** MSE per horizon, averaged over the seeds found. */
  mse: number[];
  seeds: number;
}

/** A replay JSON's name: FILE[.firstN]_PRESET_SETTING_SEED.json. */
const NAME = /^([^_.]+)(?:\.(first\d+))?_([a-z-]+)_([0-9.]+(?:to[0-9.]+h[0-9]+)?)_(\d+)\.json$/;

/** Reads DIR's replay JSON files into seed-averaged cells. */
export function load(dir: string): Cell[] {
  const acc = new Map<string, Omit<Cell, "mse" | "seeds"> & { sum: number[]; n: number }>();
  for (const e of Deno.readDirSync(dir)) {
    const m = e.name.match(NAME);
    if (!m) continue;
    const text = Deno.readTextFileSync(`${dir}/${e.name}`);
    if (text.trim() === "") continue;
    const mse = (JSON.parse(text).horizons as { mse: number }[]).map((h) => h.mse);
    const [file, view, preset, setting] = [m[1], m[2] ?? "all", m[3], m[4]];
    const key = `${file} ${preset} ${view} ${setting}`;
    const a = acc.get(key) ?? { file, preset, view, setting, sum: mse.map(() => 0), n: 0 };
    mse.forEach((v, i) => (a.sum[i] += v));
    a.n++;
    acc.set(key, a);
  }
  return [...acc.values()].map(({ sum, n, ...c }) => ({
    ...c,
    mse: sum.map((v) => v / n),
    seeds: n,
  }));
}

/** "all" first, then the first-N views by N. */
function viewOrder(a: string, b: string): number {
  const n = (v: string) => (v === "all" ? -1 : +v.slice(5));
  return n(a) - n(b);
}

/** The settings from the lowest rate a schedule falls to up, a rate before its schedules. */
function settingOrder(a: string, b: string): number {
  const key = (s: string) => {
    const m = s.match(/^([0-9.]+)to([0-9.]+)h([0-9]+)$/);
    return m ? [+m[2], +m[1], +m[3]] : [+s, 0, 0];
  };
  const [x, y] = [key(a), key(b)];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

/** One fold: the data file held out, the setting its folds chose, the held-out gains by view. */
export interface Fold {
  heldOut: string;
  chosen: string;
  /** Per held-out file-preset and view ("ETTh2 hourly first600"), the gain per horizon at `chosen`. */
  gains: Map<string, number[] | null>;
}

/** The seed-averaged cells in a fixed order, with the baseline's gains and each fold's choice. */
export function folds(cells: Cell[], base: string) {
  const fps = [...new Set(cells.map((c) => `${c.file} ${c.preset}`))].sort();
  const views = [...new Set(cells.map((c) => c.view))].sort(viewOrder);
  const sets = [...new Set(cells.map((c) => c.setting))].sort(settingOrder);
  const get = (fp: string, view: string, s: string) =>
    cells.find((c) => `${c.file} ${c.preset}` === fp && c.view === view && c.setting === s);
  /** Relative improvement over the baseline per horizon of one view (positive: better). */
  const gainIn = (fp: string, view: string, s: string) => {
    const c = get(fp, view, s), b = get(fp, view, base);
    return c && b && c.seeds === b.seeds ? c.mse.map((v, i) => (b.mse[i] - v) / b.mse[i]) : null;
  };
  /** The gains of every view of a file-preset, or null when one is missing. */
  const gain = (fp: string, s: string) => {
    const gs = views.map((v) => gainIn(fp, v, s));
    return gs.some((g) => g === null) ? null : (gs as number[][]).flat();
  };
  const out: Fold[] = [];
  for (const heldOut of [...new Set(cells.map((c) => c.file))].sort()) {
    const train = fps.filter((fp) => !fp.startsWith(`${heldOut} `));
    let chosen = base, bestMean = 0;
    for (const s of sets) {
      const gs = train.map((fp) => gain(fp, s));
      if (gs.some((g) => g === null)) continue;
      const all = (gs as number[][]).flat();
      if (all.some((v) => v < 0)) continue;
      const mean = all.reduce((sum, v) => sum + v, 0) / all.length;
      if (mean > bestMean) (chosen = s), (bestMean = mean);
    }
    const gains = new Map<string, number[] | null>();
    for (const fp of fps.filter((fp) => fp.startsWith(`${heldOut} `))) {
      for (const v of views) gains.set(`${fp} ${v}`, gainIn(fp, v, chosen));
    }
    out.push({ heldOut, chosen, gains });
  }
  return { fps, views, sets, get, gainIn, folds: out };
}

const pct = (g: number[]) => g.map((v) => `${(100 * v).toFixed(2)}%`).join(" ");

if (import.meta.main) {
  const list = (name: string) =>
    Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3).split(",");
  const [only, presets, settings] = [list("files"), list("presets"), list("settings")];
  const [dir, base = "0.003"] = Deno.args.filter((a) => !a.startsWith("--"));
  if (!dir) {
    console.error(
      "usage: lr_folds.ts DIR [BASELINE] [--files=A,B] [--presets=P,Q] [--settings=S,T]",
    );
    Deno.exit(2);
  }
  const cells = load(dir).filter((c) =>
    (!only || only.includes(c.file)) && (!presets || presets.includes(c.preset)) &&
    (!settings || c.setting === base || settings.includes(c.setting))
  );
  const r = folds(cells, base);
  for (const fp of r.fps) {
    for (const view of r.views) {
      for (const s of r.sets) {
        const c = r.get(fp, view, s), g = r.gainIn(fp, view, s);
        if (!c) continue;
        const cellsText = c.mse.map((v) => v.toFixed(6)).join(" / ");
        console.log(
          `${fp.padEnd(24)} ${view.padEnd(9)} ${s.padEnd(17)} seeds ${c.seeds}  ${cellsText}  (${
            g ? pct(g) : "-"
          })`,
        );
      }
    }
  }
  for (const f of r.folds) {
    const held = [...f.gains].map(([k, g]) => `${k}: ${g ? pct(g) : "-"}`);
    console.log(`held out ${f.heldOut}: chooses ${f.chosen}; held out ${held.join("; ")}`);
  }
}
