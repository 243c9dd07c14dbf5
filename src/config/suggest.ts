/** "Did you mean" for a mistyped option name. */

/**
 * ` (did you mean X?)` for the name of `known` closest to `name` (case
 * ignored) within edit distance 2, shown with `prefix`; "" when none is that
 * close.
 */
export function suggest(name: string, known: readonly string[], prefix: string): string {
  let best = "", bestD = 3;
  const n = name.toLowerCase();
  for (const k of known) {
    const d = editDistance(n, k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best ? ` (did you mean ${prefix}${best}?)` : "";
}

/** Levenshtein distance: insertions, deletions and substitutions of one character. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
