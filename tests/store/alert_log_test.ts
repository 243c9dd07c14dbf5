import assert from "node:assert/strict";
import { Store } from "../../src/store/store.ts";
import { alertsPrefix } from "../../src/store/keys.ts";
import { listKeys, probeKv, withKv } from "./_kv.ts";

const T0 = 1_700_000_000_000;
const MIN = 60_000;

/** Appends alerts for streams a and b at T0, T0 + 1 min, ...; returns their ids. */
async function seed(store: Store, n: number): Promise<string[]> {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const e = await store.appendAlert({
      stream: i % 2 === 0 ? "a" : "b",
      time: T0 + i * MIN,
      kind: "anomaly",
      score: i / 10,
    });
    ids.push(e.id);
  }
  return ids;
}

const idsOf = (events: { id: string }[]) => events.map((e) => Number(e.id));

Deno.test("appendAlert() assigns increasing 16-digit ids, state 'open', and keeps every field", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv);
    const first = await store.appendAlert({
      stream: "a",
      time: T0,
      kind: "anomaly",
      detail: { z: 4.2 },
    });
    assert.deepEqual(first, {
      id: "0000000000000001",
      stream: "a",
      time: T0,
      state: "open",
      kind: "anomaly",
      detail: { z: 4.2 },
    });
    const second = await store.appendAlert({ stream: "b", time: T0, state: "resolved" });
    assert.equal(second.id, "0000000000000002");
    assert.equal(second.state, "resolved");
    assert.deepEqual(await store.getAlert(first.id), first);
    assert.equal(await store.getAlert("0000000000000099"), null);
  });
});

Deno.test("appendAlert() called 50 times at once gives 50 distinct consecutive ids", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv);
    const events = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.appendAlert({ stream: "a", time: T0 + i })),
    );
    assert.deepEqual(
      idsOf(events).sort((x, y) => x - y),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    assert.equal((await listKeys(kv, alertsPrefix())).length, 50);
  });
});

Deno.test("appendAlert() from two stores on one KV never hands out an id twice", async () => {
  await withKv(async (kv) => {
    const one = new Store(kv), two = new Store(kv);
    const events = await Promise.all(
      Array.from(
        { length: 40 },
        (_, i) => (i % 2 ? one : two).appendAlert({ stream: "a", time: i }),
      ),
    );
    assert.equal(new Set(events.map((e) => e.id)).size, 40);
    assert.equal((await listKeys(kv, alertsPrefix())).length, 40);
  });
});

Deno.test("appendAlert() from eight stores on one KV, 400 at once, never gives up", async () => {
  // eight writers racing on the id counter: each that loses waits a random, growing time
  // (before, a retry at once, or within `attempt` ms, lost 20 times in a row now and then)
  await withKv(async (kv) => {
    const stores = Array.from({ length: 8 }, () => new Store(kv));
    const events = await Promise.all(
      Array.from({ length: 400 }, (_, i) => stores[i % 8].appendAlert({ stream: "a", time: i })),
    );
    assert.equal(new Set(events.map((e) => e.id)).size, 400);
    assert.deepEqual(
      events.map((e) => Number(e.id)).sort((a, b) => a - b),
      Array.from({ length: 400 }, (_, i) => i + 1),
      "ids 1 to 400, none skipped",
    );
  });
});

Deno.test("listAlerts() filters by stream, state, time, id and limit, in either order", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv);
    const ids = await seed(store, 10);
    await store.acknowledgeAlert(ids[2], T0);
    await store.acknowledgeAlert(ids[5], T0);
    assert.deepEqual(idsOf(await store.listAlerts()), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(idsOf(await store.listAlerts({ stream: "a" })), [1, 3, 5, 7, 9]);
    assert.deepEqual(idsOf(await store.listAlerts({ state: "acknowledged" })), [3, 6]);
    assert.deepEqual(idsOf(await store.listAlerts({ state: "open", stream: "b" })), [2, 4, 8, 10]);
    assert.deepEqual(
      idsOf(await store.listAlerts({ since: T0 + 3 * MIN, until: T0 + 6 * MIN })),
      [4, 5, 6],
      "since is inclusive, until exclusive",
    );
    assert.deepEqual(idsOf(await store.listAlerts({ after: ids[6] })), [8, 9, 10], "SSE resume");
    assert.deepEqual(idsOf(await store.listAlerts({ after: ids[9] })), []);
    assert.deepEqual(idsOf(await store.listAlerts({ before: ids[2] })), [1, 2]);
    assert.deepEqual(idsOf(await store.listAlerts({ after: ids[1], before: ids[5] })), [3, 4, 5]);
    assert.deepEqual(idsOf(await store.listAlerts({ after: ids[5], before: ids[5] })), []);
    assert.deepEqual(idsOf(await store.listAlerts({ limit: 3 })), [1, 2, 3]);
    assert.deepEqual(idsOf(await store.listAlerts({ reverse: true, limit: 3 })), [10, 9, 8]);
    assert.deepEqual(idsOf(await store.listAlerts({ reverse: true, stream: "b", after: ids[3] })), [
      10,
      8,
      6,
    ]);
    assert.deepEqual(idsOf(await store.listAlerts({ stream: "a", after: ids[2], limit: 2 })), [
      5,
      7,
    ]);
  });
});

