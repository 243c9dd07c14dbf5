import assert from "node:assert/strict";
import { IngestOutbox } from "../../src/shard/ingest_outbox.ts";
import type { Reading } from "../../src/domain/reading.ts";
import type { IngestResult, Source } from "../../src/ingest/ingest_sink.ts";

const r = (stream: string, ts: number): Reading => ({ stream, ts, values: { v: ts } });

/** A fake worker: records each batch; answers when told, refusing readings whose value is negative. */
function fakeWorker() {
  const batches: {
    readings: readonly Reading[];
    source: Source;
    piece: boolean;
    answer: () => void;
  }[] = [];
  const send = (readings: readonly Reading[], source: Source, piece = false) =>
    new Promise<IngestResult>((resolve) => {
      batches.push({
        readings,
        source,
        piece,
        answer: () => {
          const rejected = readings.flatMap((x, index) =>
            x.values.v < 0
              ? [{ index, stream: x.stream, reason: "not_finite", message: "negative" }]
              : []
          );
          resolve({ accepted: readings.length - rejected.length, rejected });
        },
      });
    });
  return { batches, send };
}

const turn = () => new Promise((res) => setTimeout(res, 0));

Deno.test("IngestOutbox sends the parts of one task as one batch and answers each on its own", async () => {
  const w = fakeWorker();
  const outbox = new IngestOutbox(w.send);
  const a = outbox.add([r("a", 1), r("b", -2)], [0, 1], "mqtt");
  const b = outbox.add([r("x", 0), r("c", 3)], [1], "mqtt");
  const c = outbox.add([r("d", -4)], [0], "mqtt");
  assert.equal(outbox.length, 4);
  await turn();
  assert.equal(w.batches.length, 1, "one message for the three parts");
  assert.deepEqual(w.batches[0].readings.map((x) => x.stream), ["a", "b", "c", "d"]);
  w.batches[0].answer();
  assert.deepEqual(await a, {
    accepted: 1,
    rejected: [{ index: 1, stream: "b", reason: "not_finite", message: "negative" }],
  });
  assert.deepEqual(await b, { accepted: 1, rejected: [] });
  assert.deepEqual((await c).rejected.map((x) => [x.index, x.stream]), [[0, "d"]]);
  await turn();
  assert.equal(outbox.length, 0);
});

Deno.test("IngestOutbox keeps at most `inflight` batches in flight; the parts meanwhile gather", async () => {
  const w = fakeWorker();
  const outbox = new IngestOutbox(w.send, { inflight: 2 });
  const done: Promise<IngestResult>[] = [];
  for (let t = 0; t < 3; t++) {
    done.push(outbox.add([r("s", t)], [0], "mqtt"));
    await turn();
  }
  assert.equal(w.batches.length, 2, "the third waits");
  done.push(outbox.add([r("s", 3)], [0], "mqtt"));
  await turn();
  assert.equal(w.batches.length, 2);
  w.batches[0].answer();
  await turn();
  assert.equal(w.batches.length, 3);
  assert.deepEqual(w.batches[2].readings.map((x) => x.ts), [2, 3], "gathered, in order");
  // another source starts a batch of its own
  done.push(outbox.add([r("s", 4)], [0], "http"));
  w.batches[1].answer();
  await turn();
  assert.deepEqual(w.batches.map((b) => b.source), ["mqtt", "mqtt", "mqtt", "http"]);
  for (const b of w.batches.slice(2)) b.answer();
  for (const d of done) assert.deepEqual(await d, { accepted: 1, rejected: [] });
});

Deno.test("IngestOutbox sends a part bigger than `piece` in pieces, each once the one before is taken", async () => {
  const w = fakeWorker();
  const outbox = new IngestOutbox(w.send, { piece: 2 });
  const readings = [r("a", 1), r("a", -2), r("a", 3), r("a", 4), r("a", -5)];
  const big = outbox.add(readings, [0, 1, 2, 3, 4], "http");
  assert.equal(outbox.length, 5);
  await turn();
  assert.equal(w.batches.length, 1);
  w.batches[0].answer();
  await turn();
  assert.equal(outbox.length, 3);
  assert.equal(w.batches.length, 2);
  w.batches[1].answer();
  const result = await big;
  assert.deepEqual(w.batches.map((b) => b.readings.length), [2, 3], "the last takes a rest of 1");
  assert.equal(result.accepted, 3);
  assert.deepEqual(result.rejected.map((x) => x.index), [1, 4]);
  assert.equal(outbox.length, 0);
});

