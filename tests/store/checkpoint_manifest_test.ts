import assert from "node:assert/strict";
import {
  newVersionId,
  parseJournalEntry,
  parseManifest,
  sha256Checksum,
} from "../../src/store/checkpoint_manifest.ts";
import { VERSION_PATTERN } from "../../src/store/keys.ts";

Deno.test("sha256Checksum() matches the FIPS 180-2 test vectors", async () => {
  const text = new TextEncoder();
  assert.equal(
    await sha256Checksum(text.encode("abc")),
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    await sha256Checksum(new Uint8Array(0)),
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  // a view into a bigger buffer hashes only its own bytes
  const buf = text.encode("xxabcxx");
  assert.equal(await sha256Checksum(buf.subarray(2, 5)), await sha256Checksum(text.encode("abc")));
});

Deno.test("newVersionId() gives distinct ids that key builders accept, ordered by time", () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newVersionId(1_700_000_000_000)));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, VERSION_PATTERN);
  assert.ok(newVersionId(1_700_000_000_000) < newVersionId(1_800_000_000_000));
});

Deno.test("parseManifest() and parseJournalEntry() name the bad field", () => {
  const good = {
    format: 1,
    version: "lz-0f",
    byteLength: 70_000,
    chunkCount: 2,
    chunkSize: 65_536,
    checksum: `sha256:${"0".repeat(64)}`,
    createdAt: 5,
  };
  assert.deepEqual(parseManifest(good, "s"), good);
  assert.throws(
    () => parseManifest({ ...good, byteLength: -1 }, "s"),
    /^TypeError: Cannot read checkpoint manifest of stream "s": byteLength must be a non-negative integer: current value is -1$/,
  );
  assert.throws(
    () => parseManifest({ ...good, checksum: "crc32:1234" }, "s"),
    /checksum must be "sha256:" and 64 hex digits: current value is "crc32:1234"$/,
  );
  assert.throws(
    () => parseManifest(null, "s"),
    /the manifest must be an object: current value is null$/,
  );
  assert.throws(
    () => parseJournalEntry({ state: "done", chunkCount: 1, createdAt: 0 }, "s", "lz-0f"),
    /^TypeError: Cannot read journal entry of stream "s" version lz-0f: state must be "writing", "obsolete" or "aborted": current value is "done"$/,
  );
});