Deno.test("acknowledgeAlert() twice keeps the first acknowledgedAt and changes nothing", async () => {
  await withKv(async (kv) => {
    let now = T0 + 5;
    const store = new Store(kv, { now: () => now });
    const [id] = await seed(store, 1);
    const first = await store.acknowledgeAlert(id);
    assert.equal(first?.acknowledgedAt, T0 + 5);
    now = T0 + 60_000;
    assert.deepEqual(await store.acknowledgeAlert(id), first, "answered as it is");
    assert.deepEqual(await store.acknowledgeAlert(id, T0 + 99), first, "an explicit time too");
    assert.deepEqual(await store.getAlert(id), first, "stored unchanged");
    const both = await Promise.all([
      store.acknowledgeAlert((await seed(store, 1))[0]),
      store.acknowledgeAlert("0000000000000002", T0 + 7),
    ]);
    assert.equal(both[0]?.acknowledgedAt, both[1]?.acknowledgedAt, "concurrent: one time wins");
    assert.deepEqual(await store.getAlert("0000000000000002"), both[0]);
  });
});

Deno.test("acknowledgeAlert() and updateAlert() change an alert in place and keep its id", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv, { now: () => T0 + 5 });
    const [id] = await seed(store, 1);
    const acked = await store.acknowledgeAlert(id);
    assert.equal(acked?.state, "acknowledged");
    assert.equal(acked?.acknowledgedAt, T0 + 5);
    assert.deepEqual(await store.getAlert(id), acked);
    const resolved = await store.updateAlert(id, { state: "resolved", note: "fan replaced" });
    assert.deepEqual(resolved, { ...acked, state: "resolved", note: "fan replaced" });
    assert.deepEqual(await store.getAlert(id), resolved);
    assert.equal(await store.acknowledgeAlert("0000000000000007"), null);
    await assert.rejects(
      store.updateAlert(id, { id: "0000000000000002" }),
      /^TypeError: Cannot update alert: 'id' must stay "0000000000000001": current value is "0000000000000002"$/,
    );
    await assert.rejects(
      store.updateAlert(id, { time: NaN }),
      /^TypeError: Cannot update alert: 'time' must be a finite number \(ms since the epoch\): current value is NaN$/,
    );
  });
});

Deno.test("appendAlert() keeps the newest maxEvents: the oldest goes in the same commit", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv, { alertRetention: { maxEvents: 4 } });
    await seed(store, 9);
    assert.deepEqual(idsOf(await store.listAlerts()), [6, 7, 8, 9]);
    assert.equal((await listKeys(kv, alertsPrefix())).length, 4);
  });
});

Deno.test("pruneAlerts() drops events older than maxAgeMs and beyond a lowered maxEvents", async () => {
  await withKv(async (kv) => {
    let clock = T0 + 10 * MIN;
    const store = new Store(kv, { now: () => clock, alertRetention: { maxAgeMs: 5 * MIN } });
    await seed(store, 10); // times T0 .. T0 + 9 min
    const aged = await store.pruneAlerts();
    assert.deepEqual(aged, { deleted: 5, commits: 1 });
    assert.deepEqual(
      idsOf(await store.listAlerts()),
      [6, 7, 8, 9, 10],
      "kept: time >= now - 5 min",
    );
    const counted = await store.pruneAlerts({ maxEvents: 2, maxAgeMs: Infinity });
    assert.deepEqual(counted, { deleted: 3, commits: 1 });
    assert.deepEqual(idsOf(await store.listAlerts()), [9, 10]);
    clock += 60 * MIN;
    assert.equal((await store.pruneAlerts()).deleted, 2);
    assert.deepEqual(await listKeys(kv, alertsPrefix()), []);
    assert.deepEqual(await store.pruneAlerts(), { deleted: 0, commits: 0 });
    const next = await store.appendAlert({ stream: "a", time: clock });
    assert.equal(next.id, "0000000000000011", "ids keep counting after a prune");
  });
});

