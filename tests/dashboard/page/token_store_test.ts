import assert from "node:assert/strict";
import {
  MemoryStorage,
  type StorageLike,
  TOKEN_KEY,
  TokenStore,
} from "../../../src/dashboard/page/token_store.ts";

Deno.test("TokenStore keeps the token for the session, or on the device when remembered, one at a time", () => {
  const session = new MemoryStorage(), local = new MemoryStorage();
  const store = new TokenStore(session, local);
  assert.equal(store.load(), null);
  store.save("fcd_a", false);
  assert.deepEqual(store.load(), { token: "fcd_a", remembered: false });
  assert.deepEqual([session.getItem(TOKEN_KEY), local.getItem(TOKEN_KEY)], ["fcd_a", null]);
  store.save("fcd_b", true);
  assert.deepEqual(store.load(), { token: "fcd_b", remembered: true });
  assert.deepEqual([session.getItem(TOKEN_KEY), local.getItem(TOKEN_KEY)], [null, "fcd_b"]);
  store.save("fcd_c", false);
  assert.deepEqual([session.getItem(TOKEN_KEY), local.getItem(TOKEN_KEY)], ["fcd_c", null]);
  store.forget();
  assert.deepEqual([session.getItem(TOKEN_KEY), local.getItem(TOKEN_KEY)], [null, null]);
  assert.equal(store.load(), null);
});

Deno.test("TokenStore prefers the session's token, and an empty one counts as none", () => {
  const session = new MemoryStorage(), local = new MemoryStorage();
  local.setItem(TOKEN_KEY, "fcd_device");
  const store = new TokenStore(session, local);
  assert.deepEqual(store.load(), { token: "fcd_device", remembered: true });
  session.setItem(TOKEN_KEY, "fcd_tab");
  assert.deepEqual(store.load(), { token: "fcd_tab", remembered: false });
  session.setItem(TOKEN_KEY, "");
  assert.deepEqual(store.load(), { token: "fcd_device", remembered: true });
});

Deno.test("TokenStore survives storage that throws (switched off, full)", () => {
  const broken: StorageLike = {
    getItem: () => {
      throw new Error("SecurityError");
    },
    setItem: () => {
      throw new Error("QuotaExceededError");
    },
    removeItem: () => {
      throw new Error("SecurityError");
    },
  };
  const store = new TokenStore(broken, broken);
  store.save("fcd_x", true);
  assert.equal(store.load(), null);
  store.forget();
});
