/**
 * The ingest conformance table: the same logical cases, each written as an
 * MQTT message (topic + payload, for the default topic patterns), a WebSocket
 * message (also the body of `POST /v1/readings`) and a body of
 * `POST /v1/streams/{stream}/readings`, with the one outcome every source
 * must give.
 *
 * `tests/ingest/parse_test.ts` runs it against the parsers; the end-to-end
 * tests of the MQTT, WebSocket and HTTP sources run it against the daemon:
 * send `inputs(c)`, collect what the engine received (or the rejection), and
 * call `assertOutcome`. Every case uses its own stream ids, so cases can share
 * one daemon. Explicit times are in 2025, so they are valid for any receive
 * time from 2025-01-01 on.
 */
import assert from "node:assert/strict";
import type { Reading } from "../../src/domain/reading.ts";
import type { RejectReason } from "../../src/ingest/ingest_error.ts";
import { DEFAULT_CONFIG } from "../../src/config/mod.ts";

/** The topic patterns the MQTT inputs are written for (the default configuration). */
export const CASE_TOPIC_PATTERNS: readonly string[] = DEFAULT_CONFIG.mqttTopics;

/** The receive time the parser tests pass in: 2025-06-01T12:00:00Z. */
export const RECEIVED_AT = Date.UTC(2025, 5, 1, 12);

/** The explicit time most cases carry: 2025-06-01T11:00:00Z. */
export const T0 = Date.UTC(2025, 5, 1, 11);
const T0_ISO = new Date(T0).toISOString();
const T0_S = T0 / 1000;

/** The sources a case can be written for. */
export type Source = "mqtt" | "ws" | "http";

/** A time in an expected reading: absolute ms, or relative to the receive time. */
export type ExpectedTs = number | { afterReceipt: number };

/** A reading as a case expects it. */
export interface ExpectedReading {
  stream: string;
  ts: ExpectedTs;
  values: Record<string, number>;
}

/** What every source must do with a case. */
export type Expected =
  | { readings: ExpectedReading[] }
  | {
    reason: RejectReason;
    /** Fragments the message must contain, whichever source (field paths differ by source). */
    includes: string[];
  };

/** One logical case, in each form it can take. */
export interface IngestCase {
  /** Reads as a spec: "a named-values object gives one reading with each value". */
  name: string;
  mqtt?: { topic: string; payload: string };
  /** A WebSocket text message, also a `POST /v1/readings` body. */
  ws?: string;
  /** A `POST /v1/streams/{stream}/readings` request. */
  http?: { stream: string; body: string };
  expect: Expected;
}

/** What a source did with an input, as the conformance check reads it. */
export type Outcome =
  | { ok: true; readings: Reading[] }
  | { ok: false; reason: string; message: string };

const NOW = { afterReceipt: 0 };
const j = JSON.stringify;

