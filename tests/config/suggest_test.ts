import assert from "node:assert/strict";
import { editDistance, suggest } from "../../src/config/suggest.ts";

Deno.test("editDistance() counts insertions, deletions and substitutions", () => {
  assert.equal(editDistance("port", "port"), 0);
  assert.equal(editDistance("prot", "port"), 2);
  assert.equal(editDistance("datadir", "data-dir"), 1);
  assert.equal(editDistance("", "abc"), 3);
});

Deno.test("suggest() names the closest known name within distance 2, case ignored, else nothing", () => {
  assert.equal(suggest("PROT", ["host", "port"], "--"), " (did you mean --port?)");
  assert.equal(
    suggest("maxEvent", ["maxEvents", "maxAgeDays"], "alertRetention."),
    " (did you mean alertRetention.maxEvents?)",
  );
  assert.equal(suggest("zzzzzz", ["host", "port"], "--"), "");
});
