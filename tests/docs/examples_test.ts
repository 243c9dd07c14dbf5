/**
 * Every shell example in README.md and docs/*.md that talks to a running
 * daemon is run here against the real daemon, and its output checked, so a
 * false example fails CI. The convention (also in docs/testing.md):
 *
 * Which blocks run: fenced blocks marked `sh`, in the order of their file,
 * one daemon per file, in bash in the repository's root (as a reader runs
 * them: `deno task` works there); so they must not write files there.
 *
 * 1. A block whose only command is `deno task start [flags]` or
 *    `deno task demo [flags]` (also through `npx -y deno@2.9.6`, and with
 *    `NAME=value` variables before it) starts the daemon for the blocks after
 *    it: the real daemon (main.ts serve, tests/e2e/_daemon.ts) on 127.0.0.1
 *    port 0, its embedded broker on port 0, a fresh temporary data directory,
 *    and those flags and variables (plus `--log-level debug`, which the test
 *    reads). A `text` block right after it must match the start-up lines.
 * 2. A block that uses `127.0.0.1:8080` (the HTTP API, also `ws://`),
 *    `mosquitto_pub`/`mosquitto_sub` (the embedded broker at its default
 *    127.0.0.1:1883) or forecastd's clients (`deno task start streams`,
 *    `forecast`, `alerts`, `ack`) runs in bash against the daemon of its file
 *    (started without flags if no block 1 came before): `127.0.0.1:8080`
 *    becomes the daemon's address, FORECASTD_URL names it for the clients,
 *    and the MQTT clients get `-h 127.0.0.1 -p <its broker's port>`. Blocks that name other hosts (`broker.lan`, `gateway:8080`) and
 *    blocks of commands such as `forecastd serve` are not run.
 * 3. A block made only of `deno task replay tests/fixtures/…` and
 *    `deno run bench/gradient_norms.ts` commands runs too (no daemon), and
 *    so does a `deno task start` that prints and exits (`--help`,
 *    `--print-config`, or a block marked `# exit status N`).
 *
 * What is checked: every block exits with status 0, or the N of a comment
 * `# exit status N` (curl's 28, the end of a time limit it was given with
 * `-m`, counts as 0: a live stream never ends by itself); every HTTP answer to curl is 2xx unless the block names the
 * status in a comment such as `# 404 Not Found`, and every status so named
 * must come; a `json` or `text` block right after the block is its output
 * and must match what it printed on stdout (the rules are in
 * _match_output.ts). In outputs, the daemon's ports read as 8080 and 1883
 * and its data directory as `data`. After a block publishes over MQTT, the
 * next block waits until the daemon has handled every message.
 *
 * The files with MQTT examples are skipped, saying so, when mosquitto_pub is
 * not installed (Debian: apt-get install -y mosquitto-clients), and those
 * with curl examples when curl is not.
 *
 * To see what the examples print (to write a new one): DOCS_SHOW_OUTPUT=1
 * deno task test tests/docs/examples_test.ts --filter docs/api.md
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import type { LogEntry } from "../../src/log.ts";
import {
  type Daemon,
  eventually,
  ROOT,
  startDaemon,
  streamWithReadings,
  withTempDir,
} from "../e2e/_daemon.ts";
import {
  type BlockKind,
  classifyBlock,
  type CodeBlock,
  codeBlocks,
  expectedExit,
  expectedStatuses,
} from "./_code_blocks.ts";
import { matchOutput } from "./_match_output.ts";

/** Longest time one block may run, seconds (the demo's first alert comes after about 20 s). */
const BLOCK_SECONDS = 90;

/** The documents whose examples run: README.md and every docs/*.md. */
function documents(): string[] {
  const docs = [...Deno.readDirSync(`${ROOT}docs`)]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => `docs/${e.name}`)
    .sort();
  return ["README.md", ...docs];
}

