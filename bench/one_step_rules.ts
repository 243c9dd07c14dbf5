/**
 * The one-step blend a user reads, kept apart from the one the anomaly path
 * and the learning guard read, judged offline (issue 11's thirteenth round,
 * BENCHMARKS.md): nothing the models learn depends on such a blend, so one
 * replay records, per accepted reading, what every rule for it needs (each
 * expert's one-step forecast and the active experts, whether the stream
 * learned from the reading, the outcome, the anomaly path's blend and its
 * interval half-width), and each rule is then run over the record, with the
 * replay's scoring of H = 1 (MSE of z-scored values over the fsnet origins,
 * coverage of the rule's forecast ± the stream's half-width).
 *
 *   deno run -A bench/one_step_rules.ts dump /tmp/OUT.bin REPLAY-ARGS...
 *   deno run -A bench/one_step_rules.ts score /tmp/OUT.bin [RULE...]
 *
 * `dump` takes `deno task replay`'s arguments (e.g. `../shared/data/ett/ETTh2.csv
 * --protocol fsnet --horizons 1,24,48`, each also with `--without lstm`) and
 * writes OUT.bin and OUT.bin.json. `score` prints one JSON line: the
 * replay's own H = 1 MSE (`main`) and each rule's MSE and coverage. The rule
 * `main` runs the stream's own one-step blend and reproduces its forecasts
 * to the bit (checked: `identical`), so a rule's figure is what the engine
 * would give with that rule for the user's one-step forecast.
 */
import { parseReplayArgs } from "../src/cli/replay.ts";
import { runReplay } from "../src/replay/cli.ts";
import { Engine } from "../src/stream/engine.ts";
import { Blend } from "../src/stream/blend.ts";
import type { StreamModel } from "../src/stream/stream.ts";

/** One replay's record (n accepted readings, J targets, E experts). */
interface Dump {
  J: number;
  E: number;
  n: number;
  scaleRows: number;
  firstTarget: number;
  learned: Uint8Array;
  /** The one-step origin of the reading arrived (no gap before it). */
  prev: Uint8Array;
  recovered: number;
  mask: Int32Array;
  /** (n, J): outcome, the anomaly path's blend and half-width from the reading. */
  y: Float64Array;
  comb: Float64Array;
  q: Float64Array;
  /** (n, J, E) */
  preds: Float64Array;
  mse1: number;
}

async function dump(out: string, args: string[]): Promise<void> {
  const a = parseReplayArgs(args);
  if (a === "help") throw new RangeError("Cannot dump: replay arguments must be given");
  const recs: number[] = [];
  const meta: Record<string, unknown> = {};
  const observe = Engine.prototype.observe;
  Engine.prototype.observe = function (id: string, ts: number, v: ArrayLike<number>) {
    const obs = observe.call(this, id, ts, v);
    const m: StreamModel = this.streams.get(id)!;
    const { J, Hm, E, origins } = m;
    if (meta.J === undefined) Object.assign(meta, { J, E, experts: m.expertNames });
    const o = m.step % origins.S;
    recs.push(
      obs.learned ? 1 : 0,
      origins.arrived(m.step, 1) >= 0 ? 1 : 0,
      obs.recovered ? 1 : 0,
      origins.active[o],
    );
    for (let j = 0; j < J; j++) {
      const c = o * Hm * J + j;
      recs.push(v[m.targetIndex[j]], origins.forecasts[c], origins.forecasts[origins.qUsedAt + c]);
      for (let e = 0; e < E; e++) recs.push(origins.preds[c * E + e]);
    }
    return obs;
  };
  const log = console.log;
  let text = "";
  console.log = (s: string) => (text = s);
  await runReplay({ ...a, json: true });
  console.log = log;
  Engine.prototype.observe = observe;
  const j = JSON.parse(text);
  if (j.rejectedRows > 0) {
    throw new RangeError(`Cannot dump: every row must be accepted: ${j.rejectedRows} were not`);
  }
  await Deno.writeTextFile(
    out + ".json",
    JSON.stringify({ ...meta, split: j.split, horizons: j.horizons }),
  );
  await Deno.writeFile(out, new Uint8Array(Float64Array.from(recs).buffer));
}

