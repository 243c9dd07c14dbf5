import assert from "node:assert/strict";
import { kvIsRemote, kvPath } from "../../src/config/mod.ts";

Deno.test("kvPath() puts the KV file at <dataDir>/forecastd.kv", () => {
  assert.equal(kvPath({ dataDir: "./data" }), "data/forecastd.kv");
  assert.equal(kvPath({ dataDir: "/var/lib/forecastd/" }), "/var/lib/forecastd/forecastd.kv");
});

Deno.test("kvPath() gives --kv-url as it is when set, and only then is the KV remote", () => {
  const url = "https://kv.example:4512/db";
  assert.equal(kvPath({ dataDir: "./data", kvUrl: url }), url);
  assert.equal(kvPath({ dataDir: "./data", kvUrl: null }), "data/forecastd.kv");
  assert.equal(kvIsRemote({ kvUrl: url }), true);
  assert.equal(kvIsRemote({ kvUrl: null }), false);
});
