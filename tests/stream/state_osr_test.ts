/**
 * A checkpoint's scan for its arrays' zeros does not leave V8 a loop
 * compiled on its own that every later call enters and leaves again
 * (src/stream/state.ts, nonZeroBytes): the warm-up's first read of a young
 * stream (src/service/warm_up.ts) made one in a worker, and its first
 * checkpoints deopted 92 times (docs/scaling.md, "eighteenth round
 * (jitwarm)").
 */
import assert from "node:assert/strict";
import { v8Trace } from "./_v8_trace.ts";

Deno.test("encodeState() after a long array of zeros deopts at most twice on arrays of every kind", async () => {
  const trace = await v8Trace("--trace-deopt", new URL("./_state_osr_feed.ts", import.meta.url));
  const deopts = trace
    .filter((l) => /^\[bailout .*<JSFunction (storedCount|nonZeroBytes) /.test(l));
  // one for the on-stack replacement's entry, at most one more as the kinds come
  assert.ok(deopts.length <= 2, `${deopts.length} deopts:\n${deopts.slice(0, 4).join("\n")}`);
});
