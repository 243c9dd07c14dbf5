import assert from "node:assert/strict";
import { SerialQueue } from "../../src/store/serial_queue.ts";

Deno.test("SerialQueue runs tasks one at a time in order, and a failure does not stop the next", async () => {
  const q = new SerialQueue();
  const log: string[] = [];
  const task = (name: string, fail = false) => async () => {
    log.push(`${name} start`);
    await new Promise((r) => setTimeout(r, 1));
    log.push(`${name} end`);
    if (fail) throw new Error(`${name} failed`);
    return name;
  };
  const results = await Promise.allSettled([
    q.run(task("a")),
    q.run(task("b", true)),
    q.run(task("c")),
  ]);
  assert.deepEqual(log, ["a start", "a end", "b start", "b end", "c start", "c end"]);
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
});
