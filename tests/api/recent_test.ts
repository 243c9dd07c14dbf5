/**
 * `GET /v1/streams/{id}/recent`: the readings the service keeps of a stream
 * (every reading it took, up to `recentReadings`), each with the one-step
 * forecast that was made for it, in columns like a forecast's.
 */
import assert from "node:assert/strict";
import { json, startDaemon } from "./_harness.ts";

const T0 = Date.UTC(2025, 5, 2);
const STEP = 300_000;
const temperature = (i: number) => 21 + 2 * Math.sin((2 * Math.PI * i) / 288) + 0.3 * Math.sin(i);

Deno.test("GET /v1/streams/{id}/recent gives the kept readings in columns, each with the forecast made for it", async () => {
  const d = await startDaemon();
  try {
    const feed = async (from: number, to: number) => {
      const readings = [];
      for (let i = from; i < to; i++) {
        readings.push({
          stream: "room",
          ts: T0 + i * STEP,
          values: { temperature: temperature(i) },
        });
      }
      assert.equal((await d.service.ingest(readings, "http")).accepted, to - from);
    };
    await feed(0, 59);
    const made: number[] = [];
    for (let i = 59; i < 63; i++) {
      made.push(d.service.forecast("room", 1).targets.temperature.point[0]);
      await feed(i, i + 1);
    }
    const all = await json(await d.request("GET", "/v1/streams/room/recent"));
    assert.equal(all.status, 200);
    assert.equal(all.body.stream, "room");
    assert.equal(all.body.capacity, 288);
    assert.equal(all.body.timestamps.length, 63, "every reading taken is kept");
    assert.equal(all.body.targets.temperature.point[0], null, "no forecast was made for the first");

    const r = await json(await d.request("GET", `/v1/streams/room/recent?after=${T0 + 58 * STEP}`));
    assert.deepEqual(
      r.body.timestamps,
      [59, 60, 61, 62].map((i) => new Date(T0 + i * STEP).toISOString()),
    );
    assert.deepEqual(r.body.gap, [false, false, false, false]);
    assert.deepEqual(r.body.targets.temperature.value, [59, 60, 61, 62].map(temperature));
    // kept in float32 (src/service/recent_readings.ts): the forecast made, rounded to float32
    assert.deepEqual(r.body.targets.temperature.point, made.map(Math.fround));
    assert.equal(r.body.targets.temperature.lower.length, 4);

    const after = await json(
      await d.request(
        "GET",
        `/v1/streams/room/recent?after=${new Date(T0 + 60 * STEP).toISOString()}`,
      ),
    );
    assert.deepEqual(after.body.targets.temperature.value, [61, 62].map(temperature));
    const last = await json(
      await d.request("GET", `/v1/streams/room/recent?after=${T0 + 59 * STEP}&limit=1`),
    );
    assert.deepEqual(last.body.targets.temperature.value, [temperature(62)]);
  } finally {
    await d.close();
  }
});

Deno.test("GET /v1/streams/{id}/recent marks a reading after a gap, and forgets a deleted stream", async () => {
  const d = await startDaemon();
  try {
    const at = [0, 1, 2, 40]; // 38 periods apart: a gap (maxPeriods 10)
    for (const i of at) {
      await d.service.ingest(
        [{ stream: "room", ts: T0 + i * STEP, values: { temperature: 20 + i } }],
        "http",
      );
    }
    const r = await json(await d.request("GET", "/v1/streams/room/recent"));
    assert.deepEqual(r.body.gap, [false, false, false, true]);
    assert.equal((await d.request("DELETE", "/v1/streams/room")).status, 204);
    await d.service.ingest([{ stream: "room", ts: T0, values: { temperature: 1 } }], "http");
    const again = await json(await d.request("GET", "/v1/streams/room/recent"));
    assert.deepEqual(
      again.body.targets.temperature.value,
      [1],
      "a new stream of that id starts afresh",
    );
  } finally {
    await d.close();
  }
});

Deno.test("GET /v1/streams/{id}/recent of a stream with nothing kept yet has empty columns", async () => {
  const d = await startDaemon();
  try {
    await d.service.put("room", { columns: ["temperature", "humidity"], targets: ["temperature"] });
    assert.deepEqual((await json(await d.request("GET", "/v1/streams/room/recent"))).body, {
      stream: "room",
      capacity: 288,
      timestamps: [],
      gap: [],
      targets: { temperature: { value: [], point: [], lower: [], upper: [] } },
    });
  } finally {
    await d.close();
  }
});