function load(path: string): Dump {
  const meta = JSON.parse(Deno.readTextFileSync(path + ".json"));
  const raw = new Float64Array(Deno.readFileSync(path).buffer);
  const { J, E } = meta;
  const per = 4 + J * (3 + E);
  const n = raw.length / per;
  const d: Dump = {
    J,
    E,
    n,
    scaleRows: meta.split.scaleRows,
    firstTarget: meta.split.firstTarget,
    learned: new Uint8Array(n),
    prev: new Uint8Array(n),
    recovered: 0,
    mask: new Int32Array(n),
    y: new Float64Array(n * J),
    comb: new Float64Array(n * J),
    q: new Float64Array(n * J),
    preds: new Float64Array(n * J * E),
    mse1: meta.horizons[0].mse,
  };
  for (let k = 0, at = 0; k < n; k++) {
    d.learned[k] = raw[at++];
    d.prev[k] = raw[at++];
    d.recovered += raw[at++];
    d.mask[k] = raw[at++];
    for (let j = 0; j < J; j++) {
      d.y[k * J + j] = raw[at++];
      d.comb[k * J + j] = raw[at++];
      d.q[k * J + j] = raw[at++];
      for (let e = 0; e < E; e++) d.preds[(k * J + j) * E + e] = raw[at++];
    }
  }
  return d;
}

/** Column j's standard deviation over the scaling rows, as the replay normalises it (1 if 0). */
function columnStd(d: Dump, j: number): number {
  const { J } = d;
  let s = 0;
  for (let r = 0; r < d.scaleRows; r++) s += d.y[r * J + j];
  const mean = s / d.scaleRows;
  let ss = 0;
  for (let r = 0; r < d.scaleRows; r++) ss += (d.y[r * J + j] - mean) ** 2;
  return Math.sqrt(ss / d.scaleRows) || 1;
}

/** MSE and coverage of one-step forecasts f (n, J) as the replay scores H = 1. */
function score(d: Dump, f: Float64Array): { mse: number; cov: number } {
  const { J } = d;
  let sq = 0, cnt = 0, hits = 0, cn = 0;
  for (let j = 0; j < J; j++) {
    const std = columnStd(d, j);
    for (let k = d.firstTarget - 1; k < d.n - 1; k++) {
      const y = d.y[(k + 1) * J + j], p = f[k * J + j], q = d.q[k * J + j];
      sq += ((y - p) / std) ** 2;
      cnt++;
      if (!Number.isNaN(q)) {
        cn++;
        if (y >= p - q && y <= p + q) hits++;
      }
    }
  }
  return { mse: sq / cnt, cov: hits / cn };
}

/** A rule: takes reading k's outcome, then writes its one-step forecasts from reading k (J) to f. */
type Rule = (d: Dump, k: number, f: Float64Array) => void;

let unique = 0;
/**
 * A blend of the J one-step slots at the preset's settings (ridge 0.01, warmup 20), with the
 * pull bound from the first slot; its decay array its own (a memory no other blend has), so a
 * rule may set it before an update.
 */
function blend(d: Dump, memory: number, bound = 0): Blend {
  unique++;
  const mem = Array(d.J).fill(memory + unique * 1e-9);
  return new Blend(d.J, d.E, 0.01, mem, 20, undefined, { bound, from: 0 });
}

/** The experts of slot s a blend weighs (as Blend's own eligibility). */
function eligible(b: Blend, s: number, active: number): number {
  const E = b.experts, cnt = b.count, lng = b.longLoss;
  let best = Infinity, mask = 0;
  for (let e = 0; e < E; e++) {
    if (active & (1 << e) && cnt[s * E + e] >= b.warmup) best = Math.min(best, lng[s * E + e]);
  }
  for (let e = 0; e < E; e++) {
    if (active & (1 << e) && cnt[s * E + e] >= b.warmup && lng[s * E + e] <= 2 * best) {
      mask |= 1 << e;
    }
  }
  return mask;
}

function popcount(m: number): number {
  let c = 0;
  for (; m; m >>= 1) c += m & 1;
  return c;
}

const w = new Float64Array(8);
function combine(b: Blend, s: number, d: Dump, k: number, mask: number): number {
  b.weights(s, mask, w);
  let y = 0;
  for (let e = 0; e < d.E; e++) if (w[e] > 0) y += w[e] * d.preds[(k * d.J + s) * d.E + e];
  return y;
}

/** Teaches blend b reading k's outcome of the one-step origin before it, if it learned from it. */
function learn(b: Blend, d: Dump, k: number, j: number): void {
  const { J, E } = d;
  b.update(j, d.preds, ((k - 1) * J + j) * E, d.y, k * J + j, d.mask[k - 1]);
}

/**
 * The stream's own rule at memory `memory`, the memory × g(n) at each update (n the experts
 * the slot weighs), and the pull bound from the one-step slot on (0: none).
 */
function single(d: Dump, g: (n: number) => number, bound = 0, memory = 500): Rule {
  const b = blend(d, memory, bound);
  return (d, k, f) => {
    for (let j = 0; j < d.J && d.learned[k] && d.prev[k]; j++) {
      b.decay[j] = 1 - 1 / (memory * Math.max(1, g(popcount(eligible(b, j, d.mask[k - 1])))));
      learn(b, d, k, j);
    }
    b.newPass();
    for (let j = 0; j < d.J; j++) f[j] = combine(b, j, d, k, d.mask[k]);
  };
}

