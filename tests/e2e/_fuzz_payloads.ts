/**
 * The generator of the fuzz test (fuzz_test.ts): seeded bad and borderline
 * messages for the three reading sources (HTTP on both routes, the ingest
 * WebSocket, MQTT), with good readings of known streams mixed in.
 *
 * Streams come in three kinds, so the test's expectation is exact:
 *
 * - good streams (`good-<source>`, one per source, column `temperature`):
 *   they get every good reading of their source, in time order, and only
 *   garbage that must be refused (a value that is no finite number, a time
 *   that cannot be read or is at or before the stream's first reading,
 *   other value names, a contradicting stream): so afterwards each has
 *   exactly the good readings;
 * - edge streams (`edge-0` .. `edge-<EDGE_STREAMS - 1>`, column `value`): they
 *   get borderline values that a daemon may take or refuse (1e308, the
 *   largest double, denormals, -0, times up to a day ahead, duplicates, too
 *   many values), and must keep finite forecasts whatever it decided;
 * - everything else: made-up ids (valid ones until `--max-streams` is
 *   reached, then refused), invalid ids, unknown topics.
 *
 * Every message is built from one mulberry32 sequence (src/model/rng.ts),
 * so a seed replays a run.
 */
import { mulberry32, type Rng } from "../../src/model/rng.ts";
import { START, STEP, temperature } from "./_daemon.ts";

/** Where a message goes. */
export type FuzzSource = "http_all" | "http_path" | "ws" | "mqtt";

/** Every source, in the order the test reports them. */
export const SOURCES: readonly FuzzSource[] = ["http_all", "http_path", "ws", "mqtt"];

/** One message to send. */
export interface FuzzMessage {
  /** The generator case that made it (for failure messages). */
  kind: string;
  /** http_path: the request path; mqtt: the topic; otherwise "". */
  target: string;
  /** The body, message or payload. */
  body: string | Uint8Array<ArrayBuffer>;
  /** The content-type of an HTTP body. Default application/json. */
  contentType?: string;
  /** The good readings it carries (0 for garbage). */
  good: number;
  /** mqtt: QoS 0 or 1. */
  qos?: 0 | 1;
}

/** What the generator made for one source. */
export interface SourcePlan {
  /** The good stream of this source. */
  goodStream: string;
  /** Creates the good stream (its first good reading) and the edge streams this source owns. */
  setup: FuzzMessage[];
  /** Garbage and good readings, in send order. */
  messages: FuzzMessage[];
  /** Good readings in setup and messages. */
  goodReadings: number;
  /** The time of the last good reading, ms. */
  lastGoodTs: number;
}

/** Options of generateFuzz. */
export interface FuzzOptions {
  seed: number;
  /** Garbage messages in all, spread over the sources. */
  count: number;
  /** The time the daemon takes as now (for times relative to it), ms. */
  now: number;
  /** A good reading comes after this many garbage messages of a source on average. Default 6. */
  goodEvery?: number;
  /** The body limit of the daemon, bytes. Default 1 MiB. */
  maxBodyBytes?: number;
}

/** Edge streams: 2 per source. */
export const EDGE_STREAMS = 8;

/** The value name of the good streams. */
export const GOOD_COLUMN = "temperature";

/** The good stream of a source. */
export function goodStream(source: FuzzSource): string {
  return `good-${source.replace("_", "-")}`;
}

/** The topic patterns of the daemon (the default `mqttTopics`). */
const VALUE_TOPIC = (stream: string, value: string) => `sensors/${stream}/${value}`;
const STREAM_TOPIC = (stream: string) => `sensors/${stream}`;

/** Values a daemon may take or refuse: for edge streams only. */
const BORDERLINE_VALUES: readonly number[] = [
  1e308,
  -1e308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  -0,
  0,
  1e200,
  -1e200,
  1e16,
  1e15,
  -1e15,
  2 ** 53 + 2,
  -(2 ** 53),
  1e-300,
  Number.EPSILON,
  123456789.123456789,
];

