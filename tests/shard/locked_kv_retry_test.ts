import assert from "node:assert/strict";
import { retryLocked, whileLocked } from "../../src/shard/locked_kv_retry.ts";
import { withTempDir } from "../_helpers.ts";

Deno.test("whileLocked() retries 'database is locked' and passes any other error at once", async () => {
  let calls = 0;
  const value = await whileLocked(() => {
    calls++;
    return calls < 3 ? Promise.reject(new TypeError("database is locked")) : Promise.resolve(7);
  }, 5000);
  assert.equal(value, 7);
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(
    whileLocked(() => {
      calls++;
      return Promise.reject(new TypeError("disk I/O error"));
    }, 5000),
    /disk I\/O error/,
  );
  assert.equal(calls, 1);
  await assert.rejects(
    whileLocked(() => Promise.reject(new TypeError("database is locked")), 20),
    /database is locked/,
  );
});

Deno.test("two handles on one KV file commit 200 times each at once without an error", async () => {
  await withTempDir(async (dir) => {
    const a = retryLocked(await Deno.openKv(`${dir}/kv`));
    const b = retryLocked(await Deno.openKv(`${dir}/kv`));
    try {
      const write = (kv: Deno.Kv, who: string) =>
        Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            kv.atomic().set([who, i], new Uint8Array(1024)).commit()),
        );
      const [ra, rb] = await Promise.all([write(a, "a"), write(b, "b")]);
      assert.ok([...ra, ...rb].every((r) => r.ok));
      assert.equal((await b.get(["a", 199])).value instanceof Uint8Array, true);
    } finally {
      a.close();
      b.close();
    }
  });
});
