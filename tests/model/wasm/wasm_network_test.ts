/**
 * The WebAssembly kernels against the TypeScript ones (the oracle), through
 * the Network and Adam that run them, over shapes H 1..64, I 1..8, T 1..32,
 * L 1..3.
 *
 * Tolerance. The TypeScript kernels compute in float64 and round to float32
 * on every store into a Float32Array; the WebAssembly kernels compute in
 * float32 (sums four lanes at a time, fused multiply-adds where the CPU has
 * them, a float32 e^x). Their results differ by float32 rounding, which
 * grows with the length of the sums (K = H + max(I, H) terms) and the steps
 * they pass through (T). Every tensor must agree to within
 * (K + T) · 2⁻²⁴ · max(1, max |oracle|), one unit in the last place of
 * float32 per term and step at the tensor's scale; the largest difference
 * measured over 180 shapes was a fifth of that.
 */
import assert from "node:assert/strict";
import { Network, Workspace } from "../../../src/model/network.ts";
import { Adam } from "../../../src/model/optim.ts";
import {
  kernelKind,
  kindOf,
  makeFloats,
  useKernels,
  wasmKernelsAvailable,
} from "../../../src/model/kernels.ts";
import { makeLayout } from "../../../src/model/layout.ts";
import { mulberry32 } from "../../../src/model/rng.ts";
import { WasmNetwork } from "../../../src/model/wasm/wasm_network.ts";
import type { Floats } from "../../../src/model/floats.ts";

const U = 2 ** -24;

interface Shape {
  I: number;
  H: number;
  T: number;
  L: number;
  O: number;
}

const SHAPES: Shape[] = [
  { I: 1, H: 1, T: 1, L: 1, O: 1 },
  { I: 1, H: 32, T: 32, L: 1, O: 1 },
  { I: 2, H: 3, T: 5, L: 1, O: 2 },
  { I: 3, H: 5, T: 7, L: 2, O: 3 },
  { I: 8, H: 4, T: 12, L: 1, O: 8 },
  { I: 6, H: 32, T: 16, L: 1, O: 6 },
  { I: 5, H: 13, T: 9, L: 3, O: 1 },
  { I: 7, H: 64, T: 32, L: 1, O: 7 },
  { I: 1, H: 64, T: 3, L: 2, O: 2 },
  { I: 8, H: 17, T: 1, L: 2, O: 4 },
];

/** Runs `fn` with new buffers of `kind`, then restores the kind before it. */
function withKernels<R>(kind: "ts" | "wasm", fn: () => R): R {
  const before = kernelKind();
  useKernels(kind);
  try {
    return fn();
  } finally {
    useKernels(before);
  }
}

function pair(s: Shape, seed: number): [Network<Float32Array>, Network<Float32Array>] {
  const opts = { inputs: s.I, hidden: s.H, layers: s.L, outputs: s.O, window: s.T, seed };
  const ts = withKernels("ts", () => new Network(opts));
  const wasm = withKernels("wasm", () => new Network(opts));
  return [ts, wasm];
}

function uniform(n: number, rng: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * (2 * rng() - 1));
}

/** Asserts |got - want| <= (K + T)·u·max(1, max|want|) element-wise, naming the tensor. */
function assertClose(what: string, got: Floats, want: Floats, terms: number): void {
  assert.equal(got.length, want.length, `${what}: lengths differ`);
  let scale = 1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  const tol = terms * U * scale;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= tol)) {
      assert.fail(`${what}[${i}]: wasm ${got[i]} vs ts ${want[i]}: |diff| ${d} > tolerance ${tol}`);
    }
  }
}

const skip = !wasmKernelsAvailable();

