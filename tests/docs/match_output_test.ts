/**
 * The examples test's own parts: which blocks run, and how a shown output is
 * compared with the real one. A false example must fail, so these check that
 * a wrong field, a wrong count, a wrong status or a missing line is caught.
 */
import assert from "node:assert/strict";
import {
  classifyBlock,
  codeBlocks,
  expectedExit,
  expectedStatuses,
  shellWords,
} from "./_code_blocks.ts";
import { matchOutput, numberMatches } from "./_match_output.ts";

const fence = "```";

Deno.test("codeBlocks() pairs a block with the json or text block right after it", () => {
  const md = [
    "Intro",
    `${fence}sh`,
    "curl -s http://127.0.0.1:8080/v1/streams",
    fence,
    "",
    `${fence}json`,
    '{"streams": []}',
    fence,
    "prose in between",
    `${fence}json`,
    '{"alone": true}',
    fence,
    "- a list item:",
    "  ```sh",
    "  curl -s http://127.0.0.1:8080/healthz",
    "  ```",
  ].join("\n");
  const blocks = codeBlocks(md);
  assert.deepEqual(blocks.map((b) => [b.line, b.lang]), [[2, "sh"], [6, "json"], [10, "json"], [
    14,
    "sh",
  ]]);
  assert.equal(blocks[0].output?.text, '{"streams": []}');
  assert.equal(blocks[1].output, undefined, "a block after prose is not an output");
  assert.equal(blocks[3].text, "curl -s http://127.0.0.1:8080/healthz", "indentation removed");
});

Deno.test("classifyBlock() runs daemon examples, starts the daemon of deno task start|demo, and leaves the rest", () => {
  const sh = (text: string) => classifyBlock({ line: 1, lang: "sh", text });
  assert.deepEqual(sh("deno task start"), { kind: "start", args: [], env: {} });
  assert.deepEqual(sh("FORECASTD_LOG_LEVEL=debug deno task start --max-streams 5  # few"), {
    kind: "start",
    args: ["--max-streams", "5"],
    env: { FORECASTD_LOG_LEVEL: "debug" },
  });
  assert.deepEqual(sh("npx -y deno@2.9.6 task demo"), { kind: "start", args: ["--demo"], env: {} });
  assert.equal(sh("npx -y deno@2.9.6 task start\nnpx -y deno@2.9.6 task test").kind, "none");
  assert.equal(sh("curl -s http://127.0.0.1:8080/v1/streams").kind, "daemon");
  assert.equal(sh("mosquitto_pub -t sensors/kitchen/temperature -m 21.5").kind, "daemon");
  assert.equal(sh("curl http://gateway:8080/readyz").kind, "none");
  assert.equal(sh("deno task replay tests/fixtures/replay_small.csv --horizons 1").kind, "offline");
  assert.equal(sh("deno task replay ../shared/data/ett/ETTh2.csv").kind, "none");
  assert.equal(sh("deno run bench/gradient_norms.ts --steps 10").kind, "offline");
  assert.equal(classifyBlock({ line: 1, lang: "json", text: "{}" }).kind, "none");
  assert.equal(sh("deno task start --print-config --port 9000").kind, "offline", "prints, exits");
  assert.equal(sh("deno task -q start --port http 2>&1   # exit status 2").kind, "offline");
  // forecastd's clients talk to the daemon of the file (FORECASTD_URL names it)
  assert.equal(sh("deno task start streams").kind, "daemon");
  assert.equal(sh("deno task -q start forecast kitchen --horizon 3").kind, "daemon");
  assert.equal(sh("deno task start alerts --json | jq -r .id").kind, "daemon");
  assert.equal(sh("forecastd alerts --follow").kind, "none");
});

Deno.test("shellWords() splits as a shell does, without expansion", () => {
  assert.deepEqual(shellWords(`a 'b c' "d e"f # g`), ["a", "b c", "d ef"]);
});

Deno.test("expectedExit() reads the exit status a block names", () => {
  assert.equal(expectedExit("deno task -q start --port http  # exit status 2"), 2);
  assert.equal(expectedExit("curl -s x"), null);
});

Deno.test("expectedStatuses() reads statuses from comments such as # 404 Not Found", () => {
  assert.deepEqual(expectedStatuses("curl -s x   # 404 Not Found\ncurl y # 201 Created"), [
    404,
    201,
  ]);
  assert.deepEqual(expectedStatuses("curl -s x  # every 300 s"), []);
});

