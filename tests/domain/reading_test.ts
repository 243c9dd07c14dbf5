import assert from "node:assert/strict";
import {
  isStreamId,
  isValueName,
  MAX_VALUES_DEFAULT,
  MAX_VALUES_LIMIT,
  nameProblem,
  STREAM_ID_PATTERN,
  VALUE_NAME_PATTERN,
  valueCountProblem,
} from "../../src/domain/reading.ts";

Deno.test("isStreamId() and isValueName() refuse names made only of dots, which paths resolve", () => {
  for (const name of [".", "..", "...", "....."]) {
    assert.equal(isStreamId(name), false, `stream id ${JSON.stringify(name)}`);
    assert.equal(isValueName(name), false, `value name ${JSON.stringify(name)}`);
    assert.equal(STREAM_ID_PATTERN.test(name), false, `pattern ${JSON.stringify(name)}`);
    assert.equal(VALUE_NAME_PATTERN.test(name), false, `pattern ${JSON.stringify(name)}`);
  }
  for (const name of [".a", "a.", "a..b", "..a", "room.temp", "_", "a:b-c"]) {
    assert.equal(isStreamId(name), true, `stream id ${JSON.stringify(name)}`);
    assert.equal(isValueName(name), true, `value name ${JSON.stringify(name)}`);
  }
  for (const name of ["", "a/b", "a b", "a#", "x".repeat(129)]) {
    assert.equal(isStreamId(name), false, `stream id ${JSON.stringify(name)}`);
  }
  assert.equal(isStreamId("x".repeat(128)), true);
  assert.equal(isValueName("__proto__"), false);
});

Deno.test("nameProblem() states the length limit and the alphabet, or null for a good name", () => {
  assert.equal(nameProblem("room", 128), null);
  assert.equal(nameProblem("x".repeat(16), 16), null);
  assert.equal(nameProblem("x".repeat(17), 16), "must be at most 16 characters long");
  assert.match(nameProblem("..", 128)!, /^must be 1-128 characters of A-Z .* not only dots$/);
  assert.match(nameProblem("a/b", 16)!, /^must be 1-128 characters of/);
});

Deno.test("valueCountProblem() allows 1 … max values and names the limit beyond it", () => {
  assert.equal(MAX_VALUES_DEFAULT, 64);
  assert.equal(MAX_VALUES_LIMIT, 256);
  assert.equal(valueCountProblem(1, 64), null);
  assert.equal(valueCountProblem(64, 64), null);
  assert.equal(valueCountProblem(65, 64), "must hold at most 64 values");
  assert.equal(valueCountProblem(0, 64), "must hold at least 1 value");
});
