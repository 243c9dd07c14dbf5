import assert from "node:assert/strict";
import {
  lowerThreadPriority,
  MAX_NICE,
  threadPriorityProblem,
} from "../../src/shard/lower_thread_priority.ts";

Deno.test("lowerThreadPriority() refuses steps that are not an integer from 0 to 19", () => {
  for (const bad of [-1, 20, 2.5, NaN]) {
    assert.throws(
      () => lowerThreadPriority(bad),
      new RangeError(
        `Cannot lower the thread's priority: steps must be an integer from 0 to ${MAX_NICE}: ` +
          `current value is ${bad}`,
      ),
    );
  }
});

Deno.test("threadPriorityProblem() says why outside Linux: a nice value is the whole process's there", () => {
  assert.equal(
    threadPriorityProblem("darwin"),
    "a nice value is a thread's own on Linux only (on darwin it is the whole process's, the " +
      "main thread's too)",
  );
});

Deno.test("threadPriorityProblem() on Linux names the permissions Deno lacks, or none", () => {
  const denied = (["getPriority", "setPriority"] as const).filter((kind) =>
    Deno.permissions.querySync({ name: "sys", kind }).state !== "granted"
  );
  assert.equal(
    threadPriorityProblem("linux"),
    denied.length === 0 ? null : "Deno must be allowed to set a thread's priority " +
      `(--allow-sys=${denied.join(",")})`,
  );
});
