/**
 * Counts in V8's `--trace-opt --trace-deopt-verbose` output (not part of the
 * test suite; tested in tests/bench/opt_trace_test.ts): compilations by tier,
 * re-compilations (a function compiled again by a tier that had compiled it
 * before, after a deoptimisation or an invalidation), deoptimisations by
 * reason and by source position, and invalidations (optimised code V8 marks
 * for deoptimisation when an assumption it depended on breaks: a prototype
 * chain or a field's constness or representation) by reason and function.
 * Lines only, no timings: the counts do not depend on the load.
 *
 * A function is told apart by its SharedFunctionInfo address (`sfi = ...`)
 * and named by it (an anonymous one as `(anonymous)`). A deopt's position
 * is the innermost `;;; deoptimize at <file:line:col>` (made relative to
 * `root`), with ` < caller:line:col` for each frame it was inlined into;
 * V8 gives it in the JavaScript Deno emitted, which a `mapPosition`
 * (bench/source_positions.ts) takes back to the TypeScript.
 */

/** One tier's compilations. */
export interface TierCounts {
  /** Compilations completed (on-stack replacement ones included). */
  compiled: number;
  /** Of those, on-stack-replacement compilations. */
  osr: number;
  /** Compilations of a function this tier had compiled before. */
  again: number;
  /**
   * The compilations' execute phases, ms: the middle of the three times V8
   * prints with each (`took prepare, execute, finalize ms`), the part a
   * concurrent compile runs on a helper thread.
   */
  ms: number;
}

export interface OptCounts {
  maglev: TierCounts;
  turbofan: TierCounts;
  /** Eager, lazy and soft deoptimisations (bailouts). */
  deopts: number;
  /** Deopts by V8's reason, most first. */
  deoptsByReason: Record<string, number>;
  /** Deopts by `function@position: reason`, most first. */
  deoptsBySite: Record<string, number>;
  /** Optimised code marked for deoptimisation (dependency broken). */
  invalidations: number;
  /** Invalidations by `reason: function`, most first. */
  invalidationsByReason: Record<string, number>;
  /**
   * Functions compiled more than once by one tier: `tier function` ->
   * compilations (of every function of that name that was).
   */
  recompiled: Record<string, number>;
  /**
   * Execute-phase ms (see TierCounts.ms) by `tier function` (every function
   * of that name), most first, rounded to 0.1 ms.
   */
  msByFunction: Record<string, number>;
}

