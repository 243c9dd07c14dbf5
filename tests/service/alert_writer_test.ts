import assert from "node:assert/strict";
import { AlertWriter } from "../../src/service/alert_writer.ts";
import type { AlertEvent } from "../../src/domain/alert.ts";
import type { AlertInput, AlertRecord } from "../../src/store/store.ts";
import { captureLog } from "../../src/log.ts";

function event(stream: string, ts: number): AlertEvent {
  return {
    type: "opened",
    stream,
    ts,
    since: ts,
    targets: {},
    score: 0.9,
    likelihood: 0.99,
    percentile: 0.999,
    unusual: { count: 1, of: 20, most: 0 },
    learning: false,
    message: `${stream} at ${ts}`,
  };
}

class FakeAlertStore {
  readonly appends: AlertInput[][] = [];
  failing = false;
  #id = 0;
  async appendAlerts(inputs: readonly AlertInput[]): Promise<AlertRecord[]> {
    this.appends.push([...inputs]);
    await new Promise((r) => setTimeout(r, 1));
    if (this.failing) throw new Error("database or disk is full");
    return inputs.map((i) =>
      ({ ...i, id: String(++this.#id).padStart(16, "0"), state: i.state ?? "open" }) as AlertRecord
    );
  }
}

function setup(options = {}) {
  const store = new FakeAlertStore();
  const counters = { alertsStored: 0, alertFailures: 0 };
  const published: string[] = [];
  const captured = captureLog("debug");
  const writer = new AlertWriter({
    store,
    counters,
    log: captured.log,
    publish: (r) => published.push(`${r.id}:${r.stream}:${r.ts}`),
  }, options);
  return { store, counters, published, writer, entries: captured.entries };
}

Deno.test("events raised while a write is under way go together in the next one, published in order with their ids", async () => {
  const { store, published, writer, counters } = setup();
  for (let i = 0; i < 50; i++) writer.push(event(`s${i % 5}`, i));
  await writer.flush();
  assert.deepEqual(store.appends.map((a) => a.length), [1, 49], "two writes for 50 events");
  assert.deepEqual(store.appends[0][0].time, 0, "time is the reading's ts");
  assert.equal(store.appends[0][0].state, "open");
  assert.equal(published.length, 50);
  assert.deepEqual(published.slice(0, 2), ["0000000000000001:s0:0", "0000000000000002:s1:1"]);
  assert.equal(counters.alertsStored, 50);
});

Deno.test("a failed write is retried with back-off, events wait in order; past maxWaiting the oldest are dropped", async () => {
  const { store, published, writer, counters, entries } = setup({
    maxWaiting: 5,
    retry: { minMs: 15 },
  });
  store.failing = true;
  writer.push(event("a", 1));
  await writer.flush();
  assert.equal(entries().find((e) => e.event === "alert.store_failed")!.retryInMs, 15);
  for (let t = 2; t <= 7; t++) writer.push(event("a", t));
  assert.equal(writer.waiting, 5);
  assert.equal(counters.alertFailures, 2, "the two oldest were dropped");
  assert.ok(entries().some((e) => e.event === "alert.dropped"));
  store.failing = false;
  while (published.length < 5) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(published.map((p) => Number(p.split(":")[2])), [3, 4, 5, 6, 7]);
  writer.stop();
});
