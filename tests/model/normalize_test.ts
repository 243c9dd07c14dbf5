import assert from "node:assert/strict";
import { Normalizer } from "../../src/model/normalize.ts";
import { randn } from "../_helpers.ts";

Deno.test("Normalizer without forgetting matches the two-pass mean and population variance", () => {
  const n = 5000;
  const a = randn(n, 1, 3), b = randn(n, 2, 0.01);
  const nz = new Normalizer(2);
  for (let i = 0; i < n; i++) nz.update([a[i] + 100, b[i] - 7]);
  for (const [j, xs, shift] of [[0, a, 100], [1, b, -7]] as const) {
    let mean = 0;
    for (const v of xs) mean += v + shift;
    mean /= n;
    let v2 = 0;
    for (const v of xs) v2 += (v + shift - mean) ** 2;
    v2 /= n;
    assert.ok(Math.abs(nz.mean[j] - mean) < 1e-9 * Math.abs(mean), `mean ${j}`);
    assert.ok(Math.abs(nz.variance(j) - v2) < 1e-9 * v2, `variance ${j}`);
  }
  assert.equal(nz.count, n);
});

Deno.test("Normalizer with forgetting follows a level shift that plain Welford averages away", () => {
  const plain = new Normalizer(1), forgetful = new Normalizer(1, { forgetting: 0.99 });
  for (let i = 0; i < 2000; i++) {
    const x = i < 1000 ? 0 : 10;
    plain.update([x]);
    forgetful.update([x]);
  }
  assert.ok(Math.abs(plain.mean[0] - 5) < 1e-9);
  assert.ok(Math.abs(forgetful.mean[0] - 10) < 1e-3, `mean ${forgetful.mean[0]}`);
});

Deno.test("Normalizer maps values to z-scores and back, and keeps a flat signal finite", () => {
  const nz = new Normalizer(1);
  for (const x of [2, 4, 4, 4, 5, 5, 7, 9]) nz.update([x]);
  const out = new Float64Array(1);
  nz.normalize([9], out);
  assert.equal(out[0], 2); // mean 5, population sd 2
  assert.equal(nz.denormalize(0, out[0]), 9);
  const flat = new Normalizer(1);
  for (let i = 0; i < 10; i++) flat.update([3]);
  flat.normalize([3.5], out);
  assert.ok(Number.isFinite(out[0]));
});

Deno.test("Normalizer rejects a forgetting factor outside (0, 1]", () => {
  assert.throws(
    () => new Normalizer(1, { forgetting: 1.5 }),
    /'forgetting' must be in \(0, 1\]: current value is 1.5/,
  );
});

Deno.test("Normalizer keeps its statistics in the array it is given, the mean then M2", () => {
  const buffer = new ArrayBuffer(64);
  const at = new Float64Array(buffer, 0, 4);
  const given = new Normalizer(2, { forgetting: 0.99 }, at),
    own = new Normalizer(2, { forgetting: 0.99 });
  for (let t = 0; t < 50; t++) {
    given.update([Math.sin(t), t]);
    own.update([Math.sin(t), t]);
  }
  assert.equal(given.moments, at);
  assert.deepEqual([...given.mean, ...given.m2], [...at]);
  assert.deepEqual([...given.mean, ...given.m2], [...own.mean, ...own.m2]);
  assert.deepEqual([...new Float64Array(buffer, 32, 4)], [0, 0, 0, 0], "nothing past them");
  assert.throws(
    () => new Normalizer(3, {}, at),
    /^RangeError: Cannot build normalizer: 'at' must be an array of 6 numbers \(the mean, then M2\): current length is 4$/,
  );
});
