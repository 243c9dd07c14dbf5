import assert from "node:assert/strict";
import { topicMatchesAny, topicMatchesFilter } from "../../src/ingest/topic_filter.ts";

Deno.test("topicMatchesFilter() follows MQTT's wildcard rules", () => {
  const yes: [string, string][] = [
    ["sensors/+/+", "sensors/kitchen/temperature"],
    ["sensors/+", "sensors/"],
    ["sensors/#", "sensors"],
    ["sensors/#", "sensors/a/b/c"],
    ["#", "anything/at/all"],
    ["+/+", "/x"],
    ["forecastd/alerts/#", "forecastd/alerts/kitchen"],
  ];
  const no: [string, string][] = [
    ["sensors/+", "sensors/a/b"],
    ["sensors/+/+", "sensors/a"],
    ["sensors/a", "sensors/b"],
    ["#", "$SYS/x"],
    ["+/x", "$SYS/x"],
    ["forecastd/alerts/#", "forecastd/alertsx/kitchen"],
  ];
  for (const [f, t] of yes) assert.ok(topicMatchesFilter(f, t), `${f} matches ${t}`);
  for (const [f, t] of no) assert.ok(!topicMatchesFilter(f, t), `${f} does not match ${t}`);
  assert.ok(topicMatchesFilter("$SYS/#", "$SYS/x"));
  assert.ok(topicMatchesAny(["a/#", "b/+"], "b/c"));
  assert.ok(!topicMatchesAny([], "b/c"));
});