Deno.test({
  name: "a Float32Array network runs the WebAssembly kernels by default, a Float64Array one never",
  ignore: skip,
  fn() {
    const f32 = new Network({ inputs: 1, hidden: 4, layers: 1, outputs: 1, window: 2 });
    const f64 = new Network<Float64Array>({
      inputs: 1,
      hidden: 4,
      layers: 1,
      outputs: 1,
      window: 2,
      dtype: Float64Array,
    });
    assert.equal(kernelKind(), "wasm");
    assert.equal(kindOf(f32.params), "wasm");
    assert.equal(kindOf(f32.ws.grads), "wasm");
    assert.equal(kindOf(f64.params), "ts");
    assert.equal(kindOf(withKernels("ts", () => new Float32Array(1))), "ts");
  },
});

for (const s of SHAPES) {
  const { I, H, T, L, O } = s;
  const terms = H + Math.max(I, H) + T;

  Deno.test({
    name:
      `WebAssembly forward() and backward() match the TypeScript kernels within float32 rounding at I=${I} H=${H} T=${T} L=${L} O=${O}`,
    ignore: skip,
    fn() {
      const [ts, wasm] = pair(s, 11 + H);
      assert.equal(kindOf(ts.params), "ts");
      assert.equal(kindOf(wasm.params), "wasm");
      assert.deepEqual(wasm.params, ts.params, "the same seed must give the same weights");
      const rng = mulberry32(100 * H + 10 * I + T);
      const x = uniform(T * I, rng, 2);
      const h0 = uniform(L * H, rng), c0 = uniform(L * H, rng);
      const dOut = uniform(T * O, rng);
      for (const net of [ts, wasm]) {
        net.forward(x, 0, T, h0, c0);
        net.ws.dY.set(dOut);
        net.zeroGrads();
        net.backward(net.ws.dY, T);
      }
      assertClose("y", wasm.ws.y.subarray(0, T * O), ts.ws.y.subarray(0, T * O), terms);
      for (let l = 0; l < L; l++) {
        const a = wasm.ws.cache[l], b = ts.ws.cache[l];
        const K = ts.layout.layers[l].width;
        assertClose(
          `layer ${l} act`,
          a.act.subarray(0, T * 4 * H),
          b.act.subarray(0, T * 4 * H),
          terms,
        );
        assertClose(
          `layer ${l} c`,
          a.c.subarray(0, (T + 1) * H),
          b.c.subarray(0, (T + 1) * H),
          terms,
        );
        assertClose(
          `layer ${l} h`,
          a.h.subarray(0, (T + 1) * H),
          b.h.subarray(0, (T + 1) * H),
          terms,
        );
        assertClose(`layer ${l} xh`, a.xh.subarray(0, T * K), b.xh.subarray(0, T * K), terms);
      }
      for (const t of ts.layout.tensors) {
        assertClose(
          `grad ${t.name}`,
          wasm.grads.subarray(t.offset, t.offset + t.length),
          ts.grads.subarray(t.offset, t.offset + t.length),
          terms,
        );
      }
      assertClose("dX", wasm.ws.dX.subarray(0, T * I), ts.ws.dX.subarray(0, T * I), terms);
      assertClose("dh0", wasm.ws.dh0, ts.ws.dh0, terms);
      assertClose("dc0", wasm.ws.dc0, ts.ws.dc0, terms);
    },
  });

  Deno.test({
    name:
      `WebAssembly backward() adds into the gradients and takes a dY of the caller's at I=${I} H=${H} T=${T} L=${L} O=${O}`,
    ignore: skip,
    fn() {
      const [ts, wasm] = pair(s, 5);
      const rng = mulberry32(7 * H + I);
      const x = uniform(T * I, rng), zeros = new Float32Array(L * H);
      const dY = uniform(T * O, rng); // not ws.dY: copied through the scratch
      for (const net of [ts, wasm]) {
        net.forward(x, 0, T, zeros, zeros);
        net.zeroGrads();
        net.backward(dY, T);
        net.backward(dY, T); // twice: the gradients must double
      }
      assertClose("grads after two backward()", wasm.grads, ts.grads, 2 * terms);
      const once = withKernels("wasm", () => pair(s, 5)[1]);
      once.forward(x, 0, T, zeros, zeros);
      once.zeroGrads();
      once.backward(dY, T);
      const doubled = once.grads.map((g) => 2 * g);
      assertClose("two backward() against twice one", wasm.grads, doubled, 2 * terms);
    },
  });

  Deno.test({
    name:
      `WebAssembly step() and stepFrom() on a state of the caller's match the TypeScript kernels at I=${I} H=${H} L=${L} O=${O}`,
    ignore: skip,
    fn() {
      const [ts, wasm] = pair(s, 3 + I);
      const rng = mulberry32(31 * H + I);
      const xs = uniform(T * I, rng);
      const yTs = new Float32Array(O), yWasm = new Float32Array(O);
      // the live state, in the kernels' memory for the wasm network
      for (let t = 0; t < T; t++) {
        ts.step(xs, t * I, yTs, 0);
        wasm.step(xs, t * I, yWasm, 0);
        assertClose(`y of step ${t}`, yWasm, yTs, terms);
      }
      assertClose("live h", wasm.h, ts.h, terms);
      assertClose("live c", wasm.c, ts.c, terms);
      // a state in ordinary arrays: copied in and out of the kernels' memory
      const hTs = Float32Array.from(ts.h), cTs = Float32Array.from(ts.c);
      const hWasm = Float32Array.from(wasm.h), cWasm = Float32Array.from(wasm.c);
      const liveBefore = Float32Array.from(wasm.h);
      for (let t = 0; t < 3; t++) {
        ts.stepFrom(hTs, cTs, xs, 0, yTs, 0);
        wasm.stepFrom(hWasm, cWasm, xs, 0, yWasm, 0);
      }
      assertClose("caller's h", hWasm, hTs, terms + 3);
      assertClose("caller's c", cWasm, cTs, terms + 3);
      assertClose("y from the caller's state", yWasm, yTs, terms + 3);
      assert.deepEqual(wasm.h, liveBefore, "stepFrom() on another state must leave the live one");
    },
  });
}

