import assert from "node:assert/strict";
import {
  CONFIG_DOC_COMMAND,
  CONFIG_DOC_PATH,
  formatConfigDoc,
} from "../../src/config/format_config_doc.ts";
import { DEFAULT_CONFIG, formatConfig, OPTIONS, resolveConfig } from "../../src/config/mod.ts";

const ROOT = new URL("../../", import.meta.url);

/** The cells of a Markdown table row, trimmed. */
function cells(line: string): string[] {
  return line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
}

/**
 * null when `committed` is what the generator writes, else the message that
 * names the first differing line and the command that rewrites the page.
 */
function staleness(committed: string, generated: string): string | null {
  if (committed === generated) return null;
  const a = committed.split("\n"), b = generated.split("\n");
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `${CONFIG_DOC_PATH} must be what \`${CONFIG_DOC_COMMAND}\` writes (run it and commit ` +
    `the page): line ${i + 1} is ${JSON.stringify(a[i] ?? "(none)")}, the schema gives ` +
    JSON.stringify(b[i] ?? "(none)");
}

Deno.test("docs/configuration.md is what `deno task docs:config` writes from the schema", async () => {
  const committed = await Deno.readTextFile(new URL(CONFIG_DOC_PATH, ROOT));
  const problem = staleness(committed, formatConfigDoc());
  assert.equal(problem, null, problem ?? "");
});

Deno.test("the staleness check fails on a page that differs, naming the line and the command", () => {
  const page = formatConfigDoc();
  const stale = page.replace("`FORECASTD_PORT`", "`FORECASTD_HTTP_PORT`");
  assert.notEqual(stale, page);
  const problem = staleness(stale, page);
  assert.ok(problem !== null);
  assert.match(problem, /^docs\/configuration\.md must be what `deno task docs:config` writes/);
  assert.match(
    problem,
    /line \d+ is ".*FORECASTD_HTTP_PORT.*", the schema gives ".*FORECASTD_PORT/,
  );
  assert.match(
    staleness(page + "\nmore\n", page)!,
    /line \d+ is "more", the schema gives "\(none\)"/,
  );
});

Deno.test("the page's options table has a row per option: flag, variable, file key, default, meaning", () => {
  const md = formatConfigDoc().split("\n");
  const head = md.findIndex((l) => l.startsWith("| flag "));
  assert.deepEqual(cells(md[head]), ["flag", "environment", "file key", "default", "meaning"]);
  assert.match(md[head + 1], /^\| -+ \| -+ \| -+ \| -+ \| -+ \|$/);
  const rows = md.slice(head + 2, head + 2 + OPTIONS.length).map(cells);
  assert.equal(md[head + 2 + OPTIONS.length], "", "the table ends after the last option");
  assert.deepEqual(rows.map((r) => r[1]), OPTIONS.map((o) => `\`${o.env}\``));
  assert.deepEqual(rows.find((r) => r[0] === "`--port PORT`"), [
    "`--port PORT`",
    "`FORECASTD_PORT`",
    "`port`",
    "`8080`",
    "HTTP API port; 0 picks a free port",
  ]);
  assert.deepEqual(rows[0].slice(0, 4), ["`--config FILE`", "`FORECASTD_CONFIG`", "", "`none`"]);
  assert.equal(
    rows.find((r) => r[2] === "`alertRetention.maxAgeDays`")?.[0],
    "`--alert-max-age-days DAYS`",
  );
  // padded as deno fmt pads: every row of the table as wide as the header
  for (const l of md.slice(head, head + 2 + OPTIONS.length)) {
    assert.equal(l.length, md[head].length);
  }
});

Deno.test("the page's example file is a valid configuration and its defaults block is --print-config's", () => {
  const page = formatConfigDoc();
  const blocks = [...page.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => m[1]);
  assert.equal(blocks.length, 2);
  const example = resolveConfig({
    args: ["--config", "f.json"],
    env: {},
    readFile: () => blocks[0],
  });
  assert.equal(example.webhooks[0].secret, "change-me");
  assert.equal(blocks[1], formatConfig(DEFAULT_CONFIG));
});

Deno.test("the page shows the error forecastd gives for its wrong example, as a terminal would", () => {
  const page = formatConfigDoc();
  const text = page.match(/```text\n([\s\S]*?)\n```/)![1];
  assert.deepEqual(text.split("\n"), [
    "$ cat forecastd.json",
    '{"alertRetention":{"maxAgeDays":0}}',
    "$ FORECASTD_MQTT_PORT=-1 FORECASTD_DATADIR=/x forecastd serve --port http --config forecastd.json",
    "Cannot start forecastd: invalid configuration:",
    '  FORECASTD_DATADIR (env): is not a known option (did you mean FORECASTD_DATA_DIR?): current value is "/x"',
    '  port (flag --port): must be an integer from 0 to 65535: current value is "http"',
    '  mqttPort (env FORECASTD_MQTT_PORT): must be an integer from 0 to 65535: current value is "-1"',
    "  alertRetention.maxAgeDays (file forecastd.json): must be a number of days greater than 0: current value is 0",
  ]);
});

Deno.test("the page lists a webhook's keys with their defaults", () => {
  const md = formatConfigDoc().split("\n");
  const head = md.indexOf(md.find((l) => l.startsWith("| key "))!);
  assert.deepEqual(md.slice(head + 2, head + 5).map((l) => cells(l).slice(0, 2)), [
    ["`url`", "required"],
    ["`secret`", "`null`"],
    ["`streams`", "`null`"],
  ]);
});