Deno.test("IngestOutbox by default sends a big part in pieces of at most 64 readings: a source's part waits behind one", async () => {
  const w = fakeWorker();
  const outbox = new IngestOutbox(w.send);
  assert.equal(outbox.piece, 64);
  const readings = Array.from({ length: 10_000 }, (_, i) => r(`h${i % 4}`, i));
  const big = outbox.add(readings, readings.map((_, i) => i), "http");
  await turn();
  // an MQTT message comes while the worker takes the first piece
  const small = outbox.add([r("q", 0)], [0], "mqtt");
  await turn();
  assert.deepEqual(
    w.batches.map((b) => [b.source, b.readings.length]),
    [["http", 64], ["mqtt", 1]],
    "the worker has one piece of the big part before the message, not more",
  );
  for (let i = 0; i < w.batches.length; i++) {
    w.batches[i].answer();
    await turn();
  }
  assert.equal((await big).accepted, 10_000);
  assert.deepEqual(await small, { accepted: 1, rejected: [] });
  const sizes = w.batches.filter((b) => b.source === "http").map((b) => b.readings.length);
  assert.equal(sizes.length, Math.ceil(10_000 / 64));
  assert.ok(sizes.every((n) => n <= 64), `a piece of ${Math.max(...sizes)} readings`);
});

Deno.test("IngestOutbox gathers small parts up to `batch` readings, pieces of a big one are `piece`", async () => {
  const w = fakeWorker();
  const outbox = new IngestOutbox(w.send, { piece: 4, batch: 10, inflight: 5 });
  const done: Promise<IngestResult>[] = [];
  for (let t = 0; t < 23; t++) done.push(outbox.add([r(`s${t}`, t)], [0], "mqtt"));
  await turn();
  assert.deepEqual(w.batches.map((b) => b.readings.length), [10, 10, 3]);
  const big = outbox.add(Array.from({ length: 9 }, (_, i) => r("b", i)), [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
  ], "http");
  await turn();
  assert.equal(w.batches.at(-1)!.readings.length, 4, "a part of more than `piece` goes in pieces");
  for (let i = 0; i < w.batches.length; i++) {
    w.batches[i].answer();
    await turn();
  }
  // (minPiece is piece, 4: the last piece takes the rest of 1)
  assert.deepEqual(w.batches.slice(3).map((b) => b.readings.length), [4, 5]);
  assert.equal((await big).accepted, 9);
  for (const d of done) assert.deepEqual(await d, { accepted: 1, rejected: [] });
});

Deno.test("IngestOutbox refuses every part of a batch the worker failed", async () => {
  const outbox = new IngestOutbox(() => Promise.reject(new Error("worker died")));
  const a = outbox.add([r("a", 1)], [0], "mqtt");
  const b = outbox.add([r("b", 1)], [0], "mqtt");
  await assert.rejects(a, /worker died/);
  await assert.rejects(b, /worker died/);
  await turn();
  assert.equal(outbox.length, 0);
});

Deno.test("IngestOutbox names a bad option and its value", () => {
  const send = () => Promise.resolve({ accepted: 0, rejected: [] });
  assert.throws(
    () => new IngestOutbox(send, { inflight: 0 }),
    /^RangeError: Cannot create ingest outbox: inflight must be a positive integer: current value is 0$/,
  );
  assert.throws(
    () => new IngestOutbox(send, { piece: 1.5 }),
    /piece must be a positive integer: current value is 1.5$/,
  );
  assert.throws(
    () => new IngestOutbox(send, { piece: 64, batch: 32 }),
    /^RangeError: Cannot create ingest outbox: batch must be at least piece \(64\): current value is 32$/,
  );
  assert.throws(
    () => new IngestOutbox(send, { pieceMs: 0 }),
    /^RangeError: Cannot create ingest outbox: pieceMs must be a positive number: current value is 0$/,
  );
  assert.throws(
    () => new IngestOutbox(send, { piece: 16, minPiece: 32 }),
    /^RangeError: Cannot create ingest outbox: minPiece must be at most piece \(16\): current value is 32$/,
  );
});