export const INGEST_CASES: readonly IngestCase[] = [
  // --- accepted
  {
    name: "a bare number on a value topic is one value named by the topic, at the receive time",
    mqtt: { topic: "sensors/c01/temperature", payload: "21.5" },
    ws: j({ stream: "c01", values: { temperature: 21.5 } }),
    http: { stream: "c01", body: j({ values: { temperature: 21.5 } }) },
    expect: { readings: [{ stream: "c01", ts: NOW, values: { temperature: 21.5 } }] },
  },
  {
    name: "a value with an RFC 3339 ts keeps that time",
    mqtt: { topic: "sensors/c02/temperature", payload: j({ value: 21.5, ts: T0_ISO }) },
    ws: j({ stream: "c02", ts: T0_ISO, values: { temperature: 21.5 } }),
    http: { stream: "c02", body: j({ ts: T0_ISO, values: { temperature: 21.5 } }) },
    expect: { readings: [{ stream: "c02", ts: T0, values: { temperature: 21.5 } }] },
  },
  {
    name: "a single value that nothing names is called 'value'",
    mqtt: { topic: "sensors/c03", payload: j({ value: -3, ts: T0 }) },
    ws: j({ stream: "c03", value: -3, ts: T0 }),
    http: { stream: "c03", body: j({ value: -3, ts: T0 }) },
    expect: { readings: [{ stream: "c03", ts: T0, values: { value: -3 } }] },
  },
  {
    name: "a named-values object gives one reading with each value, ts in seconds",
    mqtt: { topic: "sensors/c04", payload: j({ temperature: 21.5, humidity: 40, ts: T0_S }) },
    ws: j({ stream: "c04", temperature: 21.5, humidity: 40, ts: T0_S }),
    http: { stream: "c04", body: j({ temperature: 21.5, humidity: 40, ts: T0_S }) },
    expect: {
      readings: [{ stream: "c04", ts: T0, values: { temperature: 21.5, humidity: 40 } }],
    },
  },
  {
    name: "a decimal string is read as its number",
    mqtt: { topic: "sensors/c05/temperature", payload: j({ value: "21.5", ts: T0 }) },
    ws: j({ stream: "c05", ts: T0, values: { temperature: "21.5" } }),
    http: { stream: "c05", body: j({ ts: T0, values: { temperature: "21.5" } }) },
    expect: { readings: [{ stream: "c05", ts: T0, values: { temperature: 21.5 } }] },
  },
  {
    name: "a batch array gives its readings in order",
    mqtt: {
      topic: "sensors/c06",
      payload: j([{ ts: T0, values: { t: 1 } }, { ts: T0 + 60_000, values: { t: 2 } }]),
    },
    ws: j([
      { stream: "c06", ts: T0, values: { t: 1 } },
      { stream: "c06", ts: T0 + 60_000, values: { t: 2 } },
    ]),
    http: {
      stream: "c06",
      body: j([{ ts: T0, values: { t: 1 } }, { ts: T0 + 60_000, values: { t: 2 } }]),
    },
    expect: {
      readings: [
        { stream: "c06", ts: T0, values: { t: 1 } },
        { stream: "c06", ts: T0 + 60_000, values: { t: 2 } },
      ],
    },
  },
  {
    name: "a {readings: [...]} batch is the same as the bare array",
    mqtt: {
      topic: "sensors/c07",
      payload: j({ readings: [{ ts: T0, value: 1 }, { ts: T0 + 1000, value: 2 }] }),
    },
    ws: j({
      readings: [{ stream: "c07", ts: T0, value: 1 }, { stream: "c07", ts: T0 + 1000, value: 2 }],
    }),
    http: {
      stream: "c07",
      body: j({ readings: [{ ts: T0, value: 1 }, { ts: T0 + 1000, value: 2 }] }),
    },
    expect: {
      readings: [
        { stream: "c07", ts: T0, values: { value: 1 } },
        { stream: "c07", ts: T0 + 1000, values: { value: 2 } },
      ],
    },
  },
  {
    name: "a SenML pack groups the records of one time into one reading",
    mqtt: {
      topic: "sensors/c08",
      payload: j([
        { bn: "c08/", bt: T0_S, n: "temperature", u: "Cel", v: 21.5 },
        { n: "humidity", u: "%RH", v: 40 },
        { n: "temperature", u: "Cel", t: 60, v: 21.7 },
      ]),
    },
    ws: j([
      { bn: "c08/", bt: T0_S, n: "temperature", u: "Cel", v: 21.5 },
      { n: "humidity", u: "%RH", v: 40 },
      { n: "temperature", u: "Cel", t: 60, v: 21.7 },
    ]),
    http: {
      stream: "c08",
      body: j([
        { bn: "c08/", bt: T0_S, n: "temperature", u: "Cel", v: 21.5 },
        { n: "humidity", u: "%RH", v: 40 },
        { n: "temperature", u: "Cel", t: 60, v: 21.7 },
      ]),
    },
    expect: {
      readings: [
        { stream: "c08", ts: T0, values: { temperature: 21.5, humidity: 40 } },
        { stream: "c08", ts: T0 + 60_000, values: { temperature: 21.7 } },
      ],
    },
  },
  {
    name: "SenML times below 2^28 are relative to the receive time, and bv is added to v",
    mqtt: {
      topic: "sensors/c09",
      payload: j([{ bn: "urn:dev:c09:", bv: 20, n: "temp", t: -60, v: 1.5 }, { n: "temp", v: 2 }]),
    },
    ws: j([{ bn: "c09:", bv: 20, n: "temp", t: -60, v: 1.5 }, { n: "temp", v: 2 }]),
    http: {
      stream: "c09",
      body: j([{ bn: "c09:", bv: 20, n: "temp", t: -60, v: 1.5 }, { n: "temp", v: 2 }]),
    },
    expect: {
      readings: [
        { stream: "c09", ts: { afterReceipt: -60_000 }, values: { temp: 21.5 } },
        { stream: "c09", ts: NOW, values: { temp: 22 } },
      ],
    },
  },
  {
    name: "SenML string and boolean records are skipped, the numeric ones kept",
    mqtt: {
      topic: "sensors/c10",
      payload: j([
        { bn: "c10/", bt: T0_S, n: "firmware", vs: "1.2.3" },
        { n: "door", vb: true },
        { n: "temperature", v: 19 },
      ]),
    },
    ws: j([
      { bn: "c10/", bt: T0_S, n: "firmware", vs: "1.2.3" },
      { n: "door", vb: true },
      { n: "temperature", v: 19 },
    ]),
    http: {
      stream: "c10",
      body: j([{ bn: "c10/", bt: T0_S, n: "door", vb: false }, { n: "temperature", v: 19 }]),
    },
    expect: { readings: [{ stream: "c10", ts: T0, values: { temperature: 19 } }] },
  },

  // --- rejected
  {
    name: "NaN is rejected as bad_value",
    mqtt: { topic: "sensors/c20/temperature", payload: "NaN" },
    ws: j({ stream: "c20", values: { temperature: "NaN" } }),
    http: { stream: "c20", body: j({ values: { temperature: "NaN" } }) },
    expect: {
      reason: "bad_value",
      includes: ["must be a finite number", 'current value is "NaN"'],
    },
  },
  {
    name: "a number too large for a double (Infinity) is rejected as bad_value",
    mqtt: { topic: "sensors/c21/temperature", payload: "1e999" },
    ws: '{"stream":"c21","value":1e999}',
    http: { stream: "c21", body: '{"value":1e999}' },
    expect: { reason: "bad_value", includes: ["current value is Infinity"] },
  },
  {
    name: "a string that is not a number is rejected as bad_value",
    mqtt: { topic: "sensors/c22/temperature", payload: "warm" },
    ws: j({ stream: "c22", value: "warm" }),
    http: { stream: "c22", body: j({ value: "warm" }) },
    expect: { reason: "bad_value", includes: ['current value is "warm"'] },
  },
  {
    name: "a boolean where a number is due (an unknown field type) is rejected as bad_value",
    mqtt: { topic: "sensors/c23", payload: j({ temperature: 20, heating: true }) },
    ws: j({ stream: "c23", temperature: 20, heating: true }),
    http: { stream: "c23", body: j({ temperature: 20, heating: true }) },
    expect: { reason: "bad_value", includes: ["heating", "current value is true"] },
  },
  {
    name: "an object where a number is due is rejected as bad_value",
    mqtt: { topic: "sensors/c24", payload: j({ values: { temperature: { c: 21 } } }) },
    ws: j({ stream: "c24", values: { temperature: { c: 21 } } }),
    http: { stream: "c24", body: j({ values: { temperature: { c: 21 } } }) },
    expect: { reason: "bad_value", includes: ["temperature", 'current value is {"c":21}'] },
  },
  {
    name: "a timestamp that is no time is rejected as bad_ts",
    mqtt: { topic: "sensors/c25/temperature", payload: j({ value: 1, ts: "yesterday" }) },
    ws: j({ stream: "c25", value: 1, ts: "yesterday" }),
    http: { stream: "c25", body: j({ value: 1, ts: "yesterday" }) },
    expect: { reason: "bad_ts", includes: ["'ts'", 'current value is "yesterday"'] },
  },
  {
    name: "a time without a zone is rejected as bad_ts",
    mqtt: { topic: "sensors/c26/temperature", payload: j({ value: 1, ts: "2025-06-01T11:00:00" }) },
    ws: j({ stream: "c26", value: 1, ts: "2025-06-01T11:00:00" }),
    http: { stream: "c26", body: j({ value: 1, ts: "2025-06-01T11:00:00" }) },
    expect: { reason: "bad_ts", includes: ["with a zone"] },
  },
  {
    name: "a time before 2000 (a clock never set) is rejected as bad_ts",
    mqtt: { topic: "sensors/c27/temperature", payload: j({ value: 1, ts: 5 }) },
    ws: j({ stream: "c27", value: 1, ts: 5 }),
    http: { stream: "c27", body: j({ value: 1, ts: 5 }) },
    expect: { reason: "bad_ts", includes: ["1970-01-01T00:00:05.000Z", "current value is 5"] },
  },
  {
    name: "malformed JSON is rejected as bad_json",
    mqtt: { topic: "sensors/c28", payload: '{"value": ' },
    ws: '{"stream": "c28", "value": ',
    http: { stream: "c28", body: '{"value": ' },
    expect: { reason: "bad_json", includes: ["must be JSON"] },
  },
  {
    name: "an empty payload is rejected as empty",
    mqtt: { topic: "sensors/c29/temperature", payload: "" },
    ws: "",
    http: { stream: "c29", body: "" },
    expect: { reason: "empty", includes: ["must not be empty"] },
  },
  {
    name: "a stream id with a space is rejected as bad_stream",
    mqtt: { topic: "sensors/c 30/temperature", payload: "1" },
    ws: j({ stream: "c 30", value: 1 }),
    http: { stream: "c 30", body: j({ value: 1 }) },
    expect: { reason: "bad_stream", includes: ["stream id", "c 30"] },
  },
  {
    name: "a reading that names no stream is rejected as bad_stream",
    ws: j({ value: 1 }),
    expect: { reason: "bad_stream", includes: ["'stream'", "current value is missing"] },
  },
  {
    name: "a stream in the body that contradicts the topic or path is rejected as bad_stream",
    mqtt: { topic: "sensors/c32", payload: j({ stream: "other", value: 1 }) },
    http: { stream: "c32", body: j({ stream: "other", value: 1 }) },
    expect: { reason: "bad_stream", includes: ["must match the stream named by the", '"other"'] },
  },
  {
    name: "a value name with a space is rejected as bad_name",
    mqtt: { topic: "sensors/c33/temp erature", payload: "1" },
    ws: j({ stream: "c33", values: { "temp erature": 1 } }),
    http: { stream: "c33", body: j({ values: { "temp erature": 1 } }) },
    expect: { reason: "bad_name", includes: ["value name", "temp erature"] },
  },
  {
    name: "an unknown field next to 'value' is rejected as bad_shape",
    mqtt: { topic: "sensors/c34/temperature", payload: j({ value: 1, unit: "Cel" }) },
    ws: j({ stream: "c34", value: 1, unit: "Cel" }),
    http: { stream: "c34", body: j({ value: 1, unit: "Cel" }) },
    expect: { reason: "bad_shape", includes: ["'unit' is not a known field", '"Cel"'] },
  },
  {
    name: "an empty batch is rejected as bad_shape",
    mqtt: { topic: "sensors/c35", payload: "[]" },
    ws: "[]",
    http: { stream: "c35", body: "[]" },
    expect: { reason: "bad_shape", includes: ["at least one reading"] },
  },
  {
    name: "one bad reading rejects its whole batch, naming its index",
    mqtt: { topic: "sensors/c36", payload: j([{ value: 1 }, { value: "x" }]) },
    ws: j([{ stream: "c36", value: 1 }, { stream: "c36", value: "x" }]),
    http: { stream: "c36", body: j([{ value: 1 }, { value: "x" }]) },
    expect: { reason: "bad_value", includes: ["'[1].value'", 'current value is "x"'] },
  },
  {
    name: "a topic that no pattern matches is rejected as unknown_topic",
    mqtt: { topic: "elsewhere/c37/temperature", payload: "1" },
    expect: { reason: "unknown_topic", includes: ['"elsewhere/c37/temperature"'] },
  },
  {
    name: "a SenML field that must be understood (name ending in _) is rejected as bad_shape",
    mqtt: { topic: "sensors/c38", payload: j([{ bn: "c38/", n: "t", v: 1, exp_: 1 }]) },
    ws: j([{ bn: "c38/", n: "t", v: 1, exp_: 1 }]),
    http: { stream: "c38", body: j([{ bn: "c38/", n: "t", v: 1, exp_: 1 }]) },
    expect: { reason: "bad_shape", includes: ["exp_", "must be understood"] },
  },
  {
    name: "a SenML pack with no numeric value is rejected as bad_value",
    mqtt: { topic: "sensors/c39", payload: j([{ bn: "c39/", n: "firmware", vs: "1.2" }]) },
    ws: j([{ bn: "c39/", n: "firmware", vs: "1.2" }]),
    http: { stream: "c39", body: j([{ bn: "c39/", n: "firmware", vs: "1.2" }]) },
    expect: { reason: "bad_value", includes: ["numeric SenML value"] },
  },
  {
    name: "a bare number without a stream is rejected as bad_shape",
    ws: "21.5",
    expect: { reason: "bad_shape", includes: ["'stream'"] },
  },
];

