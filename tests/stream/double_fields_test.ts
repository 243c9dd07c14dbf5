/**
 * No number field of the engine changes representation from small integer
 * to double once readings flow: V8's `--trace-generalization` over a short
 * bench/engine_load.ts run (two streams, past the warm-up of the scorer, the
 * budget and the drift detector) prints no `s{...}->d{...}` line for a
 * function of src/ other than a constructor. Such a change deprecates the
 * maps of every object of the class and throws away the optimised code that
 * depended on them; a field that holds fractions starts at DOUBLE_ZERO
 * (src/model/floats.ts). A constructor's are left out: they happen as the
 * first streams are made, before there is optimised code to lose, and so
 * do a module's as it is imported.
 */
import assert from "node:assert/strict";
import { v8Trace } from "./_v8_trace.ts";
import { DOUBLE_ONE, DOUBLE_ZERO } from "../../src/model/floats.ts";

Deno.test("DOUBLE_ZERO and DOUBLE_ONE are the numbers 0 and 1", () => {
  assert.ok(Object.is(DOUBLE_ZERO, 0));
  assert.ok(Object.is(DOUBLE_ONE, 1));
  assert.equal(DOUBLE_ZERO * 0.5 + DOUBLE_ONE, 1);
});

Deno.test("no field of src/ turns from small integer to double while readings flow", async () => {
  const trace = await v8Trace(
    "--trace-generalization",
    new URL("../../bench/engine_load.ts", import.meta.url),
    { permissions: ["--allow-read"], args: ["--streams=2", "--readings=3000"] },
  );
  const src = new URL("../../src/", import.meta.url).href;
  const late = trace
    .filter((l) => /\[generalizing\].*:s\{[^}]*\}->d\{/.test(l))
    .filter((l) => l.includes(src) && !/\[(new ~|~\+)/.test(l))
    .map((l) => l.replace(/^.*\[generalizing\]/, "").replace(src, "src/"));
  assert.deepEqual(late, []);
});

Deno.test("a Blend's pull factor is a double before its first fraction", async () => {
  // bench/engine_load.ts's streams never set a fraction there; the capacity bench's did, and
  // the change threw away every Blend method's optimised code in each worker
  const trace = await v8Trace(
    "--trace-generalization",
    new URL("./_blend_pull_feed.ts", import.meta.url),
  );
  const late = trace
    .filter((l) => /\[generalizing\].*:s\{[^}]*\}->d\{/.test(l) && l.includes("blend.ts"));
  assert.deepEqual(late, []);
});