Deno.test("IngestOutbox sizes each piece of a big part by the worker's last cost a reading: about pieceMs of its work", async () => {
  const w = fakeWorker();
  let cost = NaN;
  // one piece at a time: each sized by the cost its predecessor's answer told
  const outbox = new IngestOutbox(w.send, {
    cost: () => cost,
    pieceMs: 5,
    minPiece: 4,
    piecesInFlight: 1,
  });
  const readings = Array.from({ length: 1_000 }, (_, i) => r(`s${i % 3}`, i));
  const big = outbox.add(readings, readings.map((_, i) => i), "http");
  const costs = [0.5, 0.05, 10, 0.001]; // told with the answers to the first pieces
  await turn();
  for (let i = 0; i < w.batches.length; i++) {
    cost = costs[i] ?? 0.1;
    w.batches[i].answer();
    await turn();
  }
  const result = await big;
  assert.equal(result.accepted, 1_000);
  const sizes = w.batches.map((b) => b.readings.length);
  assert.deepEqual(
    sizes.slice(0, 5),
    [64, 10, 100, 4, 256],
    "64 before the cost is known; 5 ms of it; at least minPiece, at most batch",
  );
  assert.ok(sizes.slice(5, -1).every((n) => n === 50), `5 ms at 0.1 ms a reading: ${sizes}`);
  // every reading once, in order
  assert.deepEqual(
    w.batches.flatMap((b) => b.readings.map((x) => x.ts)),
    readings.map((x) => x.ts),
  );
});

Deno.test("IngestOutbox gathers a part of up to the cost's piece size (and a rest under minPiece) with the small ones", async () => {
  const w = fakeWorker();
  // pieces of 20, one at a time; minPiece 8
  const outbox = new IngestOutbox(w.send, { cost: () => 0.25, pieceMs: 5, piecesInFlight: 1 });
  const part = (stream: string, n: number) =>
    outbox.add(Array.from({ length: n }, (_, i) => r(stream, i)), [...Array(n).keys()], "ws");
  const twenty = part("a", 20);
  const more = part("b", 27);
  const pieced = part("c", 28);
  await turn();
  assert.deepEqual(
    w.batches.map((b) => b.readings.length),
    [47, 20],
    "20 and 27 (20 and a rest of 7) together, then 28's first piece of 20",
  );
  w.batches[0].answer();
  w.batches[1].answer();
  await turn();
  assert.deepEqual(w.batches.map((b) => b.readings.length), [47, 20, 8]);
  w.batches[2].answer();
  assert.equal((await twenty).accepted, 20);
  assert.equal((await more).accepted, 27);
  assert.equal((await pieced).accepted, 28);
});

Deno.test("IngestOutbox sends a 10-reading message whole to a loaded worker (pieces of 8), not as 8 and 2", async () => {
  const w = fakeWorker();
  // 0.6 ms a reading (a cold or loaded worker, a Raspberry Pi's normal): pieces of 8
  const outbox = new IngestOutbox(w.send, { cost: () => 0.6, pieceMs: 5 });
  assert.equal(outbox.pieceSize(), 8);
  const messages = [0, 1, 2].map((k) =>
    outbox.add(Array.from({ length: 10 }, (_, i) => r(`s${k}`, i)), [...Array(10).keys()], "mqtt")
  );
  await turn();
  assert.deepEqual(w.batches.map((b) => [b.readings.length, b.piece]), [[30, false]]);
  w.batches[0].answer();
  for (const m of messages) assert.deepEqual(await m, { accepted: 10, rejected: [] });
});

Deno.test("IngestOutbox's last piece of a big part takes a rest smaller than minPiece", async () => {
  const w = fakeWorker();
  const outbox = new IngestOutbox(w.send, { cost: () => 0.1, pieceMs: 5, piecesInFlight: 1 });
  const readings = Array.from({ length: 105 }, (_, i) => r(`s${i % 3}`, i)); // pieces of 50
  const big = outbox.add(readings, readings.map((_, i) => i), "http");
  for (let i = 0; i < 5; i++) {
    await turn();
    w.batches[i]?.answer();
  }
  assert.equal((await big).accepted, 105);
  assert.deepEqual(w.batches.map((b) => b.readings.length), [50, 55], "not 50, 50 and 5");
  assert.deepEqual(
    w.batches.flatMap((b) => b.readings.map((x) => x.ts)),
    readings.map((x) => x.ts),
  );
});

