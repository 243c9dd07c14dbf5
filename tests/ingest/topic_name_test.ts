import assert from "node:assert/strict";
import { topicNameProblem } from "../../src/ingest/topic_name.ts";

Deno.test("topicNameProblem() takes ordinary topics", () => {
  for (const t of ["sensors/kitchen/temperature", "sensors/kitchen", "a", "$SYS/x", "é/ü"]) {
    assert.equal(topicNameProblem(t), null, t);
  }
});

Deno.test("topicNameProblem() refuses empty levels and wildcards without calling them malformed", () => {
  for (const t of ["", "sensors/", "sensors//v", "/x", "sensors/+/v", "sensors/#"]) {
    const p = topicNameProblem(t);
    assert.ok(p !== null, JSON.stringify(t));
    assert.equal(p.malformed, false, JSON.stringify(t));
  }
  assert.match(topicNameProblem("sensors//v")!.message, /empty level/);
});

Deno.test("topicNameProblem() calls U+0000 and U+FFFD (bytes that were not UTF-8) malformed", () => {
  assert.deepEqual(topicNameProblem("sensors/a\u0000b"), {
    malformed: true,
    message: "a topic must not contain U+0000",
  });
  const decoded = new TextDecoder().decode(new Uint8Array([0x73, 0x2f, 0xff, 0x61]));
  assert.equal(topicNameProblem(decoded)?.malformed, true);
});
