/**
 * Anomaly detection on NAB-layout corpora, in process (not part of the test
 * suite): every file of a corpus through the engine as `deno task replay
 * FILE --anomaly-out` feeds it (one stream per file, the same preset for
 * every file), for one or more LSTM seeds; then `../shared/tools/nab_score.py`
 * scores the results per family and over all files, and the alerts are
 * checked against the labelled windows per family and per kind of anomaly.
 *
 *   deno run --allow-read --allow-write=/tmp --allow-run bench/nab.ts \
 *     [--corpus=nab|synthetic|both] [--preset=default|FILE.json] [--seeds=1,2,3] \
 *     [--set=anomaly.density=20;linear.ridge=2] [--out=/tmp/forecastd-nab] [--keep=false]
 *
 * Corpora: `nab` is the 24 files of ../shared/data/nab; `synthetic` is the set
 * tests/fixtures/make_synthetic_nab.ts generates (written to OUT/synthetic-data
 * first). Two score columns per file are written, in NAB's results layout
 * under OUT/<corpus>/seed<k>/<column>/: `onset` (the likelihood where an
 * incident begins: NAB's optimiser picks its threshold on the labels, as
 * published scores are made) and `alert` (1 where the daemon opened an alert,
 * 0 elsewhere: the daemon's own fixed setting, scored at threshold 0.5).
 *
 * Output: a table on stderr; one `RESULT {json}` line per corpus with, per
 * seed and as the mean over seeds, the NAB standard score of both columns
 * over all files and per family, the windows hit and false alerts per
 * family and per kind (see src/replay/labels.ts). Needs ../shared/data for
 * the `nab` corpus and python3.
 */