Deno.test("IngestOutbox keeps a piece, and a part gathered whole, within `batch` readings", async () => {
  const w = fakeWorker();
  // pieces of 256 (the cost's 500 capped by batch); a rest of 4 does not make a piece of 260
  const outbox = new IngestOutbox(w.send, { cost: () => 0.01, pieceMs: 5, piecesInFlight: 1 });
  const readings = Array.from({ length: 260 }, (_, i) => r("a", i));
  const big = outbox.add(readings, readings.map((_, i) => i), "http");
  for (let i = 0; i < 4; i++) {
    await turn();
    w.batches[i]?.answer();
  }
  assert.equal((await big).accepted, 260);
  assert.deepEqual(w.batches.map((b) => b.readings.length), [256, 4]);
});

Deno.test("IngestOutbox keeps a stream's order behind its big part's pieces; other streams go between them", async () => {
  const w = fakeWorker();
  const outbox = new IngestOutbox(w.send, { piece: 2, minPiece: 1 });
  const big = outbox.add(
    [r("a", 1), r("a", 2), r("a", 3), r("b", 1), r("a", 4)],
    [0, 1, 2, 3, 4],
    "mqtt",
  );
  await turn();
  // while the first piece is taken: a message of a (after the big part), then one of c, then one of b
  const a5 = outbox.add([r("a", 5)], [0], "mqtt");
  const c1 = outbox.add([r("c", 1)], [0], "mqtt");
  const b2 = outbox.add([r("b", 2), r("a", 6)], [0, 1], "mqtt");
  const a7 = outbox.add([r("a", 7)], [0], "mqtt");
  assert.equal(outbox.length, 10, "held parts count as waiting");
  for (let i = 0; i < 12 && i < w.batches.length + 1; i++) {
    await turn();
    w.batches[i]?.answer();
  }
  for (const p of [big, a5, c1, b2, a7]) assert.equal((await p).rejected.length, 0);
  const sent = w.batches.flatMap((b) => b.readings.map((x) => `${x.stream}${x.ts}`));
  assert.ok(sent.indexOf("c1") < sent.indexOf("a3"), `c goes between the pieces: ${sent}`);
  for (const s of ["a", "b"]) {
    const ts = sent.filter((x) => x[0] === s).map((x) => Number(x.slice(1)));
    assert.deepEqual(ts, [...ts].sort((x, y) => x - y), `stream ${s} in order: ${sent}`);
  }
  assert.equal(sent.length, 10);
  assert.equal(outbox.length, 0);
});

Deno.test("IngestOutbox sends a big part after the waiting batches before it: a stream's message that went whole is not overtaken by its next, in pieces", async () => {
  const w = fakeWorker();
  // a loaded worker: its cost a reading rises between two messages of stream s
  let cost = 0.1; // pieces of 50: a 20-reading message goes whole
  const outbox = new IngestOutbox(w.send, { cost: () => cost, pieceMs: 5, inflight: 1 });
  const message = (from: number) =>
    outbox.add(
      Array.from({ length: 20 }, (_, i) => r("s", from + i)),
      [...Array(20).keys()],
      "mqtt",
    );
  // the one batch in flight: another stream's
  const other = outbox.add([r("x", 0)], [0], "mqtt");
  await turn();
  assert.equal(w.batches.length, 1);
  // s's readings 0-19 go whole: they wait for the batch in flight to be answered
  const first = message(0);
  cost = 0.6; // pieces of 8: s's readings 20-39 go in pieces
  const second = message(20);
  for (let i = 0; i < 8; i++) {
    await turn();
    for (const b of w.batches) b.answer();
  }
  const sent = w.batches.flatMap((b) =>
    b.readings.filter((x) => x.stream === "s").map((x) => x.ts)
  );
  assert.deepEqual(sent, [...Array(40).keys()], `s's readings reach the worker in order: ${sent}`);
  for (const p of [other, first, second]) assert.equal((await p).rejected.length, 0);
  assert.equal(outbox.length, 0);
});

