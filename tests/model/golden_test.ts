/**
 * The numeric core against golden values from an independent reference:
 * PyTorch 1.13 in float64 (nn.LSTM + nn.Linear, torch.optim.Adam and AdamW,
 * clip_grad_norm_). The fixture was made by
 *
 *   /usr/bin/python3 tests/fixtures/make_torch_golden.py && deno fmt tests/fixtures/
 *
 * and is committed, so this test needs no torch. The script's header says
 * what each field is.
 */
import assert from "node:assert/strict";
import golden from "../fixtures/torch_golden.json" with { type: "json" };
import { Network } from "../../src/model/network.ts";
import { Adam } from "../../src/model/optim.ts";
import { assertAllClose } from "../_helpers.ts";

type Golden = typeof golden;
type Run = Golden["train"]["runs"][number];

// Both sides compute in float64 with the same formulas and a different order
// of operations, so they agree to rounding: observed max |Δ| 1e-16 for y,
// 9e-16 for the gradients (7e-15 relative, on small elements), 4e-17 for the
// losses and 8e-16 for the parameters after ten optimizer steps (1e-13
// relative, on the smallest one). The tolerances leave room for another
// platform's Math.exp and Math.tanh, and still catch any real error.
const RTOL = 1e-10;
const ATOL = 1e-12;

/** A float64 network of the fixture's shape holding the fixture's parameters. */
function goldenNetwork(g: Golden): Network<Float64Array> {
  const { inputs, hidden, layers, outputs, window } = g.shape;
  const net = new Network<Float64Array>({
    inputs,
    hidden,
    layers,
    outputs,
    window,
    dtype: Float64Array,
  });
  assert.equal(g.params.length, net.layout.size, "fixture params length vs layout size P");
  net.params.set(g.params);
  return net;
}

/** Throws unless forward() and backward() of loss = Σ y·dOut give the fixture's values. */
function checkForwardBackward(g: Golden): void {
  const net = goldenNetwork(g);
  const T = g.shape.window;
  const x = Float64Array.from(g.x);
  net.forward(x, 0, T, Float64Array.from(g.h0), Float64Array.from(g.c0));
  assertAllClose(net.ws.y, g.y, RTOL, ATOL, "y");
  net.zeroGrads();
  net.backward(Float64Array.from(g.dOut), T);
  for (const t of net.layout.tensors) {
    assertAllClose(
      net.grads.subarray(t.offset, t.offset + t.length),
      g.grads.slice(t.offset, t.offset + t.length),
      RTOL,
      ATOL,
      `grad ${t.name}`,
    );
  }
  assertAllClose(net.ws.dX, g.dX, RTOL, ATOL, "dX");
  assertAllClose(net.ws.dh0, g.dh0, RTOL, ATOL, "dh0");
  assertAllClose(net.ws.dc0, g.dc0, RTOL, ATOL, "dc0");
}

/**
 * Throws unless `run.losses.length` steps of clipped Adam from the fixture's
 * parameters give torch's losses, gradient norms, clip decisions and final
 * parameters. Each step: forward over x from (h0, c0), loss = mean squared
 * error of the last step's O outputs against the target, backward, step.
 */
function checkTrajectory(g: Golden, run: Run): void {
  const net = goldenNetwork(g);
  const { window: T, outputs: O } = g.shape;
  const { lr, beta1, beta2, eps, maxNorm, target } = g.train;
  const adam = new Adam<Float64Array>(net.layout, Float64Array, {
    lr,
    beta1,
    beta2,
    eps,
    clipNorm: maxNorm,
    weightDecay: run.weightDecay,
  });
  const x = Float64Array.from(g.x);
  const h0 = Float64Array.from(g.h0), c0 = Float64Array.from(g.c0);
  const dY = new Float64Array(T * O);
  const losses: number[] = [], norms: number[] = [], clipped: boolean[] = [];
  for (let s = 0; s < g.train.steps; s++) {
    net.forward(x, 0, T, h0, c0);
    let loss = 0;
    for (let k = 0; k < O; k++) {
      const d = net.ws.y[(T - 1) * O + k] - target[k];
      loss += d * d;
      dY[(T - 1) * O + k] = (2 * d) / O;
    }
    losses.push(loss / O);
    net.zeroGrads();
    net.backward(dY, T);
    const norm = adam.step(net.params, net.grads);
    norms.push(norm);
    clipped.push(norm > maxNorm);
  }
  const what = `weightDecay ${run.weightDecay}`;
  assert.deepEqual(clipped, run.clipped, `${what}: steps where the gradient was clipped`);
  assertAllClose(losses, run.losses, RTOL, ATOL, `${what}: losses`);
  assertAllClose(norms, run.norms, RTOL, ATOL, `${what}: gradient norms`);
  for (const t of net.layout.tensors) {
    assertAllClose(
      net.params.subarray(t.offset, t.offset + t.length),
      run.params.slice(t.offset, t.offset + t.length),
      RTOL,
      ATOL,
      `${what}: final ${t.name}`,
    );
  }
}

const { inputs: I, hidden: H, layers: L, outputs: O, window: T } = golden.shape;
const SHAPE = `I=${I} H=${H} L=${L} O=${O} T=${T}`;

Deno.test(
  `forward() and backward() match PyTorch 1.13 nn.LSTM + nn.Linear on a seeded ${SHAPE} network`,
  () => checkForwardBackward(golden),
);

Deno.test(
  `Adam with clipNorm matches PyTorch 1.13 clip_grad_norm_ + Adam over ${golden.train.steps} steps`,
  () => {
    const run = golden.train.runs.find((r) => r.weightDecay === 0);
    assert.ok(run, "fixture has no run with weightDecay 0");
    checkTrajectory(golden, run);
  },
);

Deno.test(
  `Adam with weightDecay matches PyTorch 1.13 AdamW decaying weight matrices only over ${golden.train.steps} steps`,
  () => {
    const run = golden.train.runs.find((r) => r.weightDecay > 0);
    assert.ok(run, "fixture has no run with weightDecay > 0");
    checkTrajectory(golden, run);
  },
);

Deno.test("the golden checks reject a fixture with one value off by 1e-8", () => {
  const bump = (a: number[], i: number) => {
    a[i] += 1e-8 * (1 + Math.abs(a[i]));
  };
  const trajectory = (r: number) => (g: Golden) => checkTrajectory(g, g.train.runs[r]);
  // one perturbed value per kind of check, each on a fresh copy of the fixture
  const cases: [string, (g: Golden) => void, (g: Golden) => void][] = [
    ["y[3]", (g) => bump(g.y, 3), checkForwardBackward],
    ["grads[17]", (g) => bump(g.grads, 17), checkForwardBackward],
    ["dX[9]", (g) => bump(g.dX, 9), checkForwardBackward],
    ["dc0[4]", (g) => bump(g.dc0, 4), checkForwardBackward],
    ["runs[0].losses[9]", (g) => bump(g.train.runs[0].losses, 9), trajectory(0)],
    ["runs[1].params[100]", (g) => bump(g.train.runs[1].params, 100), trajectory(1)],
    ["train.target[1]", (g) => bump(g.train.target, 1), trajectory(0)],
  ];
  for (const [name, perturb, check] of cases) {
    const g = structuredClone(golden);
    check(g); // the unperturbed copy passes
    perturb(g);
    assert.throws(() => check(g), Error, `perturbed ${name} was not caught`);
  }
});
