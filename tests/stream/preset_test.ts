import assert from "node:assert/strict";
import { parsePreset } from "../../src/stream/preset.ts";

Deno.test("parsePreset() names each bad field and its value", () => {
  assert.throws(
    () => parsePreset({ name: "x", model: { hidden: 0 }, intervals: { coverage: 1.5 } }),
    (e) =>
      e instanceof RangeError && /model\.hidden: .*: current value is 0/.test(e.message) &&
      /intervals\.coverage: .*: current value is 1\.5/.test(e.message),
  );
});
