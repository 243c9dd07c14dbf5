/**
 * The stream file of export/import: encode and decode round trip, every
 * refusal with its reason, and import into a :memory: store through the
 * daemon's own restore path.
 */
import assert from "node:assert/strict";
import {
  decodeStreamFile,
  encodeStreamFile,
  exportStream,
  importStream,
  STREAM_FILE_FORMAT,
} from "../../src/transfer/stream_file.ts";
import { Service, type ServiceOptions, type StreamRecord } from "../../src/service/service.ts";
import { Store } from "../../src/store/store.ts";
import { captureLog } from "../../src/log.ts";

/** The service settings of the daemon the import is for (the defaults). */
const options: ServiceOptions = {};
const T0 = Date.UTC(2025, 5, 2);

/** A store holding stream "kitchen" after 100 readings and a checkpoint. */
async function trainedStore(kv: Deno.Kv): Promise<{ store: Store; forecast: unknown }> {
  const store = new Store(kv);
  const svc = new Service({ options, store, log: captureLog().log });
  const readings = Array.from({ length: 100 }, (_, i) => ({
    stream: "kitchen",
    ts: T0 + i * 300_000,
    values: { temperature: 21 + Math.sin(i / 10) },
  }));
  await svc.ingest(readings, "http");
  const forecast = svc.forecast("kitchen");
  await svc.close();
  return { store, forecast };
}

Deno.test("encodeStreamFile() and decodeStreamFile() round-trip the record and the checkpoint bytes", async () => {
  const config: StreamRecord = {
    id: "k",
    preset: "default",
    columns: ["t"],
    targets: ["t"],
    periodMs: null,
    frozen: false,
    createdAt: T0,
    updatedAt: null,
  };
  const checkpoint = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 255);
  const text = await encodeStreamFile({ forecastd: "0.1.0", stream: "k", config, checkpoint });
  const doc = JSON.parse(text);
  assert.equal(doc.format, STREAM_FILE_FORMAT);
  assert.equal(doc.version, 1);
  assert.equal(doc.checkpoint.bytes, 70_000);
  const back = await decodeStreamFile(text, "k.json");
  assert.deepEqual(back.config, config);
  assert.deepEqual(back.checkpoint, checkpoint);
});

Deno.test("decodeStreamFile() refuses other JSON, a wrong version, a truncated or altered checkpoint", async () => {
  const config: StreamRecord = {
    id: "k",
    preset: "default",
    columns: ["t"],
    targets: ["t"],
    periodMs: 300_000,
    frozen: false,
    createdAt: T0,
    updatedAt: T0,
  };
  const good = JSON.parse(
    await encodeStreamFile({
      forecastd: "0.1.0",
      stream: "k",
      config,
      checkpoint: new Uint8Array([1, 2, 3, 4, 5, 6]),
    }),
  );
  const refuse = (doc: unknown, pattern: RegExp) =>
    assert.rejects(decodeStreamFile(JSON.stringify(doc), "f.json"), pattern);
  await assert.rejects(
    decodeStreamFile("{", "f.json"),
    /Cannot import f\.json: the file must be JSON/,
  );
  await refuse({ hello: 1 }, /format: must be "forecastd-stream"/);
  await refuse({ ...good, version: 2 }, /version: must be 1/);
  await refuse({ ...good, stream: "a b" }, /stream: must be a stream id/);
  await refuse(
    { ...good, checkpoint: { ...good.checkpoint, bytes: 7 } },
    /must be 7 bytes as the file states: current length is 6/,
  );
  await refuse(
    { ...good, checkpoint: { ...good.checkpoint, base64: btoa("\x01\x02\x03\x04\x05\x07") } },
    /SHA-256 must be [0-9a-f]{64} as the file states/,
  );
});

Deno.test("exportStream() then importStream() under another id gives a stream that forecasts the same", async () => {
  const kvA = await Deno.openKv(":memory:");
  const kvB = await Deno.openKv(":memory:");
  try {
    const { store, forecast } = await trainedStore(kvA);
    const text = await exportStream(store, "kitchen", "0.1.0", "a.kv");
    await assert.rejects(
      exportStream(store, "pantry", "0.1.0", "a.kv"),
      /Cannot export stream "pantry": it must have a saved checkpoint in a\.kv: there is no such stream; streams there: kitchen/,
    );
    const file = await decodeStreamFile(text, "kitchen.json");
    const storeB = new Store(kvB);
    const r = await importStream(storeB, "garage", file, options, { force: false, where: "b.kv" });
    assert.deepEqual(r, { stream: "garage", replaced: false, bytes: file.checkpoint.length });
    await assert.rejects(
      importStream(storeB, "garage", file, options, { force: false, where: "b.kv" }),
      /must not exist yet in b\.kv: it does \(add --force to replace it\)/,
    );
    assert.equal(
      (await importStream(storeB, "garage", file, options, { force: true, where: "b.kv" }))
        .replaced,
      true,
    );
    const svc = new Service({ options, store: storeB, log: captureLog().log });
    await svc.load();
    assert.deepEqual(svc.forecast("garage"), { ...(forecast as object), stream: "garage" });
    assert.equal(svc.records.get("garage")!.id, "garage");
    await svc.close();
  } finally {
    kvA.close();
    kvB.close();
  }
});

Deno.test("importStream() refuses a model this forecastd cannot restore, and writes nothing", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new Store(kv);
    const file = {
      forecastd: "0.1.0",
      exportedAt: "x",
      stream: "k",
      config: {
        id: "k",
        preset: "no-such-preset",
        columns: ["t"],
        targets: ["t"],
        periodMs: null,
        frozen: false,
        createdAt: T0,
        updatedAt: null,
      },
      checkpoint: new Uint8Array([1, 2, 3]),
    };
    await assert.rejects(
      importStream(store, "k", file, options, { force: false, where: "x.kv" }),
      /Cannot import stream "k": the model must be one this forecastd can restore: .*preset/,
    );
    assert.deepEqual(await store.listStreams(), []);
  } finally {
    kv.close();
  }
});
