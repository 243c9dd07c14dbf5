import assert from "node:assert/strict";
import { startEmbeddedBroker } from "../../src/ingest/broker.ts";
import type { ReadAheadOptions } from "../../src/ingest/read_ahead.ts";
import { ReadAhead } from "../../src/ingest/read_ahead.ts";
import { captureLog } from "../../src/log.ts";

const encoder = new TextEncoder();

/** The MQTT remaining length. */
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 128;
    out.push(b);
  } while (n > 0);
  return out;
}

const str = (s: string) => {
  const b = encoder.encode(s);
  return [b.length >> 8, b.length & 0xff, ...b];
};

/** A QoS 1 PUBLISH of `payload` on `topic` with packet id `id`. */
function publishPacket(topic: string, id: number, payload: string): number[] {
  const body = [...str(topic), id >> 8, id & 0xff, ...encoder.encode(payload)];
  return [0x32, ...varint(body.length), ...body];
}

/**
 * A device on one connection that writes `n` QoS 1 PUBLISHes of about 330
 * bytes in one write (some 1 MB: several reads of the broker's socket) and
 * counts the PUBACKs it gets, in the order they come.
 */
async function flood(url: string, n: number) {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const connect = [0x00, 0x04, ...encoder.encode("MQTT"), 4, 0x02, 0, 60, ...str("flood")];
  await conn.write(new Uint8Array([0x10, ...varint(connect.length), ...connect]));
  // the CONNACK first: aedes drops a client that sends more than 42 packets before it
  const connack = new Uint8Array(4);
  for (let got = 0; got < 4;) {
    const k = await conn.read(connack.subarray(got));
    if (k === null) throw new Error("the broker closed the connection before its CONNACK");
    got += k;
  }
  assert.deepEqual([...connack], [0x20, 2, 0, 0], "CONNACK: accepted");
  const acks: number[] = [];
  let closed = false;
  const reading = (async () => {
    const buf = new Uint8Array(65536);
    let rest: number[] = [];
    for (;;) {
      const k = await conn.read(buf).catch(() => null);
      if (k === null) break;
      rest = [...rest, ...buf.subarray(0, k)];
      while (rest.length >= 4) {
        if (rest[0] === 0x40) acks.push((rest[2] << 8) | rest[3]);
        rest = rest.slice(rest[0] === 0x40 ? 4 : 2 + rest[1]);
      }
    }
    closed = true;
  })();
  const bytes: number[] = [];
  const pad = "x".repeat(300);
  for (let i = 1; i <= n; i++) {
    bytes.push(...publishPacket("sensors/a/v", i, `{"value":${i},"pad":"${pad}"}`));
  }
  const all = new Uint8Array(bytes);
  for (let at = 0; at < all.length;) at += await conn.write(all.subarray(at));
  return {
    acks,
    get closed() {
      return closed;
    },
    async close() {
      conn.close();
      await reading;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A broker whose onMessage holds every message until release(); what it was handed so far. */
async function holdingBroker(readAhead?: ReadAheadOptions) {
  const held: (() => void)[] = [];
  let handed = 0;
  const broker = await startEmbeddedBroker({
    port: 0,
    log: captureLog().log,
    ...(readAhead ? { readAhead } : {}),
    onMessage: () => {
      handed++;
      return new Promise<boolean>((resolve) => held.push(() => resolve(true)));
    },
  });
  return {
    broker,
    get handed() {
      return handed;
    },
    release() {
      for (const r of held.splice(0)) r();
    },
  };
}

/** Waits until `ok()` or `ms` pass; returns ok(). */
async function settle(ok: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await sleep(20);
  return ok();
}

Deno.test("the embedded broker reads a connection on past 1000 publishes still being taken, and acknowledges none of them before", async () => {
  const b = await holdingBroker();
  const device = await flood(b.broker.url, 3000);
  try {
    // aedes alone hands over one read of the socket (some 190 of these) and waits for them
    await settle(() => b.handed >= 1000);
    await sleep(200);
    assert.ok(b.handed >= 1000, `read on while taken: handed ${b.handed} of 3000`);
    assert.ok(b.handed < 3000, `the bound holds: handed ${b.handed} of 3000`);
    assert.equal(device.acks.length, 0, "no PUBACK before its readings are taken");
    // each one taken lets more in, until every one is
    for (let k = 0; k < 20 && b.handed < 3000; k++) {
      b.release();
      await settle(() => b.handed === 3000, 200);
    }
    b.release();
    assert.ok(await settle(() => device.acks.length === 3000), `acks ${device.acks.length}`);
    assert.deepEqual(new Set(device.acks).size, 3000, "each message acknowledged once");
    assert.equal(device.closed, false);
  } finally {
    b.release();
    await device.close();
    await b.broker.close();
  }
});

Deno.test("the broker's read-ahead holds to its bound: with messages 0 it reads as aedes alone, with 300 at most that and a read more", async () => {
  for (const messages of [0, 300]) {
    const b = await holdingBroker({ messages });
    const device = await flood(b.broker.url, 3000);
    try {
      await settle(() => b.handed >= Math.max(messages, 1));
      await sleep(300);
      // one read of the socket: at most 64 KiB, some 190 PUBLISHes of 340 bytes
      assert.ok(b.handed >= messages, `messages ${messages}: handed ${b.handed}`);
      assert.ok(b.handed <= messages + 600, `messages ${messages}: handed ${b.handed}`);
      for (let k = 0; k < 40 && device.acks.length < 3000; k++) {
        b.release();
        await settle(() => device.acks.length === 3000, 100);
      }
      assert.equal(device.acks.length, 3000, `messages ${messages}: every one taken in the end`);
    } finally {
      b.release();
      await device.close();
      await b.broker.close();
    }
  }
});

Deno.test("ReadAhead releases a client's read while its bound has room, and gives its count back", async () => {
  const ahead = new ReadAhead({ messages: 2, bytes: 100 });
  let reads = 0;
  const client = {
    _parsingBatch: 3,
    _nextBatch() {
      if (--this._parsingBatch <= 0) {
        this._parsingBatch = 0;
        reads++;
      }
    },
  };
  const first = ahead.release(client, 60);
  const second = ahead.release(client, 60);
  assert.ok(first !== null);
  assert.equal(second, null, "over its bytes: holds the read as before");
  const third = ahead.release(client, 10);
  assert.ok(third !== null);
  assert.equal(ahead.release(client, 1), null, "over its messages");
  assert.deepEqual(ahead.inFlight, { messages: 2, bytes: 70 });
  await Promise.resolve();
  assert.equal(client._parsingBatch, 1, "two of the read's three packets no longer hold it");
  assert.equal(reads, 0);
  first!();
  assert.equal(client._parsingBatch, 2, "counted back before aedes counts it done");
  client._nextBatch();
  assert.deepEqual(ahead.inFlight, { messages: 1, bytes: 10 });
  assert.equal(ahead.release({}, 1), null, "a client without aedes's count is left as it is");
  assert.throws(() => new ReadAhead({ messages: -1 }), /messages must be a non-negative integer/);
});

Deno.test("ReadAhead leaves a paused client's count as it is (aedes counts nothing done while paused)", async () => {
  const ahead = new ReadAhead();
  const client = { _parsingBatch: 2, _paused: true, _nextBatch() {} };
  const before = ahead.release(client, 10);
  await Promise.resolve();
  assert.equal(client._parsingBatch, 2, "still holds its read");
  before!();
  assert.equal(client._parsingBatch, 2, "nothing to count back");
  assert.deepEqual(ahead.inFlight, { messages: 0, bytes: 0 });
});
