import assert from "node:assert/strict";
import { RecordWriter } from "../../src/service/record_writer.ts";
import type { RecordEntry, StoreRecordsResult } from "../../src/store/store.ts";
import { captureLog } from "../../src/log.ts";

/** A record sink whose writes wait until the test lets them through. */
class GatedSink {
  readonly writes: RecordEntry[][] = [];
  failing = false;
  #open: (() => void)[] = [];
  gated = false;

  async storeRecords(entries: readonly RecordEntry[]): Promise<StoreRecordsResult> {
    this.writes.push([...entries]);
    if (this.gated) await new Promise<void>((r) => this.#open.push(r));
    if (this.failing) throw new Error("database or disk is full");
    return { stored: entries.map((e) => e.id), existing: [], commits: 1 };
  }

  release(): void {
    for (const r of this.#open.splice(0)) r();
  }
}

const turn = () => new Promise((r) => setTimeout(r, 0));

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function writer(sink: GatedSink, records = new Map<string, unknown>()) {
  const { log, entries } = captureLog("debug");
  const w = new RecordWriter({ store: sink, log, record: (id) => records.get(id) ?? null }, {
    retry: { minMs: 20, maxMs: 20 },
  });
  return { w, entries, records };
}

Deno.test("RecordWriter writes the records of one turn in one write, and those that come meanwhile in the next", async () => {
  const sink = new GatedSink();
  const { w, records } = writer(sink);
  for (let i = 0; i < 300; i++) {
    records.set(`s${i}`, { id: `s${i}` });
    w.add(`s${i}`);
  }
  sink.gated = true;
  const first = w.stored();
  await until(() => sink.writes.length === 1, "the first write");
  assert.equal(sink.writes[0].length, 300, "300 new streams in one write");
  // streams created while it is written wait for the next one
  for (let i = 300; i < 310; i++) {
    records.set(`s${i}`, { id: `s${i}` });
    w.add(`s${i}`);
  }
  assert.ok(w.unstored("s0") && w.unstored("s305"));
  const second = w.stored();
  let firstDone = false, secondDone = false;
  first.then(() => firstDone = true);
  second.then(() => secondDone = true);
  await turn();
  assert.equal(firstDone, false, "stored() waits for the commit");
  sink.release();
  await first;
  assert.equal(w.unstored("s0"), false);
  await until(() => sink.writes.length === 2, "the second write");
  assert.equal(secondDone, false, "the second caller waits for the write of its streams");
  assert.equal(sink.writes[1].length, 10);
  sink.release();
  await second;
  assert.equal(w.written, 310);
  assert.equal(w.unstored("s305"), false);
  await w.settled();
});

Deno.test("RecordWriter does not hold callers back while writes fail, and retries with back-off", async () => {
  const sink = new GatedSink();
  const { w, entries, records } = writer(sink);
  sink.failing = true;
  records.set("a", { id: "a" });
  w.add("a");
  await w.stored(); // resolves although the write failed
  assert.equal(w.failing, true);
  assert.equal(w.failures, 1);
  assert.ok(w.unstored("a"), "a waits for the retry");
  records.set("b", { id: "b" });
  w.add("b");
  await w.stored(); // at once while failing
  const failed = entries().find((e) => e.event === "stream.record_failed");
  assert.equal(failed?.retryInMs, 20);
  sink.failing = false;
  await until(() => !w.unstored("a") && !w.unstored("b"), "the retry");
  assert.deepEqual(sink.writes.at(-1)!.map((e) => e.id).sort(), ["a", "b"]);
  assert.equal(w.failing, false);
  w.stop();
});

Deno.test("RecordWriter skips a stream forgotten or gone before its write", async () => {
  const sink = new GatedSink();
  const { w, records } = writer(sink);
  records.set("keep", { id: "keep" });
  records.set("gone", { id: "gone" });
  w.add("keep");
  w.add("forgotten");
  w.add("gone");
  w.forget("forgotten");
  records.delete("gone");
  await w.stored();
  assert.deepEqual(sink.writes.map((b) => b.map((e) => e.id)), [["keep"]]);
  // a write with nothing left to write does not stop the next one
  w.add("gone");
  await w.stored();
  records.set("later", { id: "later" });
  w.add("later");
  await w.stored();
  assert.deepEqual(sink.writes.map((b) => b.map((e) => e.id)), [["keep"], ["later"]]);
  await w.currentWrite();
});
