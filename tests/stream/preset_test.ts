import assert from "node:assert/strict";
import { parsePreset } from "../../src/stream/preset_schema.ts";
import { BUILTIN_PRESET_FILES, BUILTIN_PRESETS, getPreset } from "../../src/stream/preset.ts";

Deno.test("parsePreset() names each bad field and its value", () => {
  assert.throws(
    () => parsePreset({ name: "x", model: { hidden: 0 }, intervals: { coverage: 1.5 } }),
    (e) =>
      e instanceof RangeError && /model\.hidden: .*: current value is 0/.test(e.message) &&
      /intervals\.coverage: .*: current value is 1\.5/.test(e.message),
  );
});

Deno.test("parsePreset() takes anomaly.drift.days, 28 unless set, and names a bad value", () => {
  assert.equal(parsePreset({ name: "x" }).anomaly.drift.days, 28);
  assert.equal(parsePreset({ name: "x", anomaly: { drift: { days: 7 } } }).anomaly.drift.days, 7);
  for (const days of [0, 1.5, 366, "28"]) {
    assert.throws(
      () => parsePreset({ name: "x", anomaly: { drift: { days } } }, "models/x.json"),
      (e) =>
        e instanceof RangeError &&
        e.message.startsWith("Cannot load models/x.json: invalid fields") &&
        e.message.includes(`anomaly.drift.days: `) &&
        e.message.endsWith(`: current value is ${JSON.stringify(days)}`),
      `days ${JSON.stringify(days)}`,
    );
  }
  // every preset with a drift detector remembers 28 days
  for (const p of BUILTIN_PRESET_FILES) assert.equal(p.anomaly.drift.days, 28, p.name);
});

Deno.test("each built-in preset file spells out every field as the schema resolves it", () => {
  for (const p of BUILTIN_PRESET_FILES) {
    // a shard worker takes the files as they are (it loads no schema): a field left to its default would be missing there
    assert.deepEqual(p, parsePreset(p, `models/${p.name}.json`), `models/${p.name}.json`);
    assert.equal(getPreset(p.name), p);
  }
  assert.deepEqual([...BUILTIN_PRESETS.keys()], [
    "default",
    "pi-small",
    "hourly",
    "quarter-hourly",
  ]);
});
