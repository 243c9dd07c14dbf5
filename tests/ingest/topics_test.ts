import assert from "node:assert/strict";
import {
  compileTopicPattern,
  compileTopicPatterns,
  matchTopic,
  matchTopicPattern,
  subscriptionFilters,
  topicPatternProblem,
} from "../../src/ingest/topics.ts";

Deno.test("sensors/{stream}/{value} maps sensors/kitchen/temperature to stream kitchen, value temperature", () => {
  const p = compileTopicPattern("sensors/{stream}/{value}");
  const m = matchTopicPattern(p, "sensors/kitchen/temperature");
  assert.deepEqual(m && { stream: m.stream, value: m.value }, {
    stream: "kitchen",
    value: "temperature",
  });
  assert.equal(p.hasStream, true);
  assert.equal(p.hasValue, true);
});

Deno.test("sensors/{stream} maps sensors/kitchen to stream kitchen and no value", () => {
  const m = matchTopicPattern(compileTopicPattern("sensors/{stream}"), "sensors/kitchen");
  assert.deepEqual(m && { stream: m.stream, value: m.value }, { stream: "kitchen", value: null });
});

Deno.test("the subscription filter replaces placeholders with +", () => {
  const ps = compileTopicPatterns([
    "sensors/{stream}/{value}",
    "sensors/{stream}",
    "home/+/{stream}/#",
    "x/{value}",
  ]);
  assert.deepEqual(ps.map((p) => p.filter), ["sensors/+/+", "sensors/+", "home/+/+/#", "x/+"]);
});

Deno.test("subscriptionFilters() drops duplicate filters and keeps the order", () => {
  const ps = compileTopicPatterns(["a/{stream}", "b/{stream}/{value}", "a/+"]);
  assert.deepEqual(subscriptionFilters(ps), ["a/+", "b/+/+"]);
});

Deno.test("a topic matches a pattern exactly when it has the same number of levels and literals", () => {
  const p = compileTopicPattern("sensors/{stream}/{value}");
  assert.equal(matchTopicPattern(p, "sensors/kitchen"), null);
  assert.equal(matchTopicPattern(p, "sensors/kitchen/temperature/x"), null);
  assert.equal(matchTopicPattern(p, "Sensors/kitchen/temperature"), null);
  assert.equal(matchTopicPattern(p, "other/kitchen/temperature"), null);
});

Deno.test("+ matches one level, # any further levels including none", () => {
  const p = compileTopicPattern("home/+/{stream}/#");
  assert.equal(matchTopicPattern(p, "home/floor1/kitchen")?.stream, "kitchen");
  assert.equal(matchTopicPattern(p, "home/floor1/kitchen/a/b/c")?.stream, "kitchen");
  assert.equal(matchTopicPattern(p, "home/floor1"), null);
});

Deno.test("a placeholder captures an empty level as it is, for the parser to reject", () => {
  const m = matchTopicPattern(compileTopicPattern("sensors/{stream}/{value}"), "sensors//t");
  assert.equal(m?.stream, "");
});

Deno.test("wildcards in the first level do not match $SYS topics, as in MQTT", () => {
  const p = compileTopicPattern("{stream}/{value}");
  assert.equal(matchTopicPattern(p, "$SYS/broker"), null);
  assert.equal(matchTopicPattern(p, "kitchen/temp")?.stream, "kitchen");
  assert.ok(matchTopicPattern(compileTopicPattern("$SYS/{stream}"), "$SYS/x"));
});

Deno.test("matchTopic() takes the first pattern that matches, in the configured order", () => {
  const ps = compileTopicPatterns(["sensors/{stream}/{value}", "sensors/#", "sensors/{stream}"]);
  assert.equal(matchTopic(ps, "sensors/a/b")?.pattern.pattern, "sensors/{stream}/{value}");
  assert.equal(matchTopic(ps, "sensors/a")?.pattern.pattern, "sensors/#");
  assert.equal(matchTopic(ps, "elsewhere/a"), null);
});

Deno.test("topicPatternProblem() accepts valid patterns and names what is wrong with others", () => {
  for (const ok of ["sensors/{stream}", "{stream}", "a/+/b/#", "gateway/senml", "/{stream}"]) {
    assert.equal(topicPatternProblem(ok), null, ok);
  }
  const bad: [string, RegExp][] = [
    ["", /not empty/],
    ["sensors/{stream}-x", /level 2 \("\{stream\}-x"\) mixes/],
    ["a/#/b", /"#" must be the last level/],
    ["a/te+mp", /level 2/],
    ["{stream}/{stream}", /\{stream\} may appear once/],
    ["{value}/x/{value}", /\{value\} may appear once/],
    ["a/{strem}", /level 2/],
    ["$share/forecastd/sensors/{stream}", /not a shared subscription \(\$share\/\.\.\.\)/],
    ["$queue/sensors/{stream}", /not a shared subscription \(\$queue\/\.\.\.\).*--shard/],
  ];
  for (const [pattern, why] of bad) {
    assert.match(topicPatternProblem(pattern) ?? "(none)", why, pattern);
  }
});

Deno.test("compileTopicPattern() throws naming the pattern", () => {
  assert.throws(
    () => compileTopicPattern("a/#/b"),
    (e: Error) =>
      e instanceof RangeError &&
      e.message.startsWith("Cannot use topic pattern: ") &&
      e.message.endsWith(': current value is "a/#/b"'),
  );
});
