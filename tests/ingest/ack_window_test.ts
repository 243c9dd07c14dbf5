/**
 * AckWindow alone (src/ingest/ack_window.ts): the order of the
 * acknowledgements, the bound, copies sent again, messages not taken. The
 * same window on a real Mosquitto: tests/ingest/mqtt_window_test.ts.
 */
import assert from "node:assert/strict";
import { AckWindow, type Outcome, type WindowMessage } from "../../src/ingest/ack_window.ts";

/** A message of packet id `id`, its payload the id's digits. */
function msg(id: number, dup = false, payload = String(id)): WindowMessage {
  return { id, topic: "sensors/a/v", payload: new TextEncoder().encode(payload), dup };
}

/** A promise settled from outside. */
function later(): { promise: Promise<boolean>; settle: (ok: boolean) => void } {
  let settle!: (ok: boolean) => void;
  const promise = new Promise<boolean>((r) => settle = r);
  return { promise, settle };
}

const turn = () => new Promise((r) => setTimeout(r, 0));

Deno.test("AckWindow acknowledges in the order messages came, whatever order they are taken in, and holds the connection while full", async () => {
  const acked: number[] = [];
  const w = new AckWindow({ size: 3, retryMs: 10, acknowledge: (ids) => acked.push(...ids) });
  const takes = [later(), later(), later(), later()];
  let reads = 0;
  for (let i = 0; i < 3; i++) w.add(msg(i + 1), () => takes[i].promise, () => reads++);
  assert.equal(reads, 2, "the third message fills the window: the next packet waits");
  takes[2].settle(true);
  takes[1].settle(true);
  await turn();
  assert.deepEqual(acked, [], "2 and 3 wait for 1");
  takes[0].settle(true);
  await turn();
  assert.deepEqual(acked, [1, 2, 3]);
  assert.equal(reads, 3, "room again: the next packet is read");
  w.add(msg(0), () => true, () => reads++);
  assert.deepEqual(acked, [1, 2, 3], "QoS 0: nothing to acknowledge");
  assert.equal(w.length, 0);
  assert.equal(w.peak, 3);
});

Deno.test("AckWindow takes a copy sent again once only: a DUP copy of a message taken is a duplicate, other messages of the same id are not", async () => {
  const acked: number[] = [];
  const duplicates: number[] = [];
  const w = new AckWindow({
    size: 10,
    retryMs: 10,
    acknowledge: (ids) => acked.push(...ids),
    duplicate: (m) => duplicates.push(m.id),
  });
  const taken: number[] = [];
  const take = (id: number, outcome: Outcome = true) => () => (taken.push(id), outcome);
  const first = later();
  w.add(msg(1), take(1, first.promise), () => {});
  w.add(msg(2), take(2), () => {});
  w.add(msg(3), take(3), () => {});
  w.reset(); // the connection drops: 1 being taken, 2 and 3 taken, none acknowledged
  assert.deepEqual(acked, []);
  w.add(msg(1, true), take(10), () => {}); // waits for the first copy
  w.add(msg(2, true), take(20), () => {});
  w.add(msg(3, false), take(30), () => {}); // no DUP: a new message
  first.settle(true);
  await turn();
  await turn();
  assert.deepEqual(taken, [1, 2, 3, 30]);
  assert.deepEqual(duplicates, [2, 1], "2 at once, 1 once its first copy was taken");
  assert.deepEqual(acked, [1, 2, 3]);

  w.add(msg(4), () => true, () => {});
  w.reset();
  w.add(msg(4, true, "another payload"), take(40), () => {});
  w.add(msg(5), () => true, () => {});
  w.reset(true); // the broker lost the session: nothing comes again
  w.add(msg(5, true), take(50), () => {});
  assert.deepEqual(taken, [1, 2, 3, 30, 40, 50]);
  assert.deepEqual(duplicates, [2, 1]);
});

Deno.test("AckWindow hands a message not taken over again after retryMs, in order, with nothing after it acknowledged meanwhile; close() stops that", async () => {
  const acked: number[] = [];
  let notTaken = 0;
  const w = new AckWindow({
    size: 10,
    retryMs: 20,
    acknowledge: (ids) => acked.push(...ids),
    notTaken: () => notTaken++,
  });
  const tries = new Map<number, number>();
  const take = (id: number, failures: number) => () => {
    const n = (tries.get(id) ?? 0) + 1;
    tries.set(id, n);
    return n > failures;
  };
  w.add(msg(1), take(1, 0), () => {});
  w.add(msg(2), take(2, 1), () => {});
  w.add(msg(3), take(3, 0), () => {});
  w.add(msg(4), take(4, 1), () => {});
  assert.deepEqual(acked, [1], "3 waits for 2");
  assert.equal(notTaken, 1);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(acked, [1, 2, 3, 4]);
  assert.deepEqual([...tries], [[1, 1], [2, 2], [3, 1], [4, 2]], "3 taken once");

  w.add(msg(5), take(5, 1), () => {});
  w.close();
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(tries.get(5), 1, "closed: left for the broker to send again");
  await w.settled();
  assert.deepEqual(acked, [1, 2, 3, 4]);
});

Deno.test("AckWindow is full at maxBytes of payloads too, and takes one message bigger than that", async () => {
  const acked: number[] = [];
  const w = new AckWindow({
    size: 100,
    maxBytes: 100,
    retryMs: 10,
    acknowledge: (ids) => acked.push(...ids),
  });
  const takes = [later(), later(), later(), later()];
  let reads = 0;
  const forty = "x".repeat(40);
  for (let i = 0; i < 3; i++) {
    w.add(msg(i + 1, false, forty), () => takes[i].promise, () => reads++);
  }
  assert.equal(reads, 2, "120 bytes of payloads fill a window of 100 bytes: the next packet waits");
  takes[0].settle(true);
  await turn();
  assert.deepEqual(acked, [1]);
  assert.equal(reads, 3, "80 bytes: room again");
  takes[1].settle(true);
  takes[2].settle(true);
  await turn();
  assert.equal(w.length, 0);
  w.add(msg(4, false, "y".repeat(500)), () => takes[3].promise, () => reads++);
  assert.equal(reads, 3, "one message bigger than the bound is taken, and fills the window");
  takes[3].settle(true);
  await turn();
  assert.deepEqual(acked, [1, 2, 3, 4]);
  assert.equal(reads, 4);
});
