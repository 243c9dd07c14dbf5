/**
 * The warm-up (src/service/warm_up.ts) takes the service's own path through
 * a first checkpoint before the daemon is ready, so that the first real
 * checkpoint does not throw away the store's optimised code for want of
 * type feedback: without warmUpService, the store's `keyBytes`
 * (src/store/commit_batcher.ts) deopted at every worker's first checkpoint
 * (docs/scaling.md, "nineteenth round (jit2)").
 */
import assert from "node:assert/strict";
import { MARK } from "./_first_checkpoint_feed.ts";

Deno.test("after Service.load()'s warm-up, the first checkpoint of new streams does not deopt the store's keyBytes or cost", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--trace-deopt",
      "--unstable-kv",
      new URL("./_first_checkpoint_feed.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(out.success, `_first_checkpoint_feed.ts exit code ${out.code}`);
  const trace = new TextDecoder().decode(out.stdout);
  const at = trace.indexOf(MARK);
  assert.ok(at >= 0, `no "${MARK}" in the child's output`);
  const deopts = trace.slice(at).split("\n")
    .filter((l) => /^\[bailout .*<JSFunction (keyBytes|cost) /.test(l));
  assert.deepEqual(deopts, []);
});