async function installed(cmd: string): Promise<boolean> {
  try {
    await new Deno.Command(cmd, { args: ["--help"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

const haveMqttClients = await installed("mosquitto_pub") && await installed("mosquitto_sub");
const haveCurl = await installed("curl");
const showOutput = Deno.env.get("DOCS_SHOW_OUTPUT") !== undefined;

/** Shell functions every daemon block runs with. */
const PRELUDE = `set -eo pipefail
curl() {
  local headers rc=0 a
  headers=$(mktemp "$DOCS_TMP/http.XXXXXX")
  command curl -D "$headers" "$@" || rc=$?
  if [ "$rc" = 28 ]; then
    for a in "$@"; do if [ "$a" = -m ] || [ "$a" = --max-time ]; then return 0; fi; done
  fi
  return "$rc"
}
mosquitto_pub() {
  echo . >>"$DOCS_TMP/published"
  command mosquitto_pub -h 127.0.0.1 -p "$DOCS_MQTT_PORT" "$@"
}
mosquitto_sub() { command mosquitto_sub -h 127.0.0.1 -p "$DOCS_MQTT_PORT" "$@"; }
`;

/** The daemon of one document, with what the test needs to know of it. */
interface DocDaemon {
  daemon: Daemon;
  dataDir: string;
  httpPort: string;
  mqttPort: string;
  /** The topic of the demo sensor, when it runs (its messages are not the examples'). */
  demoTopic: string | null;
}

/** The output of the daemon, read as the document writes it: default ports and `data`. */
function asDocumented(text: string, d: DocDaemon): string {
  return text
    .replaceAll(`127.0.0.1:${d.httpPort}`, "127.0.0.1:8080")
    .replaceAll(`127.0.0.1:${d.mqttPort}`, "127.0.0.1:1883")
    .replaceAll(d.dataDir, "data");
}

async function start(
  dir: string,
  n: number,
  kind: Extract<BlockKind, { kind: "start" }>,
): Promise<DocDaemon> {
  if (kind.args.some((a) => a.startsWith("--mqtt-url"))) {
    throw new Error("an example daemon with --mqtt-url cannot run here: it needs that broker");
  }
  const dataDir = `${dir}/data-${n}`;
  await Deno.mkdir(dataDir);
  const daemon = await startDaemon({
    dataDir,
    env: kind.env,
    args: [
      ...kind.args,
      ...["--host", "127.0.0.1", "--port", "0", "--mqtt-port", "0", "--data-dir", dataDir],
      ...["--log-level", "debug"],
    ],
  });
  const port = (url: string) => /:(\d+)\/?$/.exec(url)?.[1] ?? "";
  const demo = kind.args.includes("--demo");
  if (demo) await streamWithReadings(daemon, "demo", 576); // its two days of history
  return {
    daemon,
    dataDir,
    httpPort: port(daemon.http),
    mqttPort: port(daemon.mqttUrl),
    demoTopic: demo ? "sensors/demo/temperature" : null,
  };
}

/** MQTT messages the daemon has handled (accepted or refused), the demo's left out. */
function mqttMessages(d: DocDaemon): number {
  return d.daemon.log.filter((e: LogEntry) =>
    (e.event === "mqtt.readings" || e.event === "mqtt.rejected") && e.topic !== d.demoTopic
  ).length;
}

/** The alert events stored so far, from /metrics. */
async function alertsStored(d: DocDaemon): Promise<number> {
  const text = await (await fetch(`${d.daemon.http}/metrics`)).text();
  return Number(/^forecastd_alerts_total (\d+)$/m.exec(text)?.[1] ?? NaN);
}

/** Runs one block in bash; returns its stdout and the HTTP statuses curl got. */
async function runBlock(
  block: CodeBlock,
  cwd: string,
  d: DocDaemon | null,
): Promise<{ stdout: string; statuses: number[]; published: number }> {
  const tmp = await Deno.makeTempDir({ prefix: "forecastd-docs-block-" });
  try {
    const text = d
      ? block.text.replaceAll("127.0.0.1:8080", `127.0.0.1:${d.httpPort}`)
      : block.text;
    const out = await new Deno.Command("timeout", {
      args: ["-k", "5", String(BLOCK_SECONDS), "bash", "-c", PRELUDE + text],
      cwd,
      stdin: "null",
      env: {
        PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? ""}`,
        NO_COLOR: "1",
        DOCS_TMP: tmp,
        DOCS_MQTT_PORT: d?.mqttPort ?? "",
        // forecastd's clients (deno task start streams, ...) find the daemon here
        ...(d ? { FORECASTD_URL: `http://127.0.0.1:${d.httpPort}` } : {}),
      },
    }).output();
    const dec = new TextDecoder();
    const stdout = dec.decode(out.stdout);
    const exit = expectedExit(block.text) ?? 0;
    if (out.code !== exit) {
      throw new Error(
        `the example exited with status ${out.code}, not ${exit}${
          out.code === 124 ? ` (still running after ${BLOCK_SECONDS} s)` : ""
        }\nstdout: ${stdout}\nstderr: ${dec.decode(out.stderr)}`,
      );
    }
    const statuses: number[] = [];
    let published = 0;
    for (const e of Deno.readDirSync(tmp)) {
      const content = Deno.readTextFileSync(`${tmp}/${e.name}`);
      if (e.name === "published") published = content.split("\n").filter((l) => l).length;
      const codes = [...content.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)].map((m) => Number(m[1]));
      if (codes.length) statuses.push(codes.at(-1)!); // after any "100 Continue"
    }
    return { stdout, statuses, published };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

function checkStatuses(block: CodeBlock, statuses: number[]): void {
  const expected = expectedStatuses(block.text);
  const wrong = statuses.filter((s) => (s < 200 || s > 299) && !expected.includes(s));
  assert.deepEqual(
    wrong,
    [],
    `HTTP answers ${wrong.join(", ")} that the example does not name (# <status> <Reason>)`,
  );
  const missing = expected.filter((s) => !statuses.includes(s));
  assert.deepEqual(missing, [], `the example names statuses that did not come: got ${statuses}`);
}

function where(file: string, block: CodeBlock): string {
  const first = block.text.split("\n").find((l) => l.trim() !== "") ?? "";
  return `${file}:${block.line} ${first.length > 70 ? first.slice(0, 67) + "..." : first}`;
}

for (const file of documents()) {
  const blocks = codeBlocks(Deno.readTextFileSync(`${ROOT}${file}`))
    .map((block) => ({ block, kind: classifyBlock(block) }))
    .filter((b) => b.kind.kind !== "none");
  if (blocks.length === 0) continue;
  const needsMqtt = blocks.some((b) => /\bmosquitto_(?:pub|sub)\b/.test(b.block.text));
  const needsCurl = blocks.some((b) => /\bcurl\b/.test(b.block.text));
  const missing = [
    ...(needsMqtt && !haveMqttClients
      ? ["mosquitto_pub and mosquitto_sub (mosquitto-clients)"]
      : []),
    ...(needsCurl && !haveCurl ? ["curl"] : []),
  ];
  if (missing.length) {
    console.warn(
      `tests/docs/examples_test.ts: ${file} skipped: its examples need ${missing.join(" and ")} ` +
        "(Debian: apt-get install -y mosquitto-clients curl)",
    );
  }
  Deno.test({
    name: `${file}: every example that talks to the daemon runs as shown`,
    ignore: missing.length > 0,
    fn: async (t) => {
      await withTempDir(async (dir) => {
        let d: DocDaemon | null = null;
        let started = 0;
        try {
          for (const { block, kind } of blocks) {
            const ok = await t.step({
              name: where(file, block),
              // the daemon outlives a step; the test as a whole ends it
              sanitizeOps: false,
              sanitizeResources: false,
              fn: async () => {
                if (kind.kind === "start") {
                  await d?.daemon.stop();
                  d = await start(dir, ++started, kind);
                  if (block.output) {
                    const diff = matchOutput(
                      block.output.lang,
                      block.output.text,
                      asDocumented(d.daemon.banner.join("\n"), d),
                    );
                    assert.equal(diff, null, `the start-up lines differ: ${diff}`);
                  }
                  return;
                }
                if (kind.kind === "daemon" && d === null) {
                  d = await start(dir, ++started, { kind: "start", args: [], env: {} });
                }
                const daemon = kind.kind === "daemon" ? d : null;
                const before = daemon ? mqttMessages(daemon) : 0;
                if (daemon && /forecastd\/forecasts\//.test(block.text)) {
                  // a stream's retained forecast is renewed at most every
                  // --forecast-publish-seconds (10): one published while the
                  // examples' readings were still being taken is replaced by then
                  await new Promise((r) => setTimeout(r, 11_000));
                }
                const perStream = /forecastd_(forecast_mse|forecast_skill|interval_coverage)\{/;
                if (daemon && perStream.test(block.output?.text ?? "")) {
                  // the per-stream accuracy lines come from the workers' statistics, sent
                  // every 5 s: one sent before the examples' readings were scored is renewed
                  await new Promise((r) => setTimeout(r, 5_500));
                }
                const r = await runBlock(block, ROOT, daemon);
                checkStatuses(block, r.statuses);
                if (daemon && r.published > 0) {
                  await eventually(
                    () => mqttMessages(daemon) >= before + r.published ? true : undefined,
                    `the daemon to handle the ${r.published} MQTT messages of the example`,
                  );
                }
                if (daemon && /readings|mosquitto_pub/.test(block.text)) {
                  // alerts are stored just after the reading that raised them: let them land
                  let last = await alertsStored(daemon);
                  await eventually(async () => {
                    await new Promise((r) => setTimeout(r, 100));
                    const now = await alertsStored(daemon);
                    const same = now === last;
                    last = now;
                    return same ? true : undefined;
                  }, "the alert count to settle");
                }
                const actual = daemon ? asDocumented(r.stdout, daemon) : r.stdout;
                if (showOutput) console.error(`--- ${file}:${block.line}\n${actual}`);
                if (block.output) {
                  const diff = matchOutput(block.output.lang, block.output.text, actual);
                  assert.equal(
                    diff,
                    null,
                    `the output differs from ${file}:${block.output.line}: ${diff}`,
                  );
                }
              },
            });
            if (!ok) break; // the later examples build on this one
          }
        } finally {
          await (d as DocDaemon | null)?.daemon.stop();
        }
      });
    },
  });
}
