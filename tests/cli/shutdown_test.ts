import assert from "node:assert/strict";
import { SIGNAL_REPEAT_MS, startHardExit, waitForSignal } from "../../src/cli/shutdown.ts";
import { guardUnhandledRejections } from "../../src/cli/unhandled_rejections.ts";
import { captureLog } from "../../src/log.ts";

/** Signals a test sends by hand, a clock it moves, and the exits asked for. */
function fakeProcess() {
  const listeners = new Map<Deno.Signal, () => void>();
  const exits: number[] = [];
  let clock = 1000;
  return {
    exits,
    listen: (s: Deno.Signal, fn: () => void) => void listeners.set(s, fn),
    exit: (code: number) => void exits.push(code),
    now: () => clock,
    send(s: Deno.Signal, afterMs: number) {
      clock += afterMs;
      listeners.get(s)!();
    },
  };
}

Deno.test("the first signal shuts down, a second is ignored (the final checkpoint runs), a third exits", async () => {
  const p = fakeProcess();
  const { log, entries } = captureLog("debug");
  const stopped = waitForSignal(log, p);
  p.send("SIGINT", 0);
  assert.equal(await stopped, "SIGINT");
  p.send("SIGTERM", 1000);
  assert.deepEqual(p.exits, [], "the second signal does not exit");
  const ignored = entries().find((e) => e.event === "shutdown.signal_ignored")!;
  assert.equal(ignored.level, "warn");
  assert.match(String(ignored.hint), /final checkpoint is being saved; a third signal exits/);
  p.send("SIGINT", 1000);
  assert.deepEqual(p.exits, [130]);
  assert.ok(entries().some((e) => e.event === "shutdown.forced"));
});

Deno.test("a signal passed on by a wrapper right after the first (npx, deno task) is the same press", async () => {
  const p = fakeProcess();
  const { log, entries } = captureLog("debug");
  const stopped = waitForSignal(log, p);
  // Ctrl-C under npx: the terminal's SIGINT and npm's forwarded one, 7 ms apart
  p.send("SIGINT", 0);
  p.send("SIGINT", 7);
  p.send("SIGINT", 7);
  assert.equal(await stopped, "SIGINT");
  assert.equal(entries().filter((e) => e.event === "shutdown.signal_repeated").length, 2);
  assert.ok(!entries().some((e) => e.event === "shutdown.signal_ignored"));
  // two more presses: the second press is ignored, the third exits
  p.send("SIGINT", SIGNAL_REPEAT_MS);
  p.send("SIGINT", 5);
  assert.deepEqual(p.exits, []);
  p.send("SIGINT", SIGNAL_REPEAT_MS);
  assert.deepEqual(p.exits, [130]);
});

Deno.test("guardUnhandledRejections() logs and counts a rejection nobody handled; the process goes on", async () => {
  const { log, entries } = captureLog("debug");
  let count = 0;
  const unguard = guardUnhandledRejections(log, () => count++);
  try {
    Promise.reject(new Error("nobody awaits this"));
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(count, 1);
    const logged = entries().find((e) => e.event === "process.unhandled_rejection")!;
    assert.equal(logged.level, "error");
    assert.match(JSON.stringify(logged.error), /nobody awaits this/);
  } finally {
    unguard();
  }
});

Deno.test("startHardExit() logs how far the final save got and exits 1 when the time is up; cleared, it does nothing", async () => {
  const { log, entries } = captureLog("debug");
  const exits: number[] = [];
  let saved = 0;
  startHardExit(log, 30, () => ({ streamsSaved: saved, streamsCut: 10 - saved }), (c) => {
    exits.push(c);
  });
  saved = 4;
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(exits, [1]);
  const cut = entries().find((e) => e.event === "shutdown.timeout")!;
  assert.equal(cut.level, "error");
  assert.deepEqual([cut.timeoutMs, cut.streamsSaved, cut.streamsCut], [30, 4, 6]);
  const clear = startHardExit(log, 20, () => ({}), (c) => exits.push(c));
  clear();
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(exits, [1], "a cleared timer exits not");
});
