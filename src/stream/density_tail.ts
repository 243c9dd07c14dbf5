/**
 * The density test's tail (anomaly.ts): -ln P(X >= K) for X ~ Binomial(n, q)
 * per K, and one such array per (n, level) for every scorer of those options.
 */

/**
 * -ln P(X >= K) for X ~ Binomial(n, q), for K = 0..n (0 at K = 0), summed in
 * log space so that it stays finite for every K.
 */
export function binomialTailEvidence(n: number, q: number): Float64Array {
  const out = new Float64Array(n + 1);
  const lq = Math.log(q), l1q = Math.log1p(-q);
  // ln C(n, k) q^k (1 - q)^(n - k), from k = n down, accumulated with log-sum-exp
  let lc = 0;
  const lp = new Float64Array(n + 1);
  for (let k = 0; k <= n; k++) {
    if (k > 0) lc += Math.log((n - k + 1) / k);
    lp[k] = lc + k * lq + (n - k) * l1q;
  }
  let acc = -Infinity;
  for (let k = n; k >= 0; k--) {
    const hi = Math.max(acc, lp[k]);
    acc = hi + Math.log(Math.exp(acc - hi) + Math.exp(lp[k] - hi));
    out[k] = Math.max(0, -acc);
  }
  out[0] = 0;
  return out;
}

/** The tails made so far, by `n level`: read only. */
const TAILS = new Map<string, Float64Array>();

/**
 * The tail of a density test over n readings that counts a reading unusual
 * at `level` nats (q = e^-level), shared by every caller of the same two
 * (the scorers of one preset): it must not be written to.
 */
export function densityTail(n: number, level: number): Float64Array {
  const key = `${n} ${level}`;
  if (!TAILS.has(key)) TAILS.set(key, binomialTailEvidence(n, Math.exp(-level)));
  return TAILS.get(key)!;
}