Deno.test({
  name:
    "head() gives step()'s output on the live state to the bit, and the TypeScript head's within rounding",
  ignore: skip,
  fn() {
    const s = { I: 3, H: 33, T: 4, L: 2, O: 3 };
    const [ts, wasm] = pair(s, 12);
    const x = uniform(s.I, mulberry32(13));
    const yStep = new Float32Array(s.O), yHead = new Float32Array(s.O + 2);
    const yTs = new Float32Array(s.O + 2);
    wasm.step(x, 0, yStep, 0);
    ts.step(x, 0, yTs, 0);
    // a row of an ordinary array, at an offset: the state a caller keeps
    const h = new Float32Array(s.L * s.H + 1);
    h.set(wasm.h.subarray(s.H), 1 + s.H);
    wasm.head(h, 1 + s.H, yHead, 2);
    assert.deepEqual(yHead.subarray(2), yStep);
    assert.deepEqual(Array.from(yHead.subarray(0, 2)), [0, 0]);
    ts.head(ts.h, s.H, yTs, 2);
    assertClose("head", yHead.subarray(2), yTs.subarray(2), 2 * (s.H + s.H) + 1);
  },
});

Deno.test({
  name:
    "step() through a window gives forward()'s last output to the bit with the WebAssembly kernels",
  ignore: skip,
  fn() {
    const net = withKernels(
      "wasm",
      () => new Network({ inputs: 2, hidden: 9, layers: 2, outputs: 2, window: 6, seed: 4 }),
    );
    const x = uniform(12, mulberry32(9));
    const zeros = new Float32Array(18);
    net.forward(x, 0, 6, zeros, zeros);
    const y = new Float32Array(2);
    for (let t = 0; t < 6; t++) net.step(x, 2 * t, y, 0);
    assert.deepEqual(y, net.ws.y.subarray(10, 12));
  },
});