Deno.test("matchOutput(json) takes a document's output that agrees, with ... and rounded numbers", () => {
  const actual = JSON.stringify({
    stream: "room",
    origin: "2026-11-26T22:06:30.784Z",
    createdAt: 1796435957659,
    targets: { v: { point: [21.5512, 19.43], lower: [null, null] } },
    accepted: 2,
    message: "room: v = 61.77 is outside the expected 21.367 .. 21.896",
  });
  const shown = `{
    "stream": "room",
    "origin": "2026-11-26T22:06:30.784Z",
    "createdAt": ...,
    "targets": { "v": { "point": [21.55, ...], "lower": [null, null] } },
    "accepted": 2,
    "message": "room: v = 61.77 is outside ..."
  }`;
  assert.equal(matchOutput("json", shown, actual), null);
  assert.equal(matchOutput("json", `{"stream": "room", ...}`, actual), null);
  assert.equal(
    matchOutput("json", '{"ok": true}\n{"ok": false, ...}', '{"ok":true}\n{"ok":false,"x":1}'),
    null,
  );
});

Deno.test("matchOutput(json) refuses a wrong field name, a missing or extra field, a wrong count, null for a number", () => {
  const actual = JSON.stringify({ accepted: 2, rejected: [], lower: [null] });
  const wrong = (shown: string, why: RegExp) => {
    const d = matchOutput("json", shown, actual);
    assert.ok(d !== null && why.test(d), `${shown}: ${d}`);
  };
  wrong(`{"acepted": 2, "rejected": [], "lower": [null]}`, /field "acepted"/);
  wrong(`{"accepted": 2, "rejected": []}`, /fields the document does not show.*lower/);
  wrong(`{"accepted": 1, "rejected": [], "lower": [null]}`, /shows 1, the output has 2/);
  wrong(`{"accepted": 2, "rejected": [], "lower": [21.5]}`, /shows 21\.5/);
  wrong(`{"accepted": 2, "rejected": [1, ...], ...}`, /1 or more elements/);
  assert.match(matchOutput("json", "{}", "not json")!, /not JSON/);
  wrong(
    `{"accepted": 2, "rejected": [], "lower": [null]}\n{"ok": true}`,
    /has 1 JSON values, the document shows 2/,
  );
});

Deno.test("numberMatches() rounds to the digits shown and takes integers exactly", () => {
  assert.ok(numberMatches("0.0915", 0.09149522931431534));
  assert.ok(!numberMatches("0.0915", 0.0917));
  assert.ok(numberMatches("2", 2) && !numberMatches("2", 2.3));
  assert.ok(!numberMatches("1748775600000", 1748775660000), "a time is exact");
  assert.ok(numberMatches("0000000000000042", 42) && !numberMatches("0000000000000042", 43));
});

Deno.test("matchOutput(text) matches lines in order, with ... for lines and words, and numbers as shown", () => {
  const actual = [
    "forecastd 0.1.0 is running",
    "  http: http://127.0.0.1:8080/  try: curl http://127.0.0.1:8080/v1/streams",
    "  mqtt: mqtt://127.0.0.1:1883  (embedded broker)",
    'forecastd_readings_total{source="mqtt"} 3',
    "   1      599  0.0915  0.2073  90.9%",
    "at 2026-12-05T01:57:05.254Z",
  ].join("\n");
  assert.equal(
    matchOutput(
      "text",
      [
        "forecastd 0.1.0 is running",
        "...",
        'forecastd_readings_total{source="mqtt"} 3',
        " 1   599 0.092 0.2073 90.9%",
        "at ...",
      ].join("\n"),
      actual,
    ),
    null,
  );
  assert.equal(matchOutput("text", "forecastd ... is running\n...", actual), null);
  assert.match(
    matchOutput("text", 'forecastd_readings_total{source="mqtt"} 4\n...', actual)!,
    /no line like/,
  );
  assert.match(matchOutput("text", "forecastd 0.1.0 is running", actual)!, /other lines/);
  assert.match(
    matchOutput("text", actual.replace("2026-12-05T01:57", "2026-12-05T01:58"), actual)!,
    /no line like "at 2026-12-05T01:58/,
  );
  assert.match(
    matchOutput("text", '...\nforecastd_reading_total{source="mqtt"} 3\n...', actual)!,
    /no line like/,
  );
});
