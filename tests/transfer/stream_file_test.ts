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
import { encodeState, readState, type StateArrays } from "../../src/stream/state.ts";

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

Deno.test("importStream() refuses an edited model even with its checksums recomputed, and writes nothing", async () => {
  const kvA = await Deno.openKv(":memory:");
  const kvB = await Deno.openKv(":memory:");
  try {
    const { store } = await trainedStore(kvA);
    const file = await decodeStreamFile(
      await exportStream(store, "kitchen", "0.1.0", "a.kv"),
      "kitchen.json",
    );
    const storeB = new Store(kvB);
    /** The file with its checkpoint edited, encoded again (length and SHA-256 match). */
    const edited = async (edit: (s: Record<string, unknown>, a: StateArrays) => void) => {
      const { scalars, arrays } = readState(file.checkpoint);
      edit(scalars as Record<string, unknown>, arrays);
      const text = await encodeStreamFile({ ...file, checkpoint: encodeState(scalars, arrays) });
      return decodeStreamFile(text, "edited.json");
    };
    const cases: [string, (s: Record<string, unknown>, a: StateArrays) => void, RegExp][] = [
      ["NaN weights", (_, a) => (a.params[0] = NaN), /array "params" .* at \[0\] is NaN/],
      [
        "1e30 weights",
        (_, a) => (a.params[1] = 1e30),
        /array "params" .* at \[1\] is 1\.0+\d*e\+30/,
      ],
      ["a NaN interval state", (_, a) => (a.q[0] = NaN), /array "q" .* at \[0\] is NaN/],
      ["lastTs in 2100", (s) => (s.lastTs = Date.UTC(2100, 0, 1)), /'lastTs' must be at most/],
      ["readings: -5", (s) => (s.readings = -5), /'readings' must be an integer of at least 0/],
    ];
    for (const [what, edit, pattern] of cases) {
      await assert.rejects(
        importStream(storeB, "garage", await edited(edit), options, {
          force: false,
          where: "b.kv",
        }),
        (e: Error) => {
          assert.match(
            e.message,
            /^Cannot import stream "garage": the model must be one this forecastd can restore: Cannot restore stream state: /,
            what,
          );
          assert.match(e.message, pattern, what);
          return true;
        },
      );
    }
    assert.deepEqual(await storeB.listStreams(), [], "nothing was written");
  } finally {
    kvA.close();
    kvB.close();
  }
});

Deno.test("decodeStreamFile() and importStream() refuse a record with bad names or too many values", async () => {
  const config: StreamRecord = {
    id: "k",
    preset: "default",
    columns: ["t", "h"],
    targets: ["t"],
    periodMs: 300_000,
    frozen: false,
    createdAt: T0,
    updatedAt: T0,
  };
  const file = (c: Partial<StreamRecord>) =>
    encodeStreamFile({
      forecastd: "0.1.0",
      stream: "k",
      config: { ...config, ...c },
      checkpoint: new Uint8Array([1, 2, 3]),
    });
  const refuse = async (c: Partial<StreamRecord>, pattern: RegExp) =>
    assert.rejects(decodeStreamFile(await file(c), "f.json"), pattern);
  await refuse(
    { columns: ["t", "a/b"] },
    /config\.columns\.1: must be a value name of 1-128 characters .*: current value is "a\/b"/,
  );
  await refuse({ columns: ["t", ".."] }, /config\.columns\.1: must be a value name/);
  await refuse({ targets: ["x"] }, /config\.targets\.0: must be one of the columns \["t","h"\]/);
  await refuse({ columns: ["t", "t"] }, /config\.columns: must not repeat a name/);
  await refuse({ preset: "../etc" }, /config\.preset: must be a preset name of/);
  await refuse(
    { periodMs: 1.5 },
    /config\.periodMs: must be a positive integer number of ms or null/,
  );
  await refuse({ createdAt: -1 }, /config\.createdAt: must be a time in ms/);
  const many = Array.from({ length: 5 }, (_, i) => `v${i}`);
  const decoded = await decodeStreamFile(await file({ columns: many, targets: many }), "f.json");
  const kv = await Deno.openKv(":memory:");
  try {
    await assert.rejects(
      importStream(new Store(kv), "k", decoded, { maxValuesPerStream: 4 }, {
        force: false,
        where: "x.kv",
      }),
      /^Error: Cannot import stream "k": its values must hold at most 4 values \(maxValuesPerStream\): current count is 5$/,
    );
  } finally {
    kv.close();
  }
});