Deno.test("GET /v1/streams/{id}/recent refuses an unknown stream and bad parameters by name", async () => {
  const d = await startDaemon();
  try {
    await d.service.ingest([{ stream: "room", ts: T0, values: { temperature: 1 } }], "http");
    const cases: [string, number, string][] = [
      [
        "/v1/streams/nope/recent",
        404,
        'Cannot list recent readings: stream must exist: "nope" is unknown',
      ],
      [
        "/v1/streams/room/recent?limit=0",
        400,
        "Cannot list recent readings: 'limit' must be an integer from 1 to 1000000: current value is \"0\"",
      ],
      [
        "/v1/streams/room/recent?after=yesterday",
        400,
        "Cannot list recent readings: 'after' must be milliseconds or seconds since 1970 or an " +
        'RFC 3339 time with a zone: current value is "yesterday"',
      ],
      [
        "/v1/streams/room/recent?horizon=3",
        400,
        "Cannot list recent readings: 'horizon' is not a known query parameter: current value is \"3\"",
      ],
      [
        "/v1/streams/r%20m/recent",
        400,
        "Cannot list recent readings: 'id' must be a stream id of 1-128 characters of " +
        'A-Z a-z 0-9 _ . : -, not only dots: current value is "r m"',
      ],
    ];
    for (const [path, status, error] of cases) {
      const res = await json(await d.request("GET", path));
      assert.equal(res.status, status, path);
      assert.deepEqual(res.body, { error }, path);
    }
  } finally {
    await d.close();
  }
});

/** The rows of a CSV answer (CRLF line ends), split at commas: no field here is quoted. */
function csvRows(text: string): string[][] {
  assert.ok(text.endsWith("\r\n"), "the last row ends with CRLF");
  return text.slice(0, -2).split("\r\n").map((line) => line.split(","));
}

Deno.test("GET /v1/streams/{id}/recent.csv, or /recent with Accept: text/csv, has one row per reading and target", async () => {
  const d = await startDaemon();
  try {
    await d.service.put("boiler", {
      columns: ["temperature", "pressure"],
      targets: ["temperature", "pressure"],
    });
    const readings = [];
    for (let i = 0; i < 40; i++) {
      readings.push({
        stream: "boiler",
        ts: T0 + i * STEP,
        values: { temperature: temperature(i), pressure: 1.8 + 0.01 * i },
      });
    }
    assert.equal((await d.service.ingest(readings, "http")).accepted, 40);
    const { body } = await json(await d.request("GET", "/v1/streams/boiler/recent?limit=5"));

    const file = await d.request("GET", "/v1/streams/boiler/recent.csv?limit=5");
    assert.equal(file.status, 200);
    assert.equal(file.headers.get("content-type"), "text/csv; charset=utf-8; header=present");
    assert.equal(
      file.headers.get("content-disposition"),
      'attachment; filename="boiler.recent.csv"',
    );
    const text = await file.text();
    const rows = csvRows(text);
    assert.deepEqual(rows[0], [
      "time",
      "target",
      "value",
      "forecast",
      "lower",
      "upper",
      "residual",
    ]);
    assert.equal(rows.length, 1 + 5 * 2, "a header, then 5 readings of 2 targets");
    const cell = (v: number | null) => (v === null ? "" : String(v));
    let k = 1;
    for (let i = 0; i < 5; i++) {
      for (const t of ["temperature", "pressure"]) {
        const col = body.targets[t];
        const residual = col.point[i] === null ? null : col.value[i] - col.point[i];
        assert.deepEqual(rows[k++], [
          body.timestamps[i],
          t,
          cell(col.value[i]),
          cell(col.point[i]),
          cell(col.lower[i]),
          cell(col.upper[i]),
          cell(residual),
        ], `reading ${i}, ${t}`);
      }
    }
    assert.ok(rows.slice(1).every((r) => r[3] !== "" && r[6] !== ""), "each has a forecast");

    const negotiated = await d.request("GET", "/v1/streams/boiler/recent?limit=5", undefined, {
      accept: "text/csv",
    });
    assert.equal(negotiated.status, 200);
    assert.equal(negotiated.headers.get("content-type"), "text/csv; charset=utf-8; header=present");
    assert.equal(negotiated.headers.get("vary"), "accept");
    assert.equal(await negotiated.text(), text, "the same CSV");
    const jsonAgain = await d.request("GET", "/v1/streams/boiler/recent?limit=5", undefined, {
      accept: "application/json, text/csv;q=0.5",
    });
    assert.equal(jsonAgain.headers.get("content-type"), "application/json");
    assert.deepEqual(await jsonAgain.json(), body);

    const first = csvRows(await (await d.request("GET", "/v1/streams/boiler/recent.csv")).text());
    assert.equal(first.length, 1 + 40 * 2, "every kept reading");
    assert.deepEqual(first[1].slice(3), ["", "", "", ""], "no forecast was made for the first");

    const missing = await json(await d.request("GET", "/v1/streams/nope/recent.csv"));
    assert.deepEqual(missing, {
      status: 404,
      body: { error: 'Cannot list recent readings: stream must exist: "nope" is unknown' },
    });
    const bad = await json(await d.request("GET", "/v1/streams/boiler/recent.csv?limit=x"));
    assert.deepEqual(bad, {
      status: 400,
      body: {
        error: "Cannot export recent readings: 'limit' must be an integer from 1 to 1000000: " +
          'current value is "x"',
      },
    });
  } finally {
    await d.close();
  }
});