/** JSON texts of values that are no finite number: refused wherever they go. */
const BAD_VALUES: readonly string[] = [
  '"NaN"',
  '"Infinity"',
  '"-Infinity"',
  "null",
  "true",
  "false",
  "{}",
  "[]",
  "[1]",
  '""',
  '" "',
  '"0x10"',
  '"1e309"',
  "1e309",
  "-1e309",
  '"21,5"',
  '"21.5.1"',
  '"½"',
  '{"value": 1}',
  '"\\u0000"',
];

/** JSON texts of times that are refused whatever the stream: unreadable, zoneless, too old or ahead. */
function badTimes(now: number): string[] {
  return [
    '"yesterday"',
    '"2025-06-01T11:00:00"',
    '"2025-06-01"',
    '"2025-13-01T00:00:00Z"',
    "0",
    "-1",
    "1",
    "946684799999",
    "946684799",
    String(now + 2 * 86_400_000),
    String(Math.floor((now + 3 * 86_400_000) / 1000)),
    "1e20",
    "8.64e15",
    "8.64e16",
    "99999999999",
    '"2999-01-01T00:00:00Z"',
    '"1970-01-01T00:00:00Z"',
    "true",
    "{}",
    "[]",
    '"NaN"',
    "1e309",
    '""',
  ];
}

/** Stream ids that are not ids: refused wherever they are given. */
const BAD_IDS: readonly string[] = [
  "",
  " ",
  "a b",
  "a/b",
  "+",
  "#",
  "$SYS",
  "küche",
  "a".repeat(129),
  "tab\there",
  "new\nline",
  "nul\u0000",
  "emoji-\u{1F525}",
  "semi;colon",
  'quote"d',
  "back\\slash",
  "%2F",
  "?q=1",
];

/** Ids that are valid but odd: they create streams until maxStreams is reached. */
const ODD_IDS: readonly string[] = [
  "a".repeat(128),
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "...",
  "-",
  "_",
  ":",
  "0",
  "1e308",
  "NaN",
  "Infinity",
  "urn:dev:mac:0024befffe804ff1",
  "A.B:C-D_E",
];

/** Value names that are valid but odd (and `__proto__`, which is refused). */
const ODD_NAMES: readonly string[] = [
  "__proto__",
  "constructor",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "stream",
  "ts",
  "values",
  "value",
  "bn",
  "n",
  "v",
  "x".repeat(128),
  "x".repeat(129),
  "",
  "a b",
  "a/b",
];

/**
 * `s` with U+0000, `+` and `#` made `x`: a topic a well-behaved client may
 * publish (the broker closes the connection of one that sends U+0000).
 */
function topicSafe(s: string): string {
  return s.replaceAll("\u0000", "x").replaceAll("+", "x").replaceAll("#", "x");
}