/** The sources a case is written for, with their inputs. */
export function inputs(c: IngestCase): (
  | { source: "mqtt"; topic: string; payload: string }
  | { source: "ws"; message: string }
  | { source: "http"; stream: string; body: string }
)[] {
  const out = [];
  if (c.mqtt) out.push({ source: "mqtt" as const, ...c.mqtt });
  if (c.ws !== undefined) out.push({ source: "ws" as const, message: c.ws });
  if (c.http) out.push({ source: "http" as const, ...c.http });
  return out;
}

/**
 * Checks what `source` did with case `c`. `receivedAt` is the receive time,
 * or the [earliest, latest] it can have been when a test cannot know it exactly.
 */
export function assertOutcome(
  c: IngestCase,
  source: Source,
  actual: Outcome,
  receivedAt: number | readonly [number, number],
): void {
  const where = `${c.name} (${source})`;
  const [from, to] = typeof receivedAt === "number" ? [receivedAt, receivedAt] : receivedAt;
  if ("readings" in c.expect) {
    assert.ok(
      actual.ok,
      `${where}: expected readings, got ${actual.ok ? "" : `${actual.reason}: ${actual.message}`}`,
    );
    const got = actual.readings;
    assert.equal(got.length, c.expect.readings.length, `${where}: number of readings`);
    c.expect.readings.forEach((want, i) => {
      const have = got[i];
      assert.equal(have.stream, want.stream, `${where}: readings[${i}].stream`);
      assert.deepEqual(have.values, want.values, `${where}: readings[${i}].values`);
      if (typeof want.ts === "number") {
        assert.equal(have.ts, want.ts, `${where}: readings[${i}].ts`);
      } else {
        const lo = from + want.ts.afterReceipt, hi = to + want.ts.afterReceipt;
        assert.ok(
          have.ts >= lo && have.ts <= hi,
          `${where}: readings[${i}].ts ${have.ts} should be in [${lo}, ${hi}]`,
        );
      }
    });
  } else {
    assert.ok(!actual.ok, `${where}: expected ${c.expect.reason}, got readings`);
    assert.equal(actual.reason, c.expect.reason, `${where}: reason (${actual.message})`);
    for (const fragment of c.expect.includes) {
      assert.ok(
        actual.message.includes(fragment),
        `${where}: message should include ${JSON.stringify(fragment)}: ${actual.message}`,
      );
    }
    assert.ok(
      actual.message.startsWith("Cannot ingest reading: "),
      `${where}: message starts with the action: ${actual.message}`,
    );
  }
}
