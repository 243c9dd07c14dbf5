import assert from "node:assert/strict";
import { Engine } from "../../src/stream/engine.ts";
import { getPreset } from "../../src/stream/preset.ts";

// The blend's solver, the LSTM expert, the period's median and the stream's saved scalars use
// scratch shared by every stream of the same shape (typed_block.ts sharedBlock): a stream must
// not see another's values there.
Deno.test("streams that share scratch end as each would alone, readings interleaved", () => {
  const T0 = Date.UTC(2026, 0, 5), N = 900;
  const a = (n: number) => [20 + 3 * Math.sin(n / 23) + (n === 500 ? 30 : 0), (n % 17) / 4];
  const b = (n: number) => [-400 + 50 * Math.cos(n / 7) + (n % 5), 1e3 + n];
  const make = (e: Engine, id: string) =>
    e.create(id, { preset: getPreset("pi-small"), columns: ["x", "y"], periodMs: 1000 });
  const alone = new Engine();
  const ref = make(alone, "a");
  for (let n = 0; n < N; n++) alone.observe("a", T0 + n * 1000, a(n));
  const both = new Engine();
  const sa = make(both, "a"), sb = make(both, "b");
  for (let n = 0; n < N; n++) {
    both.observe("b", T0 + n * 1000, b(n));
    both.observe("a", T0 + n * 1000, a(n));
    if (n % 3 === 0) both.observe("b", T0 + n * 1000 + 500, b(n + 0.5));
  }
  assert.ok(ref.trainer!.updates > 0 && sb.trainer!.updates > 0, "the LSTM experts learned");
  const got = sa.toBytes(), want = ref.toBytes();
  assert.equal(got.length, want.length, "the state's size");
  assert.equal(got.findIndex((v, i) => v !== want[i]), -1, "the first byte that differs");
});
