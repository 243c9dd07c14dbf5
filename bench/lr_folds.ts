/**
 * The LSTM's learning rate chosen by leave one file out (issue 11, fifteenth
 * round, BENCHMARKS.md): reads the replays' JSON written as
 * DIR/FILE_PRESET_LR_SEED.json (`deno task replay ... --preset P --json`, P
 * the preset's file with `model.lr` and `model.seed` changed) and prints, per
 * file-preset and learning rate, each horizon's MSE averaged over the seeds,
 * then each fold's choice: leaving one file-preset out, among the rates with
 * no cell of the others (seed-averaged) worse than the baseline rate's, the
 * one with the best mean relative improvement over them; the held-out
 * file-preset's figures at that rate. A file-preset is held out with every
 * file-preset of the same data file (ETTh2 with both presets), so a fold never
 * trains on the data it is scored on.
 *
 * `--files=A,B,...` keeps only those data files, `--presets=P,Q,...` only
 * those presets (all found by default).
 *
 *   deno run --allow-read bench/lr_folds.ts DIR [BASELINE_LR] [--files=A,B] [--presets=P,Q]
 */

interface Cell {
  file: string;
  preset: string;
  lr: string;
  /** MSE per horizon, averaged over the seeds found. */
  mse: number[];
  seeds: number;
}

function load(dir: string): Cell[] {
  const acc = new Map<
    string,
    { file: string; preset: string; lr: string; sum: number[]; n: number }
  >();
  for (const e of Deno.readDirSync(dir)) {
    const m = e.name.match(/^([^_]+)_([a-z-]+)_([0-9.]+)_(\d+)\.json$/);
    if (!m) continue;
    const text = Deno.readTextFileSync(`${dir}/${e.name}`);
    if (text.trim() === "") continue;
    const mse = (JSON.parse(text).horizons as { mse: number }[]).map((h) => h.mse);
    const key = `${m[1]} ${m[2]} ${m[3]}`;
    const a = acc.get(key) ?? { file: m[1], preset: m[2], lr: m[3], sum: mse.map(() => 0), n: 0 };
    mse.forEach((v, i) => (a.sum[i] += v));
    a.n++;
    acc.set(key, a);
  }
  return [...acc.values()].map((a) => ({
    file: a.file,
    preset: a.preset,
    lr: a.lr,
    mse: a.sum.map((v) => v / a.n),
    seeds: a.n,
  }));
}

if (import.meta.main) {
  const only = Deno.args.find((a) => a.startsWith("--files="))?.slice(8).split(",");
  const presets = Deno.args.find((a) => a.startsWith("--presets="))?.slice(10).split(",");
  const [dir, base = "0.003"] = Deno.args.filter((a) => !a.startsWith("--"));
  if (!dir) {
    console.error("usage: lr_folds.ts DIR [BASELINE_LR] [--files=A,B] [--presets=P,Q]");
    Deno.exit(2);
  }
  const cells = load(dir).filter((c) =>
    (!only || only.includes(c.file)) && (!presets || presets.includes(c.preset))
  );
  const fps = [...new Set(cells.map((c) => `${c.file} ${c.preset}`))].sort();
  const lrs = [...new Set(cells.map((c) => c.lr))].sort((a, b) => +b - +a);
  const get = (fp: string, lr: string) =>
    cells.find((c) => `${c.file} ${c.preset}` === fp && c.lr === lr);
  /** Relative improvement over the baseline rate per horizon (positive: better). */
  const gain = (fp: string, lr: string) => {
    const c = get(fp, lr), b = get(fp, base);
    return c && b && c.seeds === b.seeds ? c.mse.map((v, i) => (b.mse[i] - v) / b.mse[i]) : null;
  };
  for (const fp of fps) {
    for (const lr of lrs) {
      const c = get(fp, lr), g = gain(fp, lr);
      if (!c) continue;
      const cellsText = c.mse.map((v) => v.toFixed(6)).join(" / ");
      const gText = g ? g.map((v) => `${(100 * v).toFixed(2)}%`).join(" ") : "-";
      console.log(`${fp.padEnd(24)} lr ${lr.padEnd(7)} seeds ${c.seeds}  ${cellsText}  (${gText})`);
    }
  }
  const files = [...new Set(cells.map((c) => c.file))].sort();
  for (const out of files) {
    const train = fps.filter((fp) => !fp.startsWith(`${out} `));
    let best = base, bestMean = 0;
    for (const lr of lrs) {
      const gs = train.map((fp) => gain(fp, lr));
      if (gs.some((g) => g === null)) continue;
      const all = (gs as number[][]).flat();
      if (all.some((v) => v < 0)) continue;
      const mean = all.reduce((s, v) => s + v, 0) / all.length;
      if (mean > bestMean) (best = lr), (bestMean = mean);
    }
    const held = fps.filter((fp) => fp.startsWith(`${out} `)).map((fp) => {
      const g = gain(fp, best);
      return `${fp}: ${g ? g.map((v) => `${(100 * v).toFixed(2)}%`).join(" ") : "-"}`;
    });
    console.log(`held out ${out}: chooses lr ${best}; held out ${held.join("; ")}`);
  }
}