import { readCsv } from "../src/replay/csv.ts";
import { onlineSplit } from "../src/replay/protocol.ts";
import { replay } from "../src/replay/replay.ts";
import { loadPreset } from "../src/replay/cli.ts";
import type { Preset } from "../src/stream/preset.ts";
import { withOverrides } from "./preset_overrides.ts";
import {
  addCounts,
  type HitCount,
  labelKey,
  type LabelledWindow,
  parseLabels,
  scoreAlerts,
} from "../src/replay/labels.ts";
import { writeSyntheticCorpus } from "../tests/fixtures/make_synthetic_nab.ts";
import { exitOnFlagError, FlagError, integerList, oneOf, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const NAB_DIR = `${ROOT}../shared/data/nab`;
const SCORER = `${ROOT}../shared/tools/nab_score.py`;

const flags = exitOnFlagError(() => {
  const f = parseFlags(Deno.args, {
    corpus: oneOf(["nab", "synthetic", "both"], "both"),
    preset: text("a preset name or a preset JSON file", "default"),
    seeds: integerList([1], 1, 1_000_000),
    set: text("preset overrides, path=value;...", "", true),
    out: text("a directory", "/tmp/forecastd-nab"),
    keep: oneOf(["true", "false"], "true"),
  }, "Cannot run nab bench");
  let preset: Preset;
  try {
    preset = withOverrides(loadPreset(f.preset), f.set);
  } catch (e) {
    if (e instanceof RangeError) throw new FlagError(e.message);
    throw e;
  }
  return { ...f, preset };
});

/** A corpus: its data folder, its labels and its files by family. */
interface Corpus {
  name: string;
  dir: string;
  labels: Map<string, LabelledWindow[]>;
  windowsFile: string;
  families: string[];
}

async function loadCorpus(name: string): Promise<Corpus> {
  let dir = NAB_DIR;
  if (name === "synthetic") {
    dir = `${flags.out}/synthetic-data`;
    await writeSyntheticCorpus(dir);
  }
  const windowsFile = `${dir}/windows.json`;
  let kinds: string | undefined;
  try {
    kinds = await Deno.readTextFile(`${dir}/kinds.json`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const labels = parseLabels(await Deno.readTextFile(windowsFile), kinds);
  const families = [...new Set([...labels.keys()].map((k) => k.split("/")[0]))].sort();
  return { name, dir, labels, windowsFile, families };
}

/** NAB's standard profile from nab_score.py: score (null without windows), windows found, fp rows. */
interface NabScore {
  score: number | null;
  threshold: number;
  windows: number;
  detected: number;
  fp: number;
}

async function nabScore(
  corpus: Corpus,
  results: string,
  families: string[] | null,
  threshold: number | null,
): Promise<NabScore> {
  const args = [
    SCORER,
    ...["--data", corpus.dir, "--labels", corpus.windowsFile, "--results", results],
    ...["--detector", "forecastd", "--profile", "standard", "--json"],
    ...(threshold === null ? [] : ["--threshold", String(threshold)]),
    ...(families ? ["--files-from", "-"] : []),
  ];
  const child = new Deno.Command("python3", { args, stdin: "piped", stdout: "piped" }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode((families ?? []).join("\n") + "\n"));
  await w.close();
  const out = await child.output();
  if (!out.success) throw new Error(`nab_score.py failed on ${results}`);
  const s = JSON.parse(new TextDecoder().decode(out.stdout)).standard;
  return {
    score: s.score,
    threshold: s.threshold,
    windows: s.windows,
    detected: s.windows_detected,
    fp: s.fp,
  };
}

/** What one seed's run of a corpus measured. */
interface SeedResult {
  seed: number;
  seconds: number;
  onset: { all: NabScore; families: Record<string, NabScore> };
  alert: { all: NabScore; families: Record<string, NabScore> };
  byKind: Record<string, HitCount>;
  byFamily: Record<string, HitCount & { falseAlerts: number; weeks: number }>;
}

async function runSeed(corpus: Corpus, seed: number): Promise<SeedResult> {
  const preset = { ...flags.preset, model: { ...flags.preset.model, seed } };
  const base = `${flags.out}/${corpus.name}/seed${seed}`;
  const byKind: Record<string, HitCount> = {};
  const byFamily: SeedResult["byFamily"] = {};
  const t0 = performance.now();
  for (const key of corpus.labels.keys()) {
    const [family, file] = key.split("/");
    const table = await readCsv(`${corpus.dir}/${key}`, { columns: ["value"] });
    const onset: string[] = ["timestamp,value,anomaly_score"];
    const alert: string[] = ["timestamp,value,anomaly_score"];
    const opened: number[] = [];
    replay(table, {
      preset,
      horizons: [1],
      split: onlineSplit(table.rows),
      onRow: (r, obs) => {
        const head = `${table.timestampText[r]},${table.values[r]}`;
        onset.push(`${head},${obs?.onset ?? 0}`);
        const a = obs?.event?.type === "opened";
        if (a) opened.push(r);
        alert.push(`${head},${a ? 1 : 0}`);
      },
    });
    for (const [col, lines] of [["onset", onset], ["alert", alert]] as const) {
      await Deno.mkdir(`${base}/${col}/${family}`, { recursive: true });
      await Deno.writeTextFile(
        `${base}/${col}/${family}/forecastd_${file}`,
        lines.join("\n") + "\n",
      );
    }
    const rep = scoreAlerts(table.ts, opened, corpus.labels.get(labelKey(key)) ?? []);
    addCounts(byKind, rep.byKind);
    const f = byFamily[family] ??= { windows: 0, hit: 0, falseAlerts: 0, weeks: 0 };
    for (const w of rep.windows) {
      f.windows++;
      if (w.firstRow >= 0) f.hit++;
    }
    f.falseAlerts += rep.falseAlerts;
    f.weeks += rep.weeks;
  }
  const seconds = (performance.now() - t0) / 1000;
  const score = async (col: string, threshold: number | null) => {
    const families: Record<string, NabScore> = {};
    for (const fam of corpus.families) {
      families[fam] = await nabScore(corpus, `${base}/${col}`, [fam], threshold);
    }
    return { all: await nabScore(corpus, `${base}/${col}`, null, threshold), families };
  };
  const result = {
    seed,
    seconds,
    onset: await score("onset", null),
    alert: await score("alert", 0.5),
    byKind,
    byFamily,
  };
  if (flags.keep === "false") await Deno.remove(base, { recursive: true });
  return result;
}

const mean = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};
const fmt = (x: number | null, d = 2) => (x === null ? "-" : x.toFixed(d));

for (const name of flags.corpus === "both" ? ["nab", "synthetic"] : [flags.corpus]) {
  const corpus = await loadCorpus(name);
  const seeds: SeedResult[] = [];
  for (const seed of flags.seeds) {
    const r = await runSeed(corpus, seed);
    seeds.push(r);
    console.error(
      `${name} seed ${seed}: onset (optimised) ${fmt(r.onset.all.score)}, alerts ${
        fmt(r.alert.all.score)
      } (${r.seconds.toFixed(0)} s)`,
    );
  }
  const summary = {
    onset: mean(seeds.map((s) => s.onset.all.score)),
    alert: mean(seeds.map((s) => s.alert.all.score)),
    families: Object.fromEntries(corpus.families.map((f) => [f, {
      onset: mean(seeds.map((s) => s.onset.families[f].score)),
      alert: mean(seeds.map((s) => s.alert.families[f].score)),
      hit: mean(seeds.map((s) => s.byFamily[f]?.hit ?? 0)),
      windows: seeds[0].byFamily[f]?.windows ?? 0,
      falseAlertsPerWeek: mean(
        seeds.map((s) =>
          (s.byFamily[f]?.falseAlerts ?? 0) / Math.max(1e-9, s.byFamily[f]?.weeks ?? 0)
        ),
      ),
    }])),
    kinds: Object.fromEntries(
      Object.keys(seeds[0].byKind).sort().map((k) => [k, {
        windows: seeds[0].byKind[k].windows,
        hit: mean(seeds.map((s) => s.byKind[k]?.hit ?? 0)),
      }]),
    ),
  };
  emitResult({
    bench: "nab",
    corpus: name,
    preset: flags.preset.name,
    set: flags.set,
    seeds: flags.seeds,
    mean: summary,
    perSeed: seeds,
  });
  console.error(
    `${name}: NAB standard, mean of seeds ${flags.seeds.join(",")}: onset optimised ${
      fmt(summary.onset)
    }, alerts ${fmt(summary.alert)}`,
  );
  console.error(
    "  family                   onset  alerts  hit/windows  false alerts/week",
  );
  for (const [f, v] of Object.entries(summary.families)) {
    console.error(
      `  ${f.padEnd(24)} ${fmt(v.onset).padStart(6)} ${fmt(v.alert).padStart(7)}  ${
        `${fmt(v.hit, 1)}/${v.windows}`.padStart(11)
      }  ${fmt(v.falseAlertsPerWeek).padStart(17)}`,
    );
  }
  console.error("  kind                  hit/windows");
  for (const [k, v] of Object.entries(summary.kinds)) {
    console.error(`  ${k.padEnd(20)} ${`${fmt(v.hit, 1)}/${v.windows}`.padStart(12)}`);
  }
}
