import assert from "node:assert/strict";
import { kvPath } from "../../src/config/mod.ts";

Deno.test("kvPath() puts the KV file at <dataDir>/forecastd.kv", () => {
  assert.equal(kvPath({ dataDir: "./data" }), "data/forecastd.kv");
  assert.equal(kvPath({ dataDir: "/var/lib/forecastd/" }), "/var/lib/forecastd/forecastd.kv");
});
