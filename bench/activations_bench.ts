/**
 * The gate nonlinearities of activations.ts against their Math forms, over
 * 1024 pre-activations in [-4, 4] per iteration.
 *
 *   deno bench bench/activations_bench.ts
 */
import { exp, sigmoid, tanh } from "../src/model/activations.ts";

const N = 1024;
const z = new Float32Array(N);
for (let i = 0; i < N; i++) z[i] = 4 * Math.sin(i * 0.7);
const out = new Float32Array(N);

Deno.bench("Math.exp", { group: "exp", baseline: true }, () => {
  for (let i = 0; i < N; i++) out[i] = Math.exp(z[i]);
});
Deno.bench("exp (activations.ts)", { group: "exp" }, () => {
  for (let i = 0; i < N; i++) out[i] = exp(z[i]);
});
Deno.bench("1 / (1 + Math.exp(-z))", { group: "sigmoid", baseline: true }, () => {
  for (let i = 0; i < N; i++) out[i] = 1 / (1 + Math.exp(-z[i]));
});
Deno.bench("sigmoid (activations.ts)", { group: "sigmoid" }, () => {
  for (let i = 0; i < N; i++) out[i] = sigmoid(z[i]);
});
Deno.bench("Math.tanh", { group: "tanh", baseline: true }, () => {
  for (let i = 0; i < N; i++) out[i] = Math.tanh(z[i]);
});
Deno.bench("tanh (activations.ts)", { group: "tanh" }, () => {
  for (let i = 0; i < N; i++) out[i] = tanh(z[i]);
});