for (const P of [1, 3, 4, 37, 4999]) {
  Deno.test({
    name: `WebAssembly Adam steps match the TypeScript Adam within float32 rounding for P=${P}`,
    ignore: skip,
    fn() {
      // Adam reads only the size and the matrix spans (for weight decay) of its layout
      const layout = { ...makeLayout({ inputs: 1, hidden: 1, layers: 1, outputs: 1 }), size: P };
      layout.tensors = [{ name: "all", offset: 0, length: P, matrix: true }];
      const opts = { lr: 1e-2, clipNorm: 0.5, weightDecay: 0.01 };
      const ts = withKernels("ts", () => new Adam(layout, Float32Array, opts));
      const wasm = withKernels("wasm", () => new Adam(layout, Float32Array, opts));
      assert.equal(kindOf(wasm.m), "wasm");
      const pTs = new Float32Array(P);
      const rng = mulberry32(P);
      for (let i = 0; i < P; i++) pTs[i] = 2 * rng() - 1;
      const pWasm = makeFloats<Float32Array>(Float32Array, P, "wasm");
      const gWasm = makeFloats<Float32Array>(Float32Array, P, "wasm");
      pWasm.set(pTs);
      const gTs = new Float32Array(P);
      for (let step = 0; step < 5; step++) {
        for (let i = 0; i < P; i++) gTs[i] = (2 * rng() - 1) * (step + 1) * 1e-2;
        gWasm.set(gTs);
        const nTs = ts.step(pTs, gTs);
        const nWasm = wasm.step(pWasm, gWasm);
        assert.ok(Math.abs(nWasm - nTs) <= 1e-12 * nTs, `norm ${nWasm} vs ${nTs}`);
      }
      assertClose("params", pWasm, pTs, 8);
      assertClose("m", wasm.m, ts.m, 8);
      assertClose("v", wasm.v, ts.v, 8);
    },
  });
}

Deno.test("WasmNetwork refuses a network whose buffers are outside the kernels' memory", () => {
  const net = withKernels(
    "ts",
    () => new Network({ inputs: 1, hidden: 2, layers: 1, outputs: 1, window: 2 }),
  );
  assert.throws(
    () => new WasmNetwork(net),
    /^RangeError: Cannot run WebAssembly kernels: the network's and its workspace's buffers must all be in the kernels' memory: current value is 21 of 21 outside it$/,
  );
});

Deno.test({
  name:
    "networks of one workspace each run their own parameters and state on the WebAssembly kernels",
  ignore: skip,
  fn() {
    // the workspace's addresses are shared by its networks, each network's parameters are its own:
    // each of two networks with one workspace gives, to the bit, what it gives with one of its own
    const shape = { inputs: 2, hidden: 7, layers: 2, outputs: 2 }, T = 5;
    const shared = withKernels("wasm", () => new Workspace<Float32Array>(shape, T, Float32Array));
    const make = (seed: number, workspace?: Workspace<Float32Array>) =>
      withKernels("wasm", () => new Network({ ...shape, window: T, seed, workspace }));
    const nets = [make(3, shared), make(8, shared)], alone = [make(3), make(8)];
    const x = uniform(T * shape.inputs, mulberry32(5));
    const zeros = new Float32Array(shape.layers * shape.hidden);
    const run = (net: Network<Float32Array>) => {
      const y = new Float32Array(shape.outputs * 3);
      for (let t = 0; t < 3; t++) net.step(x, 2 * t, y, 2 * t);
      net.forward(x, 0, T, zeros, zeros);
      const yWindow = Float32Array.from(net.ws.y);
      net.ws.grads.fill(0);
      net.backward(net.ws.y, T);
      return { y, yWindow, grads: Float32Array.from(net.ws.grads), h: Float32Array.from(net.h) };
    };
    for (const [k, net] of nets.entries()) {
      assert.equal(net.ws, shared);
      assert.deepEqual(run(net), run(alone[k]), `network ${k}`);
    }
    assert.notDeepEqual(run(nets[0]).y, run(nets[1]).y);
  },
});
