/**
 * The engine's code allocates little while V8 runs it in its mid tier
 * (Maglev), before TurboFan takes a function over: bench/engine_alloc.ts
 * with every optimised function kept in Maglev (`--no-turbofan`, compiled
 * on the main thread so that the run does not depend on the machine's
 * load), 5 default streams, 100 readings each counted after 600 (the bytes
 * V8 allocated on the JS heap, garbage included, exact). Maglev keeps a
 * double that a loop carries from one iteration to the next, or that `?:`
 * picks, or that a call it does not inline takes or returns, as a new heap
 * object: the RLS update's sums, the blend's and the normaliser's `scale()`
 * made about 84,000 bytes a reading; the sums in typed-array scratch make
 * 26,000 to 27,700 (src/stream/rls.ts, src/stream/blend.ts). The bound sits
 * between the two.
 */
import assert from "node:assert/strict";

/** Bytes a reading, Maglev alone; 84,000 before the sums moved into scratch, about 26,000 after. */
const BOUND = 50_000;

Deno.test("the engine allocates under 50,000 bytes a reading in Maglev's code", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--no-turbofan,--no-concurrent-recompilation",
      "--allow-read",
      new URL("../../bench/engine_alloc.ts", import.meta.url).pathname,
      "--preset=default",
      "--streams=5",
      "--skip=60",
      "--rounds=10",
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(out.success, `engine_alloc exit code ${out.code}`);
  const result = /RESULT (\{.*\})/.exec(new TextDecoder().decode(out.stdout));
  assert.ok(result, "engine_alloc printed no RESULT line");
  const { bytesPerReading } = JSON.parse(result[1]);
  assert.ok(
    bytesPerReading < BOUND,
    `bytes a reading in Maglev's code: ${bytesPerReading}, bound ${BOUND}`,
  );
});
