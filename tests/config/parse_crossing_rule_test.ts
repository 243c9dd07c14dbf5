/**
 * The options of forecastd's integrations as a user gives them: crossing
 * rules (`[STREAM/]TARGET>VALUE` or a file object), the exported metrics
 * horizons, and topics that must not overlap.
 */
import assert from "node:assert/strict";
import { parseCrossingRule } from "../../src/config/parse_crossing_rule.ts";
import { lines, problems, resolve } from "./_resolve.ts";

Deno.test("parseCrossingRule() reads [STREAM/]TARGET>VALUE and <VALUE, and gives back what it cannot read", () => {
  assert.deepEqual(parseCrossingRule("greenhouse/temperature>30"), {
    stream: "greenhouse",
    target: "temperature",
    above: 30,
  });
  assert.deepEqual(parseCrossingRule(" rel.humidity<-2.5e1 "), {
    stream: null,
    target: "rel.humidity",
    below: -25,
  });
  assert.deepEqual(parseCrossingRule("plant:1/soil>0.35"), {
    stream: "plant:1",
    target: "soil",
    above: 0.35,
  });
  for (const bad of ["temperature", "t>", "t>x", "a/b/c>1", ">3", "t=>3", "a b>1"]) {
    assert.equal(parseCrossingRule(bad), bad, bad);
  }
});

Deno.test("crossing rules come from repeated flags, the comma-separated variable or the file, in one form", () => {
  const expected = [
    { stream: "greenhouse", target: "temperature", above: 30, below: null },
    { stream: null, target: "humidity", above: null, below: 40 },
  ];
  assert.deepEqual(
    resolve([
      "--forecast-crossing",
      "greenhouse/temperature>30",
      "--forecast-crossing",
      "humidity<40",
    ]).config.forecastCrossings,
    expected,
  );
  assert.deepEqual(
    resolve([], { FORECASTD_FORECAST_CROSSINGS: "greenhouse/temperature>30, humidity<40" })
      .config.forecastCrossings,
    expected,
  );
  assert.deepEqual(
    resolve(["--config", "c.json"], {}, {
      "c.json": {
        forecastCrossings: [
          { stream: "greenhouse", target: "temperature", above: 30 },
          { target: "humidity", below: 40 },
        ],
      },
    }).config.forecastCrossings,
    expected,
  );
});

Deno.test("a crossing rule that is not one says what it must be", () => {
  assert.deepEqual(lines(problems(["--forecast-crossing", "temperature=30"])), [
    'forecastCrossings[0] (flag --forecast-crossing): must be "[STREAM/]TARGET>VALUE", ' +
    '"[STREAM/]TARGET<VALUE" or {"stream"?, "target", "above" or "below"}: current value is ' +
    '"temperature=30"',
  ]);
  assert.deepEqual(
    lines(problems(["--config", "c.json"], {}, {
      "c.json": {
        forecastCrossings: [{ target: "t", above: 1, below: 2 }, { target: "a b", below: 1 }],
      },
    })),
    [
      'forecastCrossings[0] (file c.json): must give exactly one of "above" and "below" ' +
      '("[STREAM/]TARGET>VALUE", "[STREAM/]TARGET<VALUE" or {"stream"?, "target", "above" or ' +
      '"below"}): current value is {"target":"t","above":1,"below":2}',
      "forecastCrossings[1].target (file c.json): must be a value name of 1-128 characters of " +
      'A-Z a-z 0-9 _ . : -, not only dots (not __proto__): current value is "a b"',
    ],
  );
});

Deno.test("metrics horizons: repeated flags, the variable, [] in the file for none; each a positive integer", () => {
  assert.deepEqual(
    resolve(["--metrics-horizon", "1", "--metrics-horizon", "48"]).config.metricsHorizons,
    [1, 48],
  );
  assert.deepEqual(
    resolve([], { FORECASTD_METRICS_HORIZONS: "3,6" }).config.metricsHorizons,
    [3, 6],
  );
  assert.deepEqual(
    resolve(["--config", "c.json"], {}, { "c.json": { metricsHorizons: [] } }).config
      .metricsHorizons,
    [],
  );
  assert.deepEqual(lines(problems(["--metrics-horizon", "0", "--metrics-horizon", "x"])), [
    "metricsHorizons[0] (flag --metrics-horizon): must be an integer from 1 to 10000: " +
    "current value is 0",
    "metricsHorizons[1] (flag --metrics-horizon): must be an integer from 1 to 10000: " +
    'current value is "x"',
  ]);
});

Deno.test("the forecast, alert and status topics must not overlap, so none reads as another's stream", () => {
  assert.deepEqual(lines(problems(["--forecast-topic-prefix", "forecastd/alerts/f"])), [
    "forecastTopicPrefix (flag --forecast-topic-prefix): must not be alertTopicPrefix " +
    '(forecastd/alerts) nor under it or over it: current value is "forecastd/alerts/f"',
  ]);
  assert.deepEqual(lines(problems(["--status-topic", "forecastd/forecasts/status"])), [
    "statusTopic (flag --status-topic): must not be under forecastTopicPrefix " +
    "(forecastd/forecasts): it would read as a stream's topic: current value is " +
    '"forecastd/forecasts/status"',
  ]);
  assert.deepEqual(lines(problems(["--ha-node-id", "gw 1"])), [
    'haNodeId (flag --ha-node-id): must be 1-64 characters of A-Z a-z 0-9 _ -: current value is "gw 1"',
  ]);
});
