import assert from "node:assert/strict";
import {
  captureLog,
  createLogger,
  formatEntry,
  isLogLevel,
  limitLog,
  LOG_LEVELS,
  type LogLevel,
  print,
} from "../src/log.ts";

const T = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const clock = () => T;

Deno.test("a log line is one JSON object: ts as ISO, level, dotted event, then the fields", () => {
  const { log, lines } = captureLog("debug", clock);
  log.info("mqtt.connected", { url: "mqtt://localhost:1883", attempt: 2 });
  assert.equal(lines.length, 1);
  assert.equal(
    lines[0],
    '{"ts":"2025-01-02T03:04:05.678Z","level":"info","event":"mqtt.connected",' +
      '"url":"mqtt://localhost:1883","attempt":2}',
  );
  assert.ok(!lines[0].includes("\n"));
});

Deno.test("entries below the logger's level are dropped, at and above it written", () => {
  for (const level of LOG_LEVELS) {
    const { log, entries } = captureLog(level, clock);
    log.debug("a.debug");
    log.info("a.info");
    log.warn("a.warn");
    log.error("a.error");
    const rank = LOG_LEVELS.indexOf(level);
    assert.deepEqual(
      entries().map((e) => e.level),
      LOG_LEVELS.slice(rank),
      `level ${level}`,
    );
    for (const l of LOG_LEVELS) assert.equal(log.enabled(l), LOG_LEVELS.indexOf(l) >= rank);
  }
});

Deno.test("createLogger() defaults to level info", () => {
  const lines: string[] = [];
  const log = createLogger({ sink: (l) => lines.push(l) });
  assert.equal(log.level, "info");
  log.debug("x.hidden");
  log.info("x.shown");
  assert.equal(lines.length, 1);
});

Deno.test("createLogger() rejects an unknown level naming it", () => {
  assert.throws(
    () => createLogger({ level: "verbose" as LogLevel }),
    /'level' must be one of debug, info, warn, error: current value is "verbose"/,
  );
});

Deno.test("the sink receives each line with its level", () => {
  const got: [string, LogLevel][] = [];
  const log = createLogger({ level: "debug", clock, sink: (l, lvl) => got.push([l, lvl]) });
  log.warn("disk.low");
  log.log("error", "disk.full");
  assert.deepEqual(got.map(([, l]) => l), ["warn", "error"]);
  assert.equal(JSON.parse(got[1][0]).event, "disk.full");
});

Deno.test("a child logger adds its bound fields to every entry; call fields win", () => {
  const { log, entries } = captureLog("debug", clock);
  const child = log.child({ stream: "kitchen", source: "mqtt" });
  const grandchild = child.child({ source: "http" });
  child.info("ingest.accepted", { n: 3 });
  grandchild.warn("ingest.rejected", { reason: "bad_value" });
  child.info("ingest.accepted", { stream: "hall" });
  log.info("plain");
  const e = entries();
  assert.deepEqual(e[0], {
    ts: "2025-01-02T03:04:05.678Z",
    level: "info",
    event: "ingest.accepted",
    stream: "kitchen",
    source: "mqtt",
    n: 3,
  });
  assert.equal(e[1].source, "http");
  assert.equal(e[1].stream, "kitchen");
  assert.equal(e[2].stream, "hall");
  assert.equal(e[3].stream, undefined);
  assert.equal(child.level, "debug");
});

Deno.test("fields named ts, level or event cannot overwrite the entry's own and are kept as _ts, ...", () => {
  const line = formatEntry(T, "info", "x.y", {}, {
    ts: 1,
    level: "nope",
    event: "other",
    ok: true,
  });
  assert.deepEqual(JSON.parse(line), {
    ts: "2025-01-02T03:04:05.678Z",
    level: "info",
    event: "x.y",
    _ts: 1,
    _level: "nope",
    _event: "other",
    ok: true,
  });
});

Deno.test("errors are written with name, message, stack, cause and own fields", () => {
  const { log, entries } = captureLog("debug", clock);
  const cause = new Error("socket closed");
  const err = Object.assign(new TypeError("send failed", { cause }), { code: "EPIPE" });
  log.error("webhook.failed", { err });
  const e = entries()[0].err as Record<string, unknown>;
  assert.equal(e.name, "TypeError");
  assert.equal(e.message, "send failed");
  assert.equal(e.code, "EPIPE");
  assert.match(String(e.stack), /send failed/);
  assert.equal((e.cause as Record<string, unknown>).message, "socket closed");
});

Deno.test("NaN, Infinity and bigints stay readable instead of becoming null", () => {
  const { log, entries } = captureLog("debug", clock);
  log.warn("model.nan", { loss: NaN, grad: -Infinity, step: 12n, ok: 1.5 });
  const e = entries()[0];
  assert.deepEqual([e.loss, e.grad, e.step, e.ok], ["NaN", "-Infinity", "12", 1.5]);
});

Deno.test("maps and sets are written as objects and arrays", () => {
  const { log, entries } = captureLog("debug", clock);
  log.info("x.y", { m: new Map([["a", 1]]), s: new Set([1, 2]) });
  assert.deepEqual(entries()[0].m, { a: 1 });
  assert.deepEqual(entries()[0].s, [1, 2]);
});

Deno.test("a field that cannot be serialised does not throw; the entry says so", () => {
  const { log, entries } = captureLog("debug", clock);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  log.info("x.cycle", { cyclic });
  const e = entries()[0];
  assert.equal(e.event, "x.cycle");
  assert.match(String(e.log_error), /could not be serialised/);
});

