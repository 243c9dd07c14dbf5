/**
 * bench/worker_pairing.ts's flags: an unknown mode is refused before any
 * window runs, naming the modes it knows and the one it was given.
 */
import assert from "node:assert/strict";

const BENCH = new URL("../../bench/worker_pairing.ts", import.meta.url).pathname;

Deno.test("worker_pairing refuses an unknown mode, naming it, before any window runs", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-run", "--allow-read", BENCH, "--modes=alone,cache", "--rounds=1"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 2, stderr);
  assert.match(stderr, /--modes must be of alone,worker,alu,mem,llc,alu-same/);
  assert.match(stderr, /current value is "cache"/);
  assert.equal(new TextDecoder().decode(out.stdout), "");
});
