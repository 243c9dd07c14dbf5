import assert from "node:assert/strict";
import { resolvesWithin } from "../../src/async/resolves_within.ts";

Deno.test("resolvesWithin() is true for a promise that resolves in time, and clears its timer", async () => {
  // a timer left pending would fail this test under the ops sanitizer
  assert.equal(await resolvesWithin(Promise.resolve(7), 60_000), true);
  assert.equal(await resolvesWithin(new Promise((r) => setTimeout(r, 5)), 60_000), true);
});

Deno.test("resolvesWithin() is false when the time runs out first", async () => {
  let release!: () => void;
  const never = new Promise<void>((r) => release = r);
  const t0 = performance.now();
  assert.equal(await resolvesWithin(never, 20), false);
  assert.ok(performance.now() - t0 >= 19, "it waited the time it was given");
  release();
});

Deno.test("resolvesWithin() rejects with the promise's error when it rejects first", async () => {
  await assert.rejects(
    resolvesWithin(Promise.reject(new Error("broker gone")), 60_000),
    /^Error: broker gone$/,
  );
});