/**
 * Two records, at 500 readings and at 500 × g(n) (or × `times`), each with the pull bound;
 * the user's forecast is the one of the blend whose one-step forecasts had the smaller
 * discounted squared error over `M` readings (learned readings only, as the blend).
 */
function twoRecords(d: Dump, g: (n: number) => number, bound = 0, M = 500): Rule {
  const a = blend(d, 500, bound), b = blend(d, 500, bound);
  const L = new Float64Array(2 * d.J), N = new Float64Array(d.J), prev = new Float64Array(2 * d.J);
  let started = false;
  return (d, k, f) => {
    const J = d.J;
    for (let j = 0; j < J && d.learned[k] && d.prev[k]; j++) {
      if (started) {
        const y = d.y[k * J + j], rate = Math.max(1 / M, 1 / (N[j] + 1));
        for (let c = 0; c < 2; c++) {
          L[2 * j + c] += rate * ((y - prev[2 * j + c]) ** 2 - L[2 * j + c]);
        }
        N[j]++;
      }
      b.decay[j] = 1 - 1 / (500 * Math.max(1, g(popcount(eligible(b, j, d.mask[k - 1])))));
      learn(a, d, k, j);
      learn(b, d, k, j);
    }
    a.newPass();
    b.newPass();
    for (let j = 0; j < J; j++) {
      prev[2 * j] = combine(a, j, d, k, d.mask[k]);
      prev[2 * j + 1] = combine(b, j, d, k, d.mask[k]);
      f[j] = L[2 * j] > L[2 * j + 1] ? prev[2 * j + 1] : prev[2 * j];
    }
    started = true;
  };
}

/**
 * The stream's blend, with expert `drop` (the LSTM, the fourth) left out of a slot while the
 * blend without it has had the smaller discounted squared error over 500 readings, by more
 * than z standard errors of the difference.
 */
function dropLstm(d: Dump, z: number): Rule {
  const b = blend(d, 500), drop = 3, M = 500;
  const L = new Float64Array(2 * d.J), V = new Float64Array(d.J), N = new Float64Array(d.J);
  const prev = new Float64Array(2 * d.J);
  let started = false;
  return (d, k, f) => {
    const J = d.J;
    for (let j = 0; j < J && d.learned[k] && d.prev[k]; j++) {
      if (started) {
        const y = d.y[k * J + j], rate = Math.max(1 / M, 1 / (N[j] + 1));
        const e0 = (y - prev[2 * j]) ** 2, e1 = (y - prev[2 * j + 1]) ** 2;
        L[2 * j] += rate * (e0 - L[2 * j]);
        L[2 * j + 1] += rate * (e1 - L[2 * j + 1]);
        V[j] += rate * ((e1 - e0) ** 2 - V[j]);
        N[j]++;
      }
      learn(b, d, k, j);
    }
    b.newPass();
    for (let j = 0; j < J; j++) {
      prev[2 * j] = combine(b, j, d, k, d.mask[k]);
      prev[2 * j + 1] = d.E > drop ? combine(b, j, d, k, d.mask[k] & ~(1 << drop)) : prev[2 * j];
      const se = Math.sqrt(V[j] / Math.max(1, Math.min(N[j], 2 * M - 1)));
      f[j] = L[2 * j] - L[2 * j + 1] > z * se ? prev[2 * j + 1] : prev[2 * j];
    }
    started = true;
  };
}

const one = () => 1;
const sq = (n: number) => (n - 1) ** 2;
/** The rules of BENCHMARKS.md's thirteenth round (cells5), by the names its table uses. */
const RULES: Record<string, (d: Dump) => Rule> = {
  main: (d) => single(d, one),
  "D: memory x (n-1)^2": (d) => single(d, sq),
  "C: memory x (n/2)^2": (d) => single(d, (n) => (n / 2) ** 2),
  "X: 500 or 2000": (d) => twoRecords(d, () => 4),
  "Y: 500 or 500 x (n-1)^2": (d) => twoRecords(d, sq),
  "G: lstm dropped, z 0": (d) => dropLstm(d, 0),
  "G: lstm dropped, z 1": (d) => dropLstm(d, 1),
  "P20: pull bound 20": (d) => single(d, one, 20),
  "P10: pull bound 10": (d) => single(d, one, 10),
  "P5: pull bound 5": (d) => single(d, one, 5),
  "P20 Y": (d) => twoRecords(d, sq, 20),
  "P10 Y": (d) => twoRecords(d, sq, 10),
};