Deno.test("appendAlert(), listAlerts() and pruneAlerts() name a bad value", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv);
    await assert.rejects(
      store.appendAlert({ stream: "a b", time: T0 }),
      /^TypeError: Cannot append alert: 'stream' must be 1-128 characters of A-Z a-z 0-9 _ \. : -, not only dots: current value is "a b"$/,
    );
    await assert.rejects(
      store.appendAlert({ stream: "a", time: "today" as unknown as number }),
      /^TypeError: Cannot append alert: 'time' must be a finite number \(ms since the epoch\): current value is "today"$/,
    );
    await assert.rejects(
      store.appendAlert({ stream: "a", time: T0, id: "x" }),
      /^TypeError: Cannot append alert: 'id' is assigned by the store and must be absent: current value is "x"$/,
    );
    await assert.rejects(
      store.appendAlert({ stream: "a", time: T0, blob: "x".repeat(70_000) }),
      /^RangeError: Cannot append alert: an alert must serialise to at most 65536 bytes: current size is 700\d\d$/,
    );
    await assert.rejects(
      store.listAlerts({ after: "12" }),
      /^TypeError: Cannot list alerts: an alert id must be 16 decimal digits: current value is "12"$/,
    );
    await assert.rejects(
      store.listAlerts({ limit: 0 }),
      /^RangeError: Cannot list alerts: 'limit' must be a positive integer: current value is 0$/,
    );
    await assert.rejects(
      store.pruneAlerts({ maxEvents: -1 }),
      /^RangeError: Cannot prune alerts: maxEvents must be a positive integer or Infinity: current value is -1$/,
    );
    assert.deepEqual(await listKeys(kv, []), [], "nothing written");
  });
});

Deno.test("appendAlerts() stores many alerts in one commit, with consecutive ids in order", async () => {
  await withKv(async (raw) => {
    const probe = probeKv(raw);
    const store = new Store(probe.kv, { alertRetention: { maxEvents: 150 } });
    await store.appendAlert({ stream: "a", time: T0 });
    const before = probe.commits;
    const inputs = Array.from({ length: 200 }, (_, i) => ({
      stream: i % 2 ? "a" : "b",
      time: T0 + i,
      message: "m".repeat(500),
    }));
    const stored = await store.appendAlerts(inputs);
    assert.equal(probe.commits - before, 1, "one commit for 200 alerts");
    assert.deepEqual(idsOf(stored), Array.from({ length: 200 }, (_, i) => i + 2));
    assert.deepEqual(stored.map((e) => e.time), inputs.map((e) => e.time));
    assert.ok(stored.every((e) => e.state === "open"));
    // retention in the same commit: the newest 150 of 201
    assert.deepEqual(
      idsOf(await store.listAlerts({ limit: 1000 })),
      stored.slice(-150).map((e) => Number(e.id)),
    );
    assert.deepEqual(await store.appendAlerts([]), []);
  });
});

Deno.test("appendAlerts() splits a batch over the commit limits and refuses a bad alert before writing", async () => {
  await withKv(async (raw) => {
    const probe = probeKv(raw);
    const store = new Store(probe.kv);
    // 40 alerts of 30 KB: about 26 fit the 819,200 bytes of a commit
    const inputs = Array.from(
      { length: 40 },
      (_, i) => ({ stream: "a", time: T0 + i, blob: "x".repeat(30_000) }),
    );
    const stored = await store.appendAlerts(inputs);
    assert.equal(probe.commits, 2);
    assert.deepEqual(idsOf(stored), Array.from({ length: 40 }, (_, i) => i + 1));
    await assert.rejects(
      store.appendAlerts([{ stream: "a", time: T0 }, { stream: "a b", time: T0 }]),
      /^TypeError: Cannot append alert: 'stream' must be 1-128 characters of A-Z a-z 0-9 _ \. : -, not only dots: current value is "a b"$/,
    );
    assert.equal(
      (await store.listAlerts({ limit: 1000 })).length,
      40,
      "nothing of the bad batch written",
    );
  });
});