const TIERS = { MAGLEV: "maglev", TURBOFAN_JS: "turbofan", TURBOFAN: "turbofan" } as const;

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function sorted(counts: Map<string, number>): Record<string, number> {
  return Object.fromEntries(
    [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
  );
}

/** The function's name in `<JSFunction NAME (sfi = ADDR)>` or `<SharedFunctionInfo NAME>`. */
function functionName(raw: string | undefined): string {
  const name = (raw ?? "").trim();
  return name === "" ? "(anonymous)" : name;
}

/** Maps a position of `url` (1-based line and column), e.g. through a source map. */
export type MapPosition = (url: string, line: number, column: number) => [number, number];

/**
 * Counts the trace's lines; `root` is cut from source positions, after
 * `mapPosition` (by default none) took each from the emitted JavaScript
 * V8 saw to the file's own.
 */
export function countOptTrace(
  text: string,
  root = "",
  mapPosition: MapPosition = (_url, line, column) => [line, column],
): OptCounts {
  const tiers: Record<"maglev" | "turbofan", TierCounts> = {
    maglev: { compiled: 0, osr: 0, again: 0, ms: 0 },
    turbofan: { compiled: 0, osr: 0, again: 0, ms: 0 },
  };
  const msBy = new Map<string, number>(); // `tier name` -> execute ms
  const perFunction = new Map<string, number>(); // `tier sfi` -> compilations
  const names = new Map<string, string>(); // sfi -> name
  const byReason = new Map<string, number>();
  const bySite = new Map<string, number>();
  const invalidated = new Map<string, number>();
  let deopts = 0, invalidations = 0;
  // a bailout waits for its `deoptimize at` line (verbose traces only)
  let pending: { name: string; reason: string } | null = null;
  const flush = (site: string) => {
    if (pending) bump(bySite, `${pending.name}@${site}: ${pending.reason}`);
    pending = null;
  };
  const relative = (position: string) => {
    const at = position.match(/^(.*):(\d+):(\d+)$/);
    if (at) {
      const [line, column] = mapPosition(at[1], Number(at[2]), Number(at[3]));
      position = `${at[1]}:${line}:${column}`;
    }
    return position.replace("file://" + root, "");
  };
  for (const line of text.split("\n")) {
    const done = line.match(
      /\[completed (?:compiling|optimizing) \S+ <JSFunction ?([^(]*?) ?\(sfi = (\w+)\)> \(target (\w+)\)( OSR)?/,
    );
    if (done) {
      const tier = TIERS[done[3] as keyof typeof TIERS];
      // TurboFan prints both `completed compiling` (with times) and
      // `completed optimizing`: count the first only
      if (!tier || (tier === "turbofan" && line.includes("completed optimizing"))) continue;
      tiers[tier].compiled++;
      if (done[4]) tiers[tier].osr++;
      const key = `${tier} ${done[2]}`;
      if (perFunction.has(key)) tiers[tier].again++;
      bump(perFunction, key);
      names.set(done[2], functionName(done[1]));
      const took = line.match(/took [\d.]+, ([\d.]+), [\d.]+ ms/);
      if (took) {
        const ms = Number(took[1]);
        tiers[tier].ms += ms;
        const name = `${tier} ${functionName(done[1])}`;
        msBy.set(name, (msBy.get(name) ?? 0) + ms);
      }
      continue;
    }
    const bailout = line.match(
      /\[bailout \(kind: ([\w-]+), reason: (.*?)\): begin\. deoptimizing \S+ <JSFunction ?([^(]*?) ?\(sfi/,
    );
    if (bailout) {
      flush("?");
      deopts++;
      bump(byReason, bailout[2]);
      pending = { name: functionName(bailout[3]), reason: bailout[2] };
      continue;
    }
    const at = line.match(/;;; deoptimize at <([^>]*)>((?:, inlined at <[^>]*>)*)/);
    if (at && pending) {
      const callers = [...at[2].matchAll(/inlined at <([^>]*)>/g)].map((m) => relative(m[1]));
      flush([relative(at[1]), ...callers].join(" < "));
      continue;
    }
    if (pending && line.startsWith("[bailout end")) flush("?");
    const marked = line.match(
      /\[marking dependent code \S+ <Code \w+> \(\S+ <SharedFunctionInfo ?([^>]*)>\).*reason: (.*)\]/,
    );
    if (marked) {
      invalidations++;
      bump(invalidated, `${marked[2]}: ${functionName(marked[1])}`);
    }
  }
  flush("?");
  const recompiled = new Map<string, number>();
  for (const [key, n] of perFunction) {
    if (n < 2) continue;
    const [tier, sfi] = key.split(" ");
    const name = `${tier} ${names.get(sfi)}`; // functions of one name add up
    recompiled.set(name, (recompiled.get(name) ?? 0) + n);
  }
  for (const t of Object.values(tiers)) t.ms = Math.round(t.ms * 10) / 10;
  return {
    ...tiers,
    deopts,
    deoptsByReason: sorted(byReason),
    deoptsBySite: sorted(bySite),
    invalidations,
    invalidationsByReason: sorted(invalidated),
    recompiled: sorted(recompiled),
    msByFunction: Object.fromEntries(
      [...msBy].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .map(([k, v]) => [k, Math.round(v * 10) / 10]),
    ),
  };
}