/** A seeded picker over the generator's tables. */
class Picker {
  constructor(readonly rng: Rng) {}
  int(n: number): number {
    return Math.floor(this.rng() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.rng() < p;
  }
}

/** State of one source while its messages are made. */
interface SourceState {
  source: FuzzSource;
  good: string;
  /** Index of the next good reading (its time is START + i * STEP). */
  next: number;
  edges: string[];
  /** Next valid made-up id. */
  odd: number;
}

/** One reading as an object of the JSON forms, with `stream` when the source needs it. */
function readingObject(
  src: FuzzSource,
  stream: string,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  return src === "http_all" || src === "ws" ? { stream, ...fields } : fields;
}

/**
 * A message of `src` to `stream` with the payload `body` (a JSON text): the
 * route or topic says the stream where the source has one.
 * `form` "value": the topic names the value (MQTT); "named": the payload does.
 */
function to(
  src: FuzzSource,
  stream: string,
  kind: string,
  body: string | Uint8Array<ArrayBuffer>,
  opts: { value?: string; good?: number; contentType?: string; qos?: 0 | 1 } = {},
): FuzzMessage {
  let target = "";
  if (src === "http_path") target = `/v1/streams/${encodeURIComponent(stream)}/readings`;
  if (src === "mqtt") {
    target = opts.value === undefined ? STREAM_TOPIC(stream) : VALUE_TOPIC(stream, opts.value);
  }
  return {
    kind,
    target,
    body,
    good: opts.good ?? 0,
    contentType: opts.contentType,
    qos: opts.qos,
  };
}

/**
 * A message with a raw JSON fragment for one field of a reading of `stream`:
 * `{"stream": ..., "<field>": <raw>, ...rest}` in the form the source takes.
 */
function rawReading(
  src: FuzzSource,
  stream: string,
  column: string,
  value: string,
  ts: string | null,
): { body: string; value?: string } {
  const tsPart = ts === null ? "" : `, "ts": ${ts}`;
  const streamPart = src === "http_all" || src === "ws"
    ? `"stream": ${JSON.stringify(stream)}, `
    : "";
  if (src === "mqtt") {
    // the value topic: {"value": ..., "ts": ...}
    return { body: `{"value": ${value}${tsPart}}`, value: column };
  }
  return { body: `{${streamPart}${JSON.stringify(column)}: ${value}${tsPart}}` };
}

/** The good reading `i` of a source's good stream, in one of the forms the source takes. */
function goodReading(p: Picker, src: FuzzSource, s: SourceState, count: number): FuzzMessage {
  const items: Record<string, unknown>[] = [];
  const first = s.next;
  for (let k = 0; k < count; k++) {
    const i = s.next++;
    const ms = START + i * STEP;
    const v = temperature(i);
    const form = p.int(4);
    const ts = form === 0
      ? ms
      : form === 1
      ? ms / 1000
      : form === 2
      ? new Date(ms).toISOString()
      : ms;
    if (src === "mqtt") items.push({ value: v, ts });
    else if (form === 3) {
      items.push(readingObject(src, s.good, { ts, values: { [GOOD_COLUMN]: v } }));
    } else items.push(readingObject(src, s.good, { ts, [GOOD_COLUMN]: v }));
  }
  const kind = `good ${first}..${s.next - 1}`;
  // a SenML pack now and then (absolute base time in seconds)
  if (src !== "mqtt" && count === 1 && p.chance(0.2)) {
    const i = first;
    const rec: Record<string, unknown> = {
      bt: (START + i * STEP) / 1000,
      n: GOOD_COLUMN,
      v: temperature(i),
      u: "Cel",
    };
    if (src !== "http_path") rec.bn = `${s.good}/`;
    return to(src, s.good, `${kind} (SenML)`, JSON.stringify([rec]), { good: 1 });
  }
  const body = JSON.stringify(items.length === 1 && p.chance(0.5) ? items[0] : items);
  return to(src, s.good, kind, body, { value: GOOD_COLUMN, good: count, qos: 1 });
}

/** Garbage for a good stream: every reading of it must be refused. */
function refusedForGood(p: Picker, src: FuzzSource, s: SourceState, now: number): FuzzMessage {
  const lastTs = START + (s.next - 1) * STEP;
  const okTs = String(lastTs + STEP * 1000); // a time after the last one (the refusal is elsewhere)
  switch (p.int(7)) {
    case 0: {
      const bad = p.pick(BAD_VALUES);
      const r = rawReading(src, s.good, GOOD_COLUMN, bad, okTs);
      return to(src, s.good, `good stream, value ${bad}`, r.body, { value: r.value });
    }
    case 1: {
      const t = p.pick(badTimes(now));
      const r = rawReading(src, s.good, GOOD_COLUMN, "21.5", t);
      return to(src, s.good, `good stream, ts ${t}`, r.body, { value: r.value });
    }
    case 2: {
      // at or before the first good reading: out of order (or a duplicate)
      const t = String(START - p.int(3) * STEP);
      const r = rawReading(src, s.good, GOOD_COLUMN, "21.5", t);
      return to(src, s.good, `good stream, ts ${t} (old)`, r.body, { value: r.value });
    }
    case 3: {
      // other values: missing_value
      const name = p.pick(["humidity", "Temperature", "temp", "value"]);
      const r = rawReading(src, s.good, name, "40", okTs);
      return to(src, s.good, `good stream, value name ${name}`, r.body, { value: r.value });
    }
    case 4: {
      // its value and one more: missing_value (or bad_shape)
      const extra = p.pick(ODD_NAMES);
      const body = JSON.stringify(
        readingObject(src, s.good, { ts: Number(okTs), [GOOD_COLUMN]: 21, [extra]: 1 }),
      );
      return to(src, s.good, `good stream, extra value ${JSON.stringify(extra)}`, body);
    }
    case 5: {
      // a batch whose last reading cannot be read: refused whole
      const items = [
        readingObject(src, s.good, { ts: Number(okTs), [GOOD_COLUMN]: 21 }),
        readingObject(src, s.good, { ts: Number(okTs) + STEP, [GOOD_COLUMN]: "warm" }),
      ];
      return to(src, s.good, "good stream, batch with a bad reading", JSON.stringify(items), {
        value: GOOD_COLUMN,
      });
    }
    default: {
      // a stream field that contradicts the route or topic
      if (src === "http_path" || src === "mqtt") {
        const body = JSON.stringify({ stream: "someone-else", ts: Number(okTs), value: 21 });
        return to(src, s.good, "good stream, contradicting stream field", body, {
          value: GOOD_COLUMN,
        });
      }
      // a SenML pack with a must-understand field
      const pack = [{ bn: `${s.good}/`, bt: Number(okTs) / 1000, n: GOOD_COLUMN, v: 21, x_: 1 }];
      return to(src, s.good, "good stream, SenML must-understand field", JSON.stringify(pack));
    }
  }
}

/** A borderline message for an edge stream: taken or refused, never a crash or a poisoned stream. */
function borderline(p: Picker, src: FuzzSource, s: SourceState, now: number): FuzzMessage {
  const stream = p.pick(s.edges);
  const v = p.pick(BORDERLINE_VALUES);
  const vText = Object.is(v, -0) ? "-0" : String(v);
  switch (p.int(8)) {
    case 0:
    case 1: {
      // a borderline value now (no time: the time of receipt)
      const r = rawReading(src, stream, "value", vText, null);
      return to(src, stream, `edge, value ${vText}`, r.body, { value: r.value });
    }
    case 2: {
      // as a string
      const r = rawReading(src, stream, "value", JSON.stringify(vText), null);
      return to(src, stream, `edge, value "${vText}"`, r.body, { value: r.value });
    }
    case 3: {
      // a time up to a day ahead: taken, and later readings of the stream are then out of order
      const ahead = p.pick([0, 1, 60_000, 3_600_000, 86_400_000 - 60_000]);
      const r = rawReading(src, stream, "value", "21", String(now + ahead));
      return to(src, stream, `edge, ts now+${ahead}`, r.body, { value: r.value });
    }
    case 4: {
      // a batch of borderline values a second apart, maybe repeated (duplicates)
      const n = 1 + p.int(5);
      const t0 = now - 3_600_000 + p.int(1000) * 1000;
      const items = [];
      for (let k = 0; k < n; k++) {
        const val = p.pick(BORDERLINE_VALUES);
        const ts = t0 + (p.chance(0.3) ? 0 : k * 1000);
        items.push(
          src === "mqtt" ? { value: val, ts } : readingObject(src, stream, { value: val, ts }),
        );
      }
      return to(src, stream, `edge, batch of ${n}`, JSON.stringify(items), { value: "value" });
    }
    case 5: {
      // many values in one reading of a new stream: a limit, or a big model
      // (two ids in all: a daemon without a limit builds a model of n² numbers per horizon)
      const n = p.pick([65, 100]);
      const values: Record<string, number> = {};
      for (let k = 0; k < n; k++) values[`v${k}`] = k;
      const id = `wide-${n}`;
      const body = JSON.stringify(readingObject(src, id, { values }));
      return to(src, id, `new stream with ${n} values`, body);
    }
    case 6: {
      // SenML with bases that add up to a borderline value or clash
      const packs: unknown[][] = [
        [{ bn: `${stream}/`, bv: 1e308, v: 1e308 }],
        [{ bn: `${stream}/`, bv: v, v: -v }],
        [{ bn: `${stream}/`, bt: 1e10, t: -1e10, v: 1 }],
        [{ bn: `${stream}/`, bt: 2 ** 28, v: 1 }],
        [{ bn: `${stream}/`, bt: -(2 ** 28), v: 1 }],
        [{ bn: `${stream}/`, v: 1 }, { bn: "other-device/", v: 2 }],
        [{ bn: `${stream}/`, n: "value", v: 1 }, { n: "value", v: 2 }],
        [{ bn: `${stream}/`, bver: 11, v: 1 }],
        [{ bn: `${stream}/`, bver: 10, v: 1, vs: "x", vb: true, vd: "AA", s: 5, u: "Cel" }],
        [{ bn: `${stream}/`, vs: "only a string" }],
        [{ bn: `${stream}:`, bu: "Cel", v: v }],
        [{ bn: "", n: stream, v: 1 }],
        [{ n: "value", v: 1 }],
      ];
      const pack = p.pick(packs);
      return to(
        src,
        stream,
        `edge, SenML ${JSON.stringify(pack).slice(0, 80)}`,
        JSON.stringify(pack),
      );
    }
    default: {
      // the same message twice in a row is made by the caller; here: a duplicate time
      const t = String(now - 60_000);
      const r = rawReading(src, stream, "value", "1", t);
      return to(src, stream, `edge, ts ${t} (maybe a duplicate)`, r.body, { value: r.value });
    }
  }
}

/** Malformed, empty, huge, deep or oddly addressed messages. */
function malformed(p: Picker, src: FuzzSource, s: SourceState, opts: Required<FuzzOptions>) {
  const stream = p.pick(s.edges);
  const limit = opts.maxBodyBytes;
  const id = (x: string) => to(src, stream, x, "");
  // the large ones (4, 5, 6, 12) are one in twenty
  const which = p.chance(0.05) ? p.pick([4, 5, 6, 12]) : p.pick([0, 1, 2, 3, 7, 8, 9, 10, 11, 13]);
  switch (which) {
    case 0: {
      const texts = [
        "",
        " ",
        "\n",
        "{",
        "[",
        "}",
        "[1,2",
        '{"stream": "edge-0", "value": }',
        '{"value": 1,}',
        "[,]",
        "{'value': 1}",
        "value=1",
        "NaN",
        "Infinity",
        "-Infinity",
        "undefined",
        "0x10",
        "1_000",
        "\ufeff21.5",
        "21.5 22.5",
        '"21.5"',
        "null",
        "true",
        "[]",
        "{}",
        "[[]]",
        "[{}]",
        '{"readings": []}',
        '{"readings": {}}',
        "\u0000",
        '{"value": 1}\u0000',
      ];
      const t = p.pick(texts);
      return { ...id(`text ${JSON.stringify(t).slice(0, 40)}`), body: t };
    }
    case 1: {
      // bytes that are not UTF-8
      const bytes = new Uint8Array(1 + p.int(64));
      for (let k = 0; k < bytes.length; k++) bytes[k] = 0x80 + p.int(128);
      return { ...id(`${bytes.length} bytes, not UTF-8`), body: bytes };
    }
    case 2: {
      // deep nesting
      const depth = p.pick([100, 1000, 10_000, 50_000]);
      const arr = p.chance(0.5);
      const body = arr
        ? "[".repeat(depth) + "1" + "]".repeat(depth)
        : '{"value":'.repeat(depth) + "1" + "}".repeat(depth);
      return { ...id(`${arr ? "array" : "object"} nested ${depth} deep`), body };
    }
    case 3: {
      // deep nesting inside a value
      const depth = p.pick([100, 5000]);
      const r = rawReading(src, stream, "value", "[".repeat(depth) + "]".repeat(depth), null);
      return to(src, stream, `value nested ${depth} deep`, r.body, { value: r.value });
    }
    case 4: {
      // just over the body limit (MQTT: over the broker's payload limit)
      const body = `{"value": 1, "pad": "${"x".repeat(limit)}"}`;
      return { ...id(`${body.length} bytes (over the limit)`), body };
    }
    case 5: {
      // just under it: a number padded with blanks
      const body = " ".repeat(limit - 16) + "21.5";
      const r = to(src, stream, `${body.length} bytes of blanks and a number`, body, {
        value: "value",
      });
      return r;
    }
    case 6: {
      // too many readings in one batch (10,001), each small
      const item = src === "http_all" || src === "ws" ? `{"stream":"${stream}","value":1}` : "1";
      const body = `[${Array(10_001).fill(item).join(",")}]`;
      return to(src, stream, "a batch of 10,001", body, { value: "value" });
    }
    case 7: {
      // an invalid stream id
      const bad = p.pick(BAD_IDS);
      if (src === "mqtt") {
        // MQTT cannot carry U+0000 or wildcards in a topic of a well-behaved client
        const safe = topicSafe(bad);
        return {
          kind: `topic with stream ${JSON.stringify(safe)}`,
          target: STREAM_TOPIC(safe),
          body: '{"value": 1}',
          good: 0,
        };
      }
      if (src === "http_path") {
        return {
          kind: `path with stream ${JSON.stringify(bad)}`,
          target: `/v1/streams/${encodeURIComponent(bad)}/readings`,
          body: '{"value": 1}',
          good: 0,
        };
      }
      return {
        kind: `stream ${JSON.stringify(bad)}`,
        target: "",
        body: JSON.stringify({ stream: bad, value: 1 }),
        good: 0,
      };
    }
    case 8: {
      // a valid but odd id, or a fresh one: new streams until maxStreams, then refused
      const odd = p.chance(0.3) ? p.pick(ODD_IDS) : `odd-${s.source}-${s.odd++}`;
      const r = rawReading(src, odd, "value", String(p.int(100)), null);
      return to(src, odd, `new stream ${JSON.stringify(odd.slice(0, 40))}`, r.body, {
        value: r.value,
      });
    }
    case 9: {
      // an odd value name on an edge stream (other values: refused by the stream)
      const name = p.pick(ODD_NAMES);
      if (src === "mqtt") {
        const topicName = topicSafe(name);
        return {
          kind: `topic with value ${JSON.stringify(topicName.slice(0, 40))}`,
          target: VALUE_TOPIC(stream, topicName),
          body: "1",
          good: 0,
        };
      }
      const body = `{${src === "http_path" ? "" : `"stream": "${stream}", `}${
        JSON.stringify(name)
      }: 1}`;
      return to(src, stream, `value name ${JSON.stringify(name.slice(0, 40))}`, body);
    }
    case 10: {
      // unknown fields
      const bodies = [
        { value: 1, unit: "C" },
        { values: { value: 1 }, extra: true },
        { readings: [{ value: 1 }], more: 1 },
        { readings: [{ stream, value: 1 }], next: null },
        { value: 1, ts: null, stream: null },
      ];
      const b = p.pick(bodies);
      return to(src, stream, `unknown field ${JSON.stringify(b).slice(0, 60)}`, JSON.stringify(b), {
        value: "value",
      });
    }
    case 11: {
      if (src === "mqtt") {
        // topics no pattern matches, or under the prefix only forecastd publishes to
        const topics = [
          "home/kitchen",
          "sensors",
          "sensors/",
          "sensors//value",
          `sensors/${stream}/value/extra`,
          "forecastd/alerts/edge-0",
          "forecastd/x",
          `$SYS/${stream}`,
          "/sensors/x",
          `sensors/${"a".repeat(2000)}`,
        ];
        const t = p.pick(topics);
        return { kind: `topic ${t.slice(0, 60)}`, target: t, body: "1", good: 0 };
      }
      if (src === "http_path") {
        const paths = [
          "/v1/streams//readings",
          "/v1/streams/../readings",
          "/v1/streams/%2e%2e/readings",
          `/v1/streams/${stream}/readings/extra`,
          `/v1/streams/${stream}/readings?x=${"y".repeat(5000)}`,
          "/v1/readings/extra",
        ];
        const t = p.pick(paths);
        return { kind: `path ${t.slice(0, 60)}`, target: t, body: "1", good: 0 };
      }
      // a content type that is not JSON
      const types = ["text/plain", "application/x-www-form-urlencoded", "", "application/xml"];
      const ct = p.pick(types);
      return {
        ...to(
          src,
          stream,
          `content-type ${JSON.stringify(ct)}`,
          JSON.stringify({ stream, value: 1 }),
        ),
        contentType: ct,
      };
    }
    case 12: {
      // a large valid batch of a made-up stream's readings in the past (a few per run)
      const n = 200 + p.int(300);
      const base = opts.now - 10 * 86_400_000;
      const items = [];
      for (let k = 0; k < n; k++) {
        const ts = base + k * 60_000;
        items.push(
          src === "mqtt"
            ? { value: k % 17, ts }
            : readingObject(src, stream, { value: k % 17, ts }),
        );
      }
      return to(src, stream, `edge, a batch of ${n} old readings`, JSON.stringify(items), {
        value: "value",
      });
    }
    default: {
      // values of every JSON type in one batch
      const items = BAD_VALUES.map((b) =>
        JSON.parse(`{"v": ${b === "1e309" || b === "-1e309" ? "null" : b}}`).v
      );
      const body = JSON.stringify(items.map((value) => readingObject(src, stream, { value })));
      return to(src, stream, "a batch of values of every type", body, { value: "value" });
    }
  }
}

/** The messages of one source. */
function sourcePlan(p: Picker, src: FuzzSource, count: number, opts: Required<FuzzOptions>) {
  const index = SOURCES.indexOf(src);
  const s: SourceState = {
    source: src,
    good: goodStream(src),
    next: 0,
    edges: [`edge-${2 * index}`, `edge-${2 * index + 1}`],
    odd: 0,
  };
  const setup: FuzzMessage[] = [goodReading(p, src, s, 1)];
  // the edge streams start with a day of ordinary readings, ten minutes apart, ending an hour ago
  for (const edge of s.edges) {
    const items = [];
    for (let k = 0; k < 144; k++) {
      const ts = opts.now - 2 * 3_600_000 - (143 - k) * 600_000;
      const value = temperature(k);
      items.push(src === "mqtt" ? { value, ts } : readingObject(src, edge, { value, ts }));
    }
    setup.push(to(src, edge, "edge history", JSON.stringify(items), { value: "value", qos: 1 }));
  }
  const messages: FuzzMessage[] = [];
  let garbage = 0;
  while (garbage < count) {
    if (p.chance(1 / opts.goodEvery)) {
      messages.push(goodReading(p, src, s, p.chance(0.2) ? 2 + p.int(3) : 1));
      continue;
    }
    const r = p.rng();
    let m: FuzzMessage;
    if (r < 0.3) m = refusedForGood(p, src, s, opts.now);
    else if (r < 0.6) m = borderline(p, src, s, opts.now);
    else m = malformed(p, src, s, opts);
    if (src === "mqtt") m = { ...m, qos: m.qos ?? (p.chance(0.5) ? 1 : 0) };
    messages.push(m);
    garbage++;
    // the same message again: a duplicate
    if (garbage < count && p.chance(0.05)) {
      messages.push({ ...m, kind: `${m.kind} (again)` });
      garbage++;
    }
  }
  const goodReadings = s.next;
  return {
    goodStream: s.good,
    setup,
    messages,
    goodReadings,
    lastGoodTs: START + (s.next - 1) * STEP,
  };
}

/** The whole run: `count` garbage messages spread over the sources, good readings among them. */
export function generateFuzz(opts: FuzzOptions): Record<FuzzSource, SourcePlan> {
  const full: Required<FuzzOptions> = { goodEvery: 6, maxBodyBytes: 1024 * 1024, ...opts };
  const p = new Picker(mulberry32(opts.seed));
  const per = Math.ceil(opts.count / SOURCES.length);
  const out = {} as Record<FuzzSource, SourcePlan>;
  for (const src of SOURCES) out[src] = sourcePlan(p, src, per, full);
  return out;
}
