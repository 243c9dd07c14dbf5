import assert from "node:assert/strict";
import {
  alertKey,
  chunkKey,
  configKey,
  formatAlertId,
  journalKey,
  manifestKey,
  parseAlertId,
  parseJournalKey,
  streamIndexKey,
  streamPrefix,
  validateStreamId,
} from "../../src/store/keys.ts";

Deno.test("keys follow the documented layout", () => {
  assert.deepEqual(configKey("a.b"), ["forecastd", "v1", "streams", "a.b", "config"]);
  assert.deepEqual(manifestKey("a.b"), ["forecastd", "v1", "streams", "a.b", "manifest"]);
  assert.deepEqual(chunkKey("a.b", "lz-0f", 3), [
    "forecastd",
    "v1",
    "streams",
    "a.b",
    "chunks",
    "lz-0f",
    3,
  ]);
  assert.deepEqual(streamIndexKey("a.b"), ["forecastd", "v1", "stream_index", "a.b"]);
  assert.deepEqual(journalKey("a.b", "lz-0f"), ["forecastd", "v1", "journal", "a.b", "lz-0f"]);
  assert.deepEqual(parseJournalKey(journalKey("a.b", "lz-0f")), { id: "a.b", version: "lz-0f" });
  assert.deepEqual(alertKey("0000000000000042"), ["forecastd", "v1", "alerts", "0000000000000042"]);
  // every key of a stream is under its prefix
  for (const key of [configKey("s"), manifestKey("s"), chunkKey("s", "a-1", 0)]) {
    assert.deepEqual(key.slice(0, 4), streamPrefix("s"));
  }
});

Deno.test("validateStreamId() accepts 1-128 characters of [A-Za-z0-9_.:-]", () => {
  for (const id of ["a", "Z9", "site-1:greenhouse_2.temp", "x".repeat(128)]) validateStreamId(id);
});

Deno.test("validateStreamId() names the action, the rule and the value", () => {
  const cases: [unknown, string][] = [
    ["", '""'],
    ["x".repeat(129), `"${"x".repeat(76)}...`],
    ["living room", '"living room"'],
    ["a/b", '"a/b"'],
    ["..", '".."'],
    ["ünits", '"ünits"'],
    [42, "42"],
    [undefined, "missing"],
  ];
  for (const [id, shown] of cases) {
    assert.throws(
      () => validateStreamId(id),
      (e: Error) => {
        assert.ok(e instanceof TypeError);
        assert.equal(
          e.message,
          `Cannot store stream: id must be 1-128 characters of A-Z a-z 0-9 _ . : -, not only dots: current value is ${shown}`,
        );
        return true;
      },
    );
  }
  assert.throws(() => configKey("a b"), /^TypeError: Cannot store stream: id must be/);
});

Deno.test("alert ids are 16 zero-padded digits, so string order is numeric order", () => {
  assert.equal(formatAlertId(1), "0000000000000001");
  assert.equal(formatAlertId(9_007_199_254_740_991), "9007199254740991");
  assert.equal(parseAlertId("0000000000000042"), 42);
  const ids = [1, 2, 9, 10, 99, 100, 12345].map(formatAlertId);
  assert.deepEqual([...ids].sort(), ids);
  assert.throws(
    () => formatAlertId(0),
    /sequence number must be a positive safe integer: current value is 0$/,
  );
  assert.throws(
    () => alertKey("42"),
    /^TypeError: Cannot find alert: an alert id must be 16 decimal digits: current value is "42"$/,
  );
});

Deno.test("chunk and journal keys refuse a malformed version or index", () => {
  assert.throws(() => chunkKey("s", "../x", 0), /version must match .*: current value is "..\/x"$/);
  assert.throws(
    () => chunkKey("s", "a-1", -1),
    /chunk index must be a non-negative integer: current value is -1$/,
  );
  assert.throws(
    () => parseJournalKey(["forecastd", "v1", "journal", "s", 7]),
    /^TypeError: Cannot read journal: the key must end in a version string: current value is 7$/,
  );
});
