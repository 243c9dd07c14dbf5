import assert from "node:assert/strict";
import { InOrder } from "../../src/async/in_order.ts";

const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("InOrder hands on in the order the turns were taken, whatever order the work finishes in", async () => {
  const order = new InOrder();
  const handed: string[] = [];
  const message = async (name: string, workMs: number) => {
    const turn = order.next(); // at once, as a message arrives
    await later(workMs); // parsing: the big message takes longest
    await turn.ready;
    handed.push(name);
    turn.done();
  };
  await Promise.all([message("big", 30), message("small", 0), message("medium", 10)]);
  assert.deepEqual(handed, ["big", "small", "medium"]);
});

Deno.test("InOrder: a turn done early still waits for the earlier ones, and done() twice does nothing", async () => {
  const order = new InOrder();
  const first = order.next();
  const second = order.next();
  second.done();
  second.done();
  const third = order.next();
  let ready = false;
  third.ready.then(() => (ready = true));
  await later(5);
  assert.equal(ready, false, "the first turn is not done yet");
  first.done();
  await third.ready;
  assert.equal(ready, true);
});

Deno.test("InOrder is idle only while no turn is open; done() twice counts once", async () => {
  const order = new InOrder();
  assert.equal(order.idle, true);
  const a = order.next();
  const b = order.next();
  assert.equal(order.idle, false);
  a.done();
  a.done();
  assert.equal(order.idle, false, "b is still open");
  await b.ready;
  b.done();
  assert.equal(order.idle, true);
});
