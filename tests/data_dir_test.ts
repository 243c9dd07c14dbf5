/** The data directory lock: one owner at a time, released on demand. */
import assert from "node:assert/strict";
import { DataDirBusyError, lockDataDir, lockPath } from "../src/data_dir.ts";

Deno.test("lockDataDir() creates the directory, writes the pid, and a second lock is refused naming it", async () => {
  const parent = await Deno.makeTempDir({ prefix: "forecastd-lock-" });
  const dir = `${parent}/nested/data`;
  try {
    const lock = await lockDataDir(dir, "Cannot start forecastd");
    try {
      assert.equal((await Deno.readTextFile(lockPath(dir))).trim(), String(Deno.pid));
      await assert.rejects(lockDataDir(dir, 'Cannot import stream "k"'), (e: unknown) => {
        assert.ok(e instanceof DataDirBusyError);
        assert.equal(e.pid, Deno.pid);
        assert.match(
          e.message,
          /^Cannot import stream "k": data directory ".*" must not be in use/,
        );
        assert.match(e.message, new RegExp(`locked by pid ${Deno.pid}`));
        return true;
      });
    } finally {
      lock.release();
      lock.release(); // twice is fine
    }
    const again = await lockDataDir(dir, "Cannot start forecastd");
    again.release();
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
