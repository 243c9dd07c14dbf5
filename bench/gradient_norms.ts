/**
 * How far back a gradient reaches, for docs/model.md: the norm of the
 * gradient of a loss at the last step T with respect to the input k steps
 * back (k = 1: the last input itself), relative to its norm at k = 1, for
 * k = 1..T (T = 100).
 *
 *   deno run bench/gradient_norms.ts [--steps=100] [--hidden=32] [--seeds=20]
 *   deno run --allow-write=docs bench/gradient_norms.ts --svg=docs/gradient_norms.svg
 *
 * Four networks, each with I = 1 input, H hidden units, in Float64Array:
 *
 * - `rnn`: a plain tanh RNN cell written here, h_t = tanh(W·[h_{t-1}, x_t] + b),
 *   with the LSTM's initialisation (every weight uniform in ±1/√H, b = 0);
 * - `rnn x3`: the same with every weight 3 times larger (±3/√H);
 * - `lstm`: forecastd's LSTM (src/model/network.ts) as a stream starts it
 *   (weights ±1/√H, forget-gate bias b_f = 1), with its dense head;
 * - `lstm b_f=3`: the same with b_f = 3 (forget gates start near 0.95).
 *
 * For each seed: a random network and T random inputs x_t ~ N(0, 1) from a
 * zero state; the loss is L = g·h_T (the RNN, g a random unit vector) or the
 * head's output y_T (the LSTM), so dL/dh_T has norm 1 (RNN) or |W_y| (LSTM);
 * one backward pass gives dL/dx_t for every t. The table shows, per k, the
 * geometric mean over the seeds of |dL/dx_{T-k+1}| / |dL/dx_T|. Deterministic:
 * mulberry32 seeds 1..seeds. `--svg=FILE` also writes the curves as an SVG
 * chart (log scale).
 */
import { gaussian, mulberry32 } from "../src/model/rng.ts";
import { Network } from "../src/model/network.ts";
import { exitOnFlagError, integer, parseFlags, text } from "./args.ts";

const flags = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    steps: integer(100, 2),
    hidden: integer(32),
    seeds: integer(20),
    svg: text("a file name for the chart", ""),
  }, "Cannot parse gradient_norms flags")
);
const T = flags.steps, H = flags.hidden;

/**
 * A plain tanh RNN over T steps of one input from h_0 = 0; returns
 * |dL/dx_t| for t = 0..T-1 with L = g·h_T.
 * W (H, H+1) row-major, columns [h_{t-1} | x_t]; b (H).
 */
function rnnInputGradients(W: Float64Array, b: Float64Array, x: Float64Array, g: Float64Array) {
  const K = H + 1;
  const h = new Float64Array((T + 1) * H); // h (T+1, H), row 0 the initial state
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < H; j++) {
      let z = b[j] + W[j * K + H] * x[t];
      for (let k = 0; k < H; k++) z += W[j * K + k] * h[t * H + k];
      h[(t + 1) * H + j] = Math.tanh(z);
    }
  }
  // backward: dh = dL/dh_t, dz = dh ⊙ (1 - h_t²), dL/dx_t = W[:, H]·dz, dL/dh_{t-1} = W[:, :H]ᵀ·dz
  const dx = new Float64Array(T);
  let dh = Float64Array.from(g);
  const dz = new Float64Array(H);
  for (let t = T - 1; t >= 0; t--) {
    for (let j = 0; j < H; j++) {
      const hj = h[(t + 1) * H + j];
      dz[j] = dh[j] * (1 - hj * hj);
    }
    let gx = 0;
    const next = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      gx += W[j * K + H] * dz[j];
      for (let k = 0; k < H; k++) next[k] += W[j * K + k] * dz[j];
    }
    dx[t] = Math.abs(gx);
    dh = next;
  }
  return dx;
}

/** The same for forecastd's LSTM: one forward over T steps, dY = 1 at the last step only. */
function lstmInputGradients(seed: number, forgetBias: number, x: Float64Array) {
  const net = new Network<Float64Array>({
    inputs: 1,
    hidden: H,
    layers: 1,
    outputs: 1,
    window: T,
    seed,
    dtype: Float64Array,
  });
  net.views.layers[0].b_f.fill(forgetBias);
  const zero = new Float64Array(H);
  net.forward(x, 0, T, zero, zero);
  const dY = net.ws.dY;
  dY.fill(0);
  dY[T - 1] = 1;
  net.zeroGrads();
  net.backward(dY, T);
  return net.ws.dX.map(Math.abs);
}

