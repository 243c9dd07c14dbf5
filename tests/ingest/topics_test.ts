import assert from "node:assert/strict";
import {
  compileTopicPattern,
  compileTopicPatterns,
  matchTopic,
  matchTopicPattern,
  subscriptionFilters,
  type TopicMatch,
  type TopicPattern,
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

/** The matcher as it was (a split of the topic a message): the oracle of the one walked in place. */
function matchBySplit(pattern: TopicPattern, topic: string): TopicMatch | null {
  const parts = topic.split("/");
  const { levels } = pattern;
  let stream: string | null = null, value: string | null = null;
  if (topic.startsWith("$") && levels[0].kind !== "literal") return null;
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.kind === "rest") return { pattern, stream, value };
    if (i >= parts.length) return null;
    if (level.kind === "literal" && parts[i] !== level.text) return null;
    if (level.kind === "stream") stream = parts[i];
    if (level.kind === "value") value = parts[i];
  }
  return parts.length === levels.length ? { pattern, stream, value } : null;
}

Deno.test("matchTopicPattern() walks the topic in place and answers as a split of it does", () => {
  const patterns = [
    "sensors/{stream}/{value}",
    "sensors/{stream}",
    "{stream}/v",
    "+/{stream}/#",
    "sensors/#",
    "#",
    "a/+/{value}/b",
    "sensors/kitchen/{value}",
  ].map(compileTopicPattern);
  const words = ["sensors", "kitchen", "v", "a", "b", "", "$SYS", "sensorsx", "sensor", "x/y"];
  let seed = 7;
  const pick = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return words[seed % words.length];
  };
  let matched = 0;
  for (let n = 0; n < 5000; n++) {
    const topic = Array.from({ length: 1 + (n % 5) }, pick).join("/");
    for (const p of patterns) {
      const want = matchBySplit(p, topic);
      assert.deepEqual(
        matchTopicPattern(p, topic),
        want,
        `${p.pattern} on ${JSON.stringify(topic)}`,
      );
      if (want !== null) matched++;
    }
  }
  assert.ok(matched > 1000, `the topics must match often enough to say something: ${matched}`);
});

Deno.test("matchTopic() answers each pattern list and topic for itself when asked in turn", () => {
  const byStream = compileTopicPatterns(["sensors/{stream}/{value}"]);
  const byValue = compileTopicPatterns(["sensors/kitchen/{value}", "{stream}/#"]);
  for (let i = 0; i < 3; i++) {
    assert.equal(matchTopic(byStream, "sensors/kitchen/t")?.stream, "kitchen");
    assert.equal(matchTopic(byStream, "sensors/kitchen/t")?.value, "t");
    assert.equal(matchTopic(byValue, "sensors/kitchen/t")?.stream, null);
    assert.equal(matchTopic(byValue, "sensors/kitchen/t")?.value, "t");
    assert.equal(matchTopic(byStream, "sensors/hall/h")?.stream, "hall");
    assert.equal(matchTopic(byStream, "other/hall/h"), null);
    assert.equal(matchTopic(byValue, "other/hall/h")?.stream, "other");
  }
});