Deno.test("IngestOutbox keeps two pieces of a big part in flight once the worker's cost is known, one before", async () => {
  const w = fakeWorker();
  let cost = NaN;
  const outbox = new IngestOutbox(w.send, { cost: () => cost, pieceMs: 5 });
  assert.equal(outbox.piecesInFlight, 2);
  const readings = Array.from({ length: 500 }, (_, i) => r(`s${i % 3}`, i));
  const big = outbox.add(readings, readings.map((_, i) => i), "http");
  await turn();
  assert.deepEqual(w.batches.map((b) => b.readings.length), [64], "cold: one piece at a time");
  cost = 0.1; // pieces of 50
  w.batches[0].answer();
  await turn();
  assert.deepEqual(
    w.batches.slice(1).map((b) => b.readings.length),
    [50, 50],
    "warm: the next piece waits in the worker while it takes one",
  );
  // a source's batch goes at once, behind the two pieces
  const small = outbox.add([r("q", 0)], [0], "mqtt");
  await turn();
  assert.deepEqual(w.batches.map((b) => b.source), ["http", "http", "http", "mqtt"]);
  w.batches[1].answer();
  await turn();
  assert.equal(w.batches.filter((b) => b.source === "http").length, 4, "one taken: one more sent");
  for (let i = 2; i < w.batches.length; i++) {
    w.batches[i].answer();
    await turn();
  }
  assert.equal((await big).accepted, 500);
  assert.deepEqual(await small, { accepted: 1, rejected: [] });
  // every reading once, in order
  assert.deepEqual(
    w.batches.filter((b) => b.source === "http").flatMap((b) => b.readings.map((x) => x.ts)),
    readings.map((x) => x.ts),
  );
  assert.equal(outbox.length, 0);
  // every send counted by what was in flight then; the source's batch went behind the 2 pieces
  assert.equal(outbox.sentBehind.reduce((a, b) => a + b, 0), w.batches.length);
  assert.ok(outbox.sentBehind[2] >= 1, `${outbox.sentBehind}`);
});

Deno.test("IngestOutbox refuses a big part whose piece failed, once its other piece in flight settled", async () => {
  let calls = 0;
  const answers: ((r: IngestResult | Error) => void)[] = [];
  const send = () =>
    new Promise<IngestResult>((resolve, reject) => {
      calls++;
      answers.push((x) => x instanceof Error ? reject(x) : resolve(x));
    });
  const outbox = new IngestOutbox(send, { cost: () => 0.1, pieceMs: 5 }); // pieces of 50
  const readings = Array.from({ length: 200 }, (_, i) => r("a", i));
  const big = outbox.add(readings, readings.map((_, i) => i), "http");
  const later = outbox.add([r("a", 1000)], [0], "mqtt"); // held behind the big part
  await turn();
  assert.equal(calls, 2);
  answers[0](new Error("worker died"));
  await turn();
  assert.equal(calls, 2, "no piece sent after the failure");
  answers[1]({ accepted: 50, rejected: [] });
  await assert.rejects(big, /worker died/);
  await turn();
  assert.equal(calls, 3, "the held part goes once the big part is done with");
  answers[2]({ accepted: 1, rejected: [] });
  assert.deepEqual(await later, { accepted: 1, rejected: [] });
  assert.equal(outbox.length, 0);
});

Deno.test("IngestOutbox says which sends are pieces of a big part (the worker lets others go first)", async () => {
  const w = fakeWorker();
  const outbox = new IngestOutbox(w.send, { piece: 4 });
  const big = outbox.add(
    Array.from({ length: 8 }, (_, t) => r("big", t)),
    [0, 1, 2, 3, 4, 5, 6, 7],
    "http",
  );
  const small = outbox.add([r("dev", 0)], [0], "mqtt");
  await turn();
  assert.deepEqual(w.batches.map((b) => [b.readings.length, b.piece]), [[4, true], [1, false]]);
  w.batches[0].answer();
  w.batches[1].answer();
  await turn();
  assert.deepEqual(w.batches.map((b) => b.piece), [true, false, true]);
  w.batches[2].answer();
  await Promise.all([big, small]);
});
