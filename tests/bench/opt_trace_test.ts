/**
 * bench/opt_trace.ts on lines of V8's `--trace-opt --trace-deopt-verbose`
 * output as Deno 2.9's V8 prints them.
 */
import assert from "node:assert/strict";
import { countOptTrace } from "../../bench/opt_trace.ts";

const TRACE = [
  "[compiling method 0x1 <JSFunction step (sfi = 0xa1)> (target MAGLEV), mode: ConcurrencyMode::kConcurrent]",
  "[completed compiling 0x1 <JSFunction step (sfi = 0xa1)> (target MAGLEV) - took 0.001, 0.5, 0.01 ms]",
  "[completed compiling 0x2 <JSFunction (sfi = 0xa2)> (target MAGLEV) OSR - took 0.0, 1.0, 0.0 ms]",
  "[completed compiling 0x1 <JSFunction step (sfi = 0xa1)> (target TURBOFAN_JS) - took 0.0, 3.0, 0.1 ms]",
  "[completed optimizing 0x1 <JSFunction step (sfi = 0xa1)> (target TURBOFAN_JS)]",
  "[bailout (kind: deopt-eager, reason: wrong map): begin. deoptimizing 0x1 <JSFunction step (sfi = 0xa1)>, " +
  "0x9 <Code TURBOFAN_JS>, opt id 3, bytecode offset 12, deopt exit 1, FP to SP delta 32, caller SP 0x7, pc 0x8]",
  "            ;;; deoptimize at <file:///repo/src/stream/a.ts:3:7>, inlined at <file:///repo/src/stream/b.ts:9:2>",
  "  reading input frame step => bytecode_offset=12, args=1, height=1, retval=0(#0); inputs:",
  "[bailout end. code_invalidation: unaffected, took 0.1 ms]",
  "[marking dependent code 0x5 <Code MAGLEV> (0x6 <SharedFunctionInfo #score>) (opt id 4) for deoptimization, " +
  "reason: dependent prototype chain changed]",
  "[bailout (kind: deopt-lazy, reason: (unknown)): begin. deoptimizing 0x3 <JSFunction #score (sfi = 0xa3)>, " +
  "0x9 <Code MAGLEV>, opt id 4, bytecode offset 5, deopt exit 2, FP to SP delta 32, caller SP 0x7, pc 0x8]",
  "  reading input frame #score => bytecode_offset=5, args=1, height=1, retval=0(#0); inputs:",
  "[completed compiling 0x1 <JSFunction step (sfi = 0xa1)> (target MAGLEV) - took 0.001, 0.5, 0.01 ms]",
  "[completed compiling 0x4 <JSFunction step (sfi = 0xa4)> (target MAGLEV) - took 0.001, 0.5, 0.01 ms]",
].join("\n");

Deno.test("countOptTrace counts compilations, re-compilations, deopts and invalidations", () => {
  const c = countOptTrace(TRACE, "/repo/");
  assert.deepEqual(c.maglev, { compiled: 4, osr: 1, again: 1, ms: 2.5 });
  assert.deepEqual(c.turbofan, { compiled: 1, osr: 0, again: 0, ms: 3 });
  assert.equal(c.deopts, 2);
  assert.deepEqual(c.deoptsByReason, { "(unknown)": 1, "wrong map": 1 });
  assert.deepEqual(c.deoptsBySite, {
    "#score@?: (unknown)": 1,
    "step@src/stream/a.ts:3:7 < src/stream/b.ts:9:2: wrong map": 1,
  });
  assert.equal(c.invalidations, 1);
  assert.deepEqual(c.invalidationsByReason, { "dependent prototype chain changed: #score": 1 });
  // the second `step` (another sfi) is compiled once: not a re-compilation
  assert.deepEqual(c.recompiled, { "maglev step": 2 });
  // each function's execute phases (the middle time), both `step`s under one name
  assert.deepEqual(c.msByFunction, {
    "turbofan step": 3,
    "maglev step": 1.5,
    "maglev (anonymous)": 1,
  });
});

Deno.test("countOptTrace maps each deopt position before cutting the root", () => {
  const c = countOptTrace(
    TRACE,
    "/repo/",
    (url, line, column) => url.endsWith("a.ts") ? [line * 10, column + 1] : [line, column],
  );
  assert.deepEqual(
    Object.keys(c.deoptsBySite)[1],
    "step@src/stream/a.ts:30:8 < src/stream/b.ts:9:2: wrong map",
  );
});

Deno.test("countOptTrace names an anonymous function and finds nothing in other lines", () => {
  const c = countOptTrace(TRACE.split("\n").slice(2, 3).join("\n") + "\nRESULT {}\n");
  assert.deepEqual(c.maglev, { compiled: 1, osr: 1, again: 0, ms: 1 });
  assert.equal(c.deopts + c.invalidations, 0);
  assert.deepEqual(c.recompiled, {});
});
