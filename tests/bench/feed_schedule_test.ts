/**
 * bench/feed_schedule.ts with bench/raw_mqtt.ts against aedes whose PUBACKs
 * are held: the open feed publishes every slice at its due time while the
 * earlier ones are unacknowledged, and counts the late ones; the closed feed
 * waits for each slice's acknowledgement.
 */
import assert from "node:assert/strict";
import { RawPublisher } from "../../bench/raw_mqtt.ts";
import { type FeedKind, keptUp, runFeed } from "../../bench/feed_schedule.ts";
import { startHoldingBroker } from "./_holding_broker.ts";

const SLICES = 4;
const SECONDS = 3;
const PER_SLICE = 5;
const PERIOD_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Slice i of second s: PER_SLICE streams' readings. */
const messages = (s: number, i: number) =>
  Array.from({ length: PER_SLICE }, (_, j) => ({
    topic: `sensors/s${j * SLICES + i}/v`,
    payload: `{"n":${s}}`,
  }));

/**
 * Feeds SECONDS seconds of SLICES slices while the broker holds every PUBACK
 * until all the slices are in flight, or 3 s have gone by (a feed that waits
 * for acknowledgements never gets there).
 */
async function feedWhileHeld(kind: FeedKind) {
  const broker = await startHoldingBroker({ hold: true });
  const pub = await RawPublisher.connect(broker.url, `feed-${kind}`);
  const total = SLICES * SECONDS * PER_SLICE;
  let releasedBy = "the 3 s timer";
  const releaser = (async () => {
    for (const t = performance.now(); pub.inFlight < total && performance.now() - t < 3000;) {
      await sleep(5);
    }
    if (pub.inFlight === total) releasedBy = "every slice in flight";
    broker.release();
  })();
  try {
    const report = await runFeed({
      kind,
      slices: SLICES,
      seconds: SECONDS,
      periodMs: PERIOD_MS,
      start: performance.now(),
      send: (s, i) => pub.publish(messages(s, i)),
    });
    await releaser;
    return { report, releasedBy, received: broker.received, reused: broker.reused, pub };
  } finally {
    broker.release();
    await releaser;
    await pub.close();
    await broker.close();
  }
}

Deno.test("open feed: every slice goes out on time while the first are unacknowledged", async () => {
  const { report, releasedBy, received, reused, pub } = await feedWhileHeld("open");
  assert.equal(releasedBy, "every slice in flight");
  assert.equal(pub.mostInFlight, SLICES * SECONDS * PER_SLICE);
  assert.equal(received, SLICES * SECONDS * PER_SLICE);
  assert.equal(reused, 0);
  assert.equal(report.secondsFed, SECONDS);
  assert.equal(report.slices.length, SLICES * SECONDS);
  // each slice was published before any acknowledgement came, in due order
  const firstAck = Math.min(...report.slices.map((t) => t.acked));
  for (const t of report.slices) assert.ok(t.published < firstAck, JSON.stringify(t));
  // the first second's slices were acknowledged after the last slice went out, 1.75 periods after
  // the first second's last was due: late, and counted
  const late = report.slices.filter((t) => t.acked - t.due > PERIOD_MS);
  for (const t of report.slices.filter((t) => t.second === 1)) assert.ok(late.includes(t));
  assert.equal(report.lateSlices, late.length);
  assert.equal(report.lateSeconds, new Set(late.map((t) => t.second)).size);
  assert.ok(report.lateSeconds >= 1);
});

Deno.test("closed feed: a slice goes out only once the one before is acknowledged", async () => {
  const { report, releasedBy, received } = await feedWhileHeld("closed");
  // the broker held the first slice's PUBACKs until its timer: nothing else went out meanwhile
  assert.equal(releasedBy, "the 3 s timer");
  assert.equal(received, SLICES * SECONDS * PER_SLICE);
  for (let k = 1; k < report.slices.length; k++) {
    assert.ok(report.slices[k].published >= report.slices[k - 1].acked);
  }
  // the first slice waited for the timer: its second was late
  assert.ok(report.slices[0].acked - report.slices[0].due > PERIOD_MS);
  assert.ok(report.lateSeconds >= 1);
});

Deno.test("burst feed: one slice a second, the whole second at once", async () => {
  const broker = await startHoldingBroker();
  const pub = await RawPublisher.connect(broker.url, "feed-burst");
  try {
    const report = await runFeed({
      kind: "burst",
      slices: SLICES,
      seconds: 2,
      periodMs: PERIOD_MS,
      start: performance.now(),
      send: (s) => pub.publish([0, 1, 2, 3].flatMap((i) => messages(s, i))),
    });
    assert.deepEqual(report.slices.map((t) => [t.second, t.slice]), [[1, 0], [2, 0]]);
    assert.equal(broker.received, 2 * SLICES * PER_SLICE);
  } finally {
    await pub.close();
    await broker.close();
  }
});

Deno.test("open feed: a connection that fails stops the feed with its error", async () => {
  const broker = await startHoldingBroker({ hold: true });
  const pub = await RawPublisher.connect(broker.url, "feed-fails");
  try {
    await assert.rejects(
      runFeed({
        kind: "open",
        slices: SLICES,
        seconds: 20,
        periodMs: PERIOD_MS,
        start: performance.now(),
        send: async (s, i) => {
          // the broker goes away during the second second
          if (s === 2 && i === 0) await broker.close();
          await pub.publish(messages(s, i));
        },
      }),
      /closed the connection|reset|broken pipe/i,
    );
  } finally {
    await pub.close().catch(() => {});
    await broker.close();
  }
});

Deno.test("keptUp() needs the daemon's backlog at the end under a second, whatever the PUBACKs said", () => {
  const ok = {
    seconds: 120,
    secondsFed: 120,
    lateSeconds: 0,
    sent: 1_210_000,
    trained: 1_210_000,
    shed: 0,
    rejected: 0,
    backlogAtEnd: 6000,
    perSecond: 10_000,
  };
  assert.equal(keptUp(ok), true);
  // through Mosquitto (it acknowledges on receipt): no second late, every reading trained in
  // the end, and the daemon 135,147 readings behind when the feed stopped (docs/scaling.md)
  assert.equal(keptUp({ ...ok, backlogAtEnd: 135_147 }), false);
  assert.equal(keptUp({ ...ok, backlogAtEnd: 10_000 }), false);
  assert.equal(keptUp({ ...ok, lateSeconds: 1 }), false);
  assert.equal(keptUp({ ...ok, shed: 1, trained: ok.sent - 1 }), false);
  assert.equal(keptUp({ ...ok, rejected: 1 }), false);
  assert.equal(keptUp({ ...ok, secondsFed: 119 }), false);
});