function scoreRules(path: string, names: string[]): void {
  const d = load(path);
  const res: Record<string, { mse: number; cov: number }> = {};
  let identical = 0;
  for (const name of names) {
    const make = RULES[name];
    if (!make) {
      throw new RangeError(
        `Cannot score: the rule must be one of ${
          Object.keys(RULES).join(", ")
        }: current value is "${name}"`,
      );
    }
    const rule = make(d), f = new Float64Array(d.n * d.J), out = new Float64Array(d.J);
    for (let k = 0; k < d.n; k++) {
      rule(d, k, out);
      f.set(out, k * d.J);
    }
    if (name === "main") { for (let i = 0; i < f.length; i++) if (f[i] === d.comb[i]) identical++; }
    res[name] = score(d, f);
  }
  console.log(
    JSON.stringify({
      dump: path,
      main: d.mse1,
      recovered: d.recovered,
      identical: `${identical} of ${d.n * d.J}`,
      res,
    }),
  );
}

/**
 * Per target column: each expert's one-step MSE, the stream's blend's and that blend's with the
 * LSTM left out of every slot on the same record (what the blend alone does with one expert
 * more, the models' learning held fixed), and the LSTM's mean weight in each quarter of the
 * scored readings. Prints one JSON line.
 */
function columns(path: string): void {
  const d = load(path), { J, E } = d, lstm = E - 1;
  const b = blend(d, 500), w2 = new Float64Array(8);
  const f = new Float64Array(d.n * J),
    g = new Float64Array(d.n * J),
    wl = new Float64Array(d.n * J);
  for (let k = 0; k < d.n; k++) {
    for (let j = 0; j < J && d.learned[k] && d.prev[k]; j++) learn(b, d, k, j);
    b.newPass();
    for (let j = 0; j < J; j++) {
      f[k * J + j] = combine(b, j, d, k, d.mask[k]);
      wl[k * J + j] = w[lstm];
      b.weights(j, d.mask[k] & ~(1 << lstm), w2);
      let y = 0;
      for (let e = 0; e < E; e++) if (w2[e] > 0) y += w2[e] * d.preds[(k * J + j) * E + e];
      g[k * J + j] = y;
    }
  }
  const out: Record<string, unknown>[] = [];
  for (let j = 0; j < J; j++) {
    const std = columnStd(d, j);
    const se = new Float64Array(E + 2), quarters = [0, 0, 0, 0], qn = [0, 0, 0, 0];
    const qse = Array.from({ length: 4 }, () => new Float64Array(E + 2));
    const first = d.firstTarget - 1, span = d.n - 1 - first;
    for (let k = first; k < d.n - 1; k++) {
      const y = d.y[(k + 1) * J + j];
      for (let e = 0; e < E; e++) se[e] += ((y - d.preds[(k * J + j) * E + e]) / std) ** 2;
      se[E] += ((y - f[k * J + j]) / std) ** 2;
      se[E + 1] += ((y - g[k * J + j]) / std) ** 2;
      const q = Math.min(3, Math.floor((4 * (k - first)) / span));
      quarters[q] += wl[k * J + j];
      for (let e = 0; e < E; e++) qse[q][e] += ((y - d.preds[(k * J + j) * E + e]) / std) ** 2;
      qse[q][E] += ((y - f[k * J + j]) / std) ** 2;
      qse[q][E + 1] += ((y - g[k * J + j]) / std) ** 2;
      qn[q]++;
    }
    const n = d.n - 1 - first;
    out.push({
      j,
      experts: Array.from(se.subarray(0, E), (v) => +(v / n).toFixed(6)),
      blend: +(se[E] / n).toFixed(6),
      blendNoLstm: +(se[E + 1] / n).toFixed(6),
      lstmWeight: quarters.map((v, i) => +(v / qn[i]).toFixed(3)),
      /** per quarter: [...experts, blend, blend without the LSTM] */
      quarters: qse.map((a, i) => Array.from(a, (v) => +(v / qn[i]).toFixed(6))),
    });
  }
  let a = 0, c = 0;
  for (const o of out) (a += o.blend as number), (c += o.blendNoLstm as number);
  console.log(JSON.stringify({ dump: path, blend: a / J, blendNoLstm: c / J, columns: out }));
}

if (import.meta.main) {
  const [cmd, path, ...rest] = Deno.args;
  if (cmd === "dump") await dump(path, rest);
  else if (cmd === "columns") columns(path);
  else if (cmd === "score") scoreRules(path, rest.length ? rest : Object.keys(RULES));
  else {
    console.error(
      "usage: one_step_rules.ts dump OUT.bin REPLAY-ARGS... | score OUT.bin [RULE...] | columns OUT.bin",
    );
    Deno.exit(2);
  }
}
