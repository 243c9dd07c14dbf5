/**
 * The resume-then-live feed behind SSE and the alerts WebSocket, against a
 * fake store whose replay query lets the test publish alerts while it runs:
 * the race the subscribe-buffer-replay-flush order exists for.
 */
import assert from "node:assert/strict";
import { openAlertFeed } from "../../src/alerts/alert_feed.ts";
import type { AlertFilter } from "../../src/alerts/alert_source.ts";
import type { StoredAlert } from "../../src/domain/alert.ts";
import { AlertHub } from "../../src/service/alert_hub.ts";
import { storedAlert } from "../_helpers.ts";

const id = (n: number) => String(n).padStart(16, "0");

/** A store and hub: `store()` appends, `publish()` fans out as the service does. */
function fakeService() {
  const stored: StoredAlert[] = [];
  const hub = new AlertHub();
  let duringList: ((call: number) => void) | null = null;
  let calls = 0;
  return {
    subscribe: hub.subscribe.bind(hub),
    get subscribers() {
      return hub.size;
    },
    stored,
    set duringList(fn: ((call: number) => void) | null) {
      duringList = fn;
    },
    get calls() {
      return calls;
    },
    store(stream: string): StoredAlert {
      const e = storedAlert({ id: id(stored.length + 1), stream, time: 0 });
      stored.push(e);
      return e;
    },
    publish(e: StoredAlert) {
      hub.publish(e, (err) => {
        throw err;
      });
    },
    /** As AlertLog.list(): after (exclusive), stream, limit; in id order. */
    async listAlerts(f: AlertFilter): Promise<StoredAlert[]> {
      calls++;
      await Promise.resolve();
      // the snapshot the query sees is taken before the hook runs
      const snapshot = stored.filter((e) =>
        (f.after === undefined || e.id > f.after) &&
        (f.stream === undefined || e.stream === f.stream)
      ).slice(0, f.limit ?? 100);
      duringList?.(calls);
      await Promise.resolve();
      return snapshot;
    },
  };
}

Deno.test("openAlertFeed() replays after the id, then goes live, without gaps or duplicates while alerts race the replay", async () => {
  const s = fakeService();
  for (let i = 0; i < 5; i++) s.store("a"); // 1..5
  // stored and published before the replay's first query: in its snapshot AND buffered
  const raced = s.store("a"); // 6
  s.duringList = (call) => {
    // pages of 2: [3, 4], [5, 6], [] (the last)
    if (call === 1) s.publish(raced); // in page 2 and in the buffer: sent once
    // stored after the last page's snapshot: only the buffer has it
    if (call === 3) s.publish(s.store("a")); // 7
  };
  const got: string[] = [];
  const feed = openAlertFeed(s, { after: id(2), streams: null, pageSize: 2 }, (e) => {
    got.push(e.id);
  }, (e) => {
    throw e;
  });
  assert.deepEqual(got, [], "nothing is sent before the replay");
  await feed.ready;
  s.duringList = null;
  s.publish(s.store("a")); // 8, live
  assert.deepEqual(got, [3, 4, 5, 6, 7, 8].map(id));
  assert.equal(s.calls, 3, "the replay read pages of 2 until a short one");
  feed.close();
  assert.equal(s.subscribers, 0, "close() unsubscribes");
  s.publish(s.store("a"));
  assert.equal(got.length, 6, "nothing after close()");
});

Deno.test("openAlertFeed() without a resume id sends only live alerts, filtered by stream", async () => {
  const s = fakeService();
  s.store("a");
  const got: string[] = [];
  const feed = openAlertFeed(s, { after: null, streams: new Set(["a", "b"]) }, (e) => {
    got.push(`${e.stream}${Number(e.id)}`);
  }, (e) => {
    throw e;
  });
  await feed.ready;
  assert.equal(s.calls, 0, "no replay query");
  for (const stream of ["a", "c", "b"]) s.publish(s.store(stream));
  assert.deepEqual(got, ["a2", "b4"]);
  feed.close();
});

Deno.test("openAlertFeed() filters a multi-stream replay and reports a failed replay once, closed", async () => {
  const s = fakeService();
  for (const stream of ["a", "c", "b", "c", "a"]) s.store(stream);
  const got: string[] = [];
  const feed = openAlertFeed(
    s,
    { after: id(0), streams: new Set(["a", "b"]), pageSize: 2 },
    (e) => {
      got.push(e.id);
    },
    (e) => {
      throw e;
    },
  );
  await feed.ready;
  assert.deepEqual(got, [1, 3, 5].map(id));
  feed.close();

  const errors: unknown[] = [];
  const failing = {
    subscribe: s.subscribe,
    subscribers: 0,
    listAlerts: () => Promise.reject(new Error("kv closed")),
  };
  const broken = openAlertFeed(failing, { after: id(0), streams: null }, () => {}, (e) => {
    errors.push(e);
  });
  await broken.ready;
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as Error).message, "kv closed");
  assert.equal(s.subscribers, 0, "a failed feed unsubscribes");
});