Deno.test("isLogLevel() accepts exactly the four levels", () => {
  for (const l of LOG_LEVELS) assert.ok(isLogLevel(l));
  for (const l of ["DEBUG", "trace", "", 1, null]) assert.ok(!isLogLevel(l));
});

Deno.test("print() writes the plain line to stdout (console.log), not as JSON", () => {
  const original = console.log;
  const got: unknown[][] = [];
  console.log = (...args: unknown[]) => got.push(args);
  try {
    print("forecastd HTTP API on http://127.0.0.1:8080");
  } finally {
    console.log = original;
  }
  assert.deepEqual(got, [["forecastd HTTP API on http://127.0.0.1:8080"]]);
});

Deno.test("the default sink writes JSON lines to stderr (console.error)", () => {
  const original = console.error;
  const got: unknown[][] = [];
  console.error = (...args: unknown[]) => got.push(args);
  try {
    createLogger({ clock }).info("server.started", { port: 8080 });
  } finally {
    console.error = original;
  }
  assert.equal(got.length, 1);
  assert.equal(JSON.parse(String(got[0][0])).port, 8080);
});

Deno.test("the text format writes time, level, event and key=value pairs, quoting what must be", () => {
  const lines: string[] = [];
  const log = createLogger({ format: "text", clock, sink: (l) => lines.push(l) });
  log.child({ source: "mqtt" }).warn("mqtt.rejected", {
    topic: "sensors/kitchen",
    reason: "bad_json",
    message: 'Cannot ingest reading: payload is "x y"',
    n: 3,
    ok: false,
    none: null,
    context: { a: [1, 2] },
    loss: NaN,
  });
  assert.deepEqual(lines, [
    "2025-01-02T03:04:05.678Z WARN  mqtt.rejected source=mqtt topic=sensors/kitchen " +
    'reason=bad_json message="Cannot ingest reading: payload is \\"x y\\"" n=3 ok=false ' +
    'none=null context={"a":[1,2]} loss=NaN',
  ]);
});

Deno.test("the text format writes an error's name and message, and its stack on indented lines", () => {
  const lines: string[] = [];
  const log = createLogger({ format: "text", clock, sink: (l) => lines.push(l) });
  const err = new TypeError("send failed");
  log.error("webhook.failed", { url: "https://h.example/a", err });
  const [first, ...stack] = lines[0].split("\n");
  assert.equal(
    first,
    '2025-01-02T03:04:05.678Z ERROR webhook.failed url=https://h.example/a err="TypeError: send failed"',
  );
  assert.ok(stack.length > 0 && stack.every((l) => /^ {4}at /.test(l)), lines[0]);
});

Deno.test("createLogger() rejects an unknown format naming it", () => {
  assert.throws(
    () => createLogger({ format: "xml" as "json" }),
    /'format' must be one of json, text: current value is "xml"/,
  );
});

Deno.test("limitLog() writes a burst of an event per window, then one summary counting the rest by reason", () => {
  let t = 0;
  const { log, entries } = captureLog("info", () => t);
  const limited = limitLog(log, { burst: 2, windowMs: 1000, countBy: "reason", now: () => t });
  for (const reason of ["bad_json", "bad_json", "empty", "bad_json", "empty"]) {
    limited.log("warn", "mqtt.rejected", { reason });
    t += 100;
  }
  limited.log("warn", "mqtt.reading_rejected", { reason: "too_old" }); // an event of its own
  assert.deepEqual(entries().map((e) => [e.event, e.reason]), [
    ["mqtt.rejected", "bad_json"],
    ["mqtt.rejected", "bad_json"],
    ["mqtt.reading_rejected", "too_old"],
  ]);
  t = 1000; // the window of mqtt.rejected (from 0) is over: the next one sums it up first
  limited.log("warn", "mqtt.rejected", { reason: "bad_shape" });
  const e = entries();
  assert.deepEqual(e[3], {
    ts: new Date(1000).toISOString(),
    level: "warn",
    event: "mqtt.rejected_summary",
    total: 5,
    logged: 2,
    suppressed: 3,
    windowMs: 1000,
    since: new Date(0).toISOString(),
    by_reason: { bad_json: 3, empty: 2 },
  });
  assert.equal(e[4].reason, "bad_shape", "a new window writes again");
  limited.close();
  assert.equal(entries().length, 5, "no summary for windows that left nothing out");
});

Deno.test("limitLog() sums up a window when it ends, even if no entry follows, and at close", async () => {
  const { log, entries } = captureLog("info");
  const limited = limitLog(log, { burst: 1, windowMs: 50 });
  limited.log("warn", "x.refused", { reason: "a" });
  limited.log("warn", "x.refused", { reason: "a" });
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(entries().map((e) => [e.event, e.suppressed]), [
    ["x.refused", undefined],
    ["x.refused_summary", 1],
  ]);
  limited.log("warn", "x.refused", {});
  limited.log("warn", "x.refused", {});
  limited.close();
  assert.deepEqual(entries().slice(2).map((e) => [e.event, e.suppressed]), [
    ["x.refused", undefined],
    ["x.refused_summary", 1],
  ]);
});

Deno.test("limitLog() leaves nothing out at the debug level, and writes nothing below the logger's level", () => {
  const debug = captureLog("debug");
  const all = limitLog(debug.log, { burst: 1 });
  for (let i = 0; i < 5; i++) all.log("warn", "mqtt.rejected", { i });
  all.close();
  assert.equal(debug.entries().length, 5);
  const errors = captureLog("error");
  const none = limitLog(errors.log, { burst: 1 });
  for (let i = 0; i < 5; i++) none.log("warn", "mqtt.rejected", { i });
  none.close();
  assert.equal(errors.entries().length, 0);
});