/** Relative gradient norms per k (k = 1..T), geometric mean over the seeds. */
function curve(grads: (seed: number) => Float64Array): number[] {
  const logSum = new Float64Array(T);
  for (let seed = 1; seed <= flags.seeds; seed++) {
    const dx = grads(seed);
    for (let k = 1; k <= T; k++) logSum[k - 1] += Math.log(dx[T - k] / dx[T - 1]);
  }
  return [...logSum].map((s) => Math.exp(s / flags.seeds));
}

function rnnCurve(scale: number): number[] {
  return curve((seed) => {
    const rng = mulberry32(seed);
    const a = scale / Math.sqrt(H);
    const W = Float64Array.from({ length: H * (H + 1) }, () => (2 * rng() - 1) * a);
    const g = gaussian(rng);
    const x = Float64Array.from({ length: T }, g);
    const dir = Float64Array.from({ length: H }, g);
    const n = Math.hypot(...dir);
    return rnnInputGradients(W, new Float64Array(H), x, dir.map((v) => v / n));
  });
}

function lstmCurve(forgetBias: number): number[] {
  return curve((seed) => {
    const g = gaussian(mulberry32(1000 + seed));
    return lstmInputGradients(seed, forgetBias, Float64Array.from({ length: T }, g));
  });
}

const series: [string, number[]][] = [
  ["rnn", rnnCurve(1)],
  ["rnn x3", rnnCurve(3)],
  ["lstm", lstmCurve(1)],
  ["lstm b_f=3", lstmCurve(3)],
];

// the table: k = 1, 2, 5, 10, 20, 50, 100 (those up to T)
const ks = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].filter((k) => k <= T);
if (!ks.includes(T)) ks.push(T);
const fmt = (v: number) => v.toExponential(1);
const head = ["k", ...series.map(([name]) => name)];
const rows = ks.map((k) => [String(k), ...series.map(([, c]) => fmt(c[k - 1]))]);
const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
console.log(
  `|dL/dx| after k steps back, relative to k = 1; H = ${H}, geometric mean of ${flags.seeds} seeds`,
);
for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padStart(width[i])).join("  "));

if (flags.svg !== "") {
  Deno.writeTextFileSync(flags.svg, svgChart(series));
  console.error(`wrote ${flags.svg}`);
}

/** A log-scale line chart of the curves, 640 x 360. */
function svgChart(curves: [string, number[]][]): string {
  const W = 640, Ht = 360, left = 64, right = 150, top = 20, bottom = 44;
  const all = curves.flatMap(([, c]) => c).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...all))), hi = Math.ceil(Math.log10(Math.max(...all)));
  const px = (k: number) => left + ((k - 1) / (T - 1)) * (W - left - right);
  const py = (v: number) => top + ((hi - Math.log10(v)) / (hi - lo)) * (Ht - top - bottom);
  const colors = ["#d62728", "#ff7f0e", "#1f77b4", "#2ca02c"];
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Ht}" viewBox="0 0 ${W} ${Ht}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${Ht}" fill="white"/>`,
  ];
  const step = Math.max(1, Math.ceil((hi - lo) / 8));
  for (let e = lo; e <= hi; e += step) {
    const y = py(10 ** e).toFixed(1);
    out.push(
      `<line x1="${left}" y1="${y}" x2="${W - right}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">1e${e}</text>`,
    );
  }
  let lastX = -Infinity;
  for (const k of ks) {
    if (px(k) - lastX < 24) continue; // labels would overlap
    lastX = px(k);
    const x = px(k).toFixed(1);
    out.push(
      `<line x1="${x}" y1="${top}" x2="${x}" y2="${Ht - bottom}" stroke="#eee"/>`,
      `<text x="${x}" y="${Ht - bottom + 16}" text-anchor="middle">${k}</text>`,
    );
  }
  out.push(
    `<text x="${(left + W - right) / 2}" y="${
      Ht - 8
    }" text-anchor="middle">k: steps the gradient flows back</text>`,
    `<text x="14" y="${(top + Ht - bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 ${
      (top + Ht - bottom) / 2
    })">|dL/dx| relative to k = 1</text>`,
  );
  curves.forEach(([name, c], i) => {
    const pts = c.map((v, k) => `${px(k + 1).toFixed(1)},${py(Math.max(v, 10 ** lo)).toFixed(1)}`);
    out.push(
      `<polyline fill="none" stroke="${colors[i % colors.length]}" stroke-width="2" points="${
        pts.join(" ")
      }"/>`,
      `<text x="${W - right + 10}" y="${top + 16 + 18 * i}" fill="${
        colors[i % colors.length]
      }">${name}</text>`,
    );
  });
  out.push("</svg>", "");
  return out.join("\n");
}
