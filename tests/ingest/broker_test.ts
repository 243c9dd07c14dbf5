/**
 * The embedded broker on 127.0.0.1 port 0 with real MQTT.js clients.
 */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { captureLog } from "../../src/log.ts";
import { Buffer } from "node:buffer";
import { isLoopback, readableBy, startEmbeddedBroker } from "../../src/ingest/broker.ts";
import { hashPassword } from "../../src/ingest/broker_users.ts";
import { publishFromAnotherProcess } from "./_publisher.ts";
import { writeToStream } from "mqtt-packet";

Deno.test("the embedded broker acknowledges and delivers publishes of 100 KB to 1 MB from another process at QoS 1", async () => {
  const broker = await startEmbeddedBroker({
    port: 0,
    log: captureLog().log,
    defaultRead: ["big/#"],
  });
  const sub = await mqtt.connectAsync(broker.url, { clientId: "sub", reconnectPeriod: 0 });
  try {
    const got: number[] = [];
    sub.on("message", (_topic, payload) => got.push(payload.length));
    await sub.subscribeAsync("big/#", { qos: 1 });
    const sizes = [100_000, 150_000, 200_000, 300_000, 500_000, 700_000, 1_000_000];
    const sent = await publishFromAnotherProcess(broker.url, "big/x", 1, sizes);
    assert.deepEqual(
      sent.map((s) => [s.size, s.acked]),
      sizes.map((s) => [s, true]),
      "every publish was acknowledged within 5 s",
    );
    const deadline = Date.now() + 5000;
    while (got.length < sizes.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(got, sizes, "the subscriber got every payload whole, in order");
  } finally {
    await sub.endAsync();
    await broker.close();
  }
});

/** Waits until `cond()` holds, or fails with `what`. */
async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** MQTT.js's connect, returning the error instead of throwing it. */
async function tryConnect(
  url: string,
  opts: mqtt.IClientOptions,
): Promise<mqtt.MqttClient | Error> {
  try {
    return await mqtt.connectAsync(url, { reconnectPeriod: 0, ...opts });
  } catch (e) {
    return e as Error;
  }
}

Deno.test("the embedded broker writes packet ids without mqtt-packet's cache of 65,536 buffers", async () => {
  const broker = await startEmbeddedBroker({ port: 0, log: captureLog().log });
  assert.equal(writeToStream.cacheNumbers, false, "no cache to build at the first packet");
  const c = await mqtt.connectAsync(broker.url, { clientId: "ids", reconnectPeriod: 0 });
  try {
    // PUBACKs of ids across both bytes, written without the cache
    for (let i = 0; i < 300; i++) await c.publishAsync("sensors/ids", String(i), { qos: 1 });
    assert.equal(writeToStream.cacheNumbers, false);
  } finally {
    await c.endAsync();
    await broker.close();
  }
});

Deno.test("onMessage gets a QoS 1 or 2 publish before the publisher has its acknowledgement", async () => {
  const seen: string[] = [];
  const broker = await startEmbeddedBroker({
    port: 0,
    log: captureLog().log,
    onMessage: (m) => seen.push(`${m.topic} ${new TextDecoder().decode(m.payload)} q${m.qos}`),
  });
  const device = await mqtt.connectAsync(broker.url, { clientId: "dev", reconnectPeriod: 0 });
  try {
    await device.publishAsync("sensors/a/v", "1", { qos: 1 });
    assert.deepEqual(seen, ["sensors/a/v 1 q1"]);
    await device.publishAsync("sensors/a/v", "2", { qos: 2 });
    assert.deepEqual(seen, ["sensors/a/v 1 q1", "sensors/a/v 2 q2"], "QoS 2: handed over once");
    await device.publishAsync("sensors/a/v", "3", { qos: 0 });
    await until(() => seen.length === 3, "the QoS 0 message");
    assert.equal(broker.stats.accepted, 3);
  } finally {
    await device.endAsync();
    await broker.close();
  }
});

Deno.test("the direct path acknowledges a QoS 1 publish only once onMessage's promise resolves, in order", async () => {
  const pending: ((ok: boolean) => void)[] = [];
  const seen: string[] = [];
  const broker = await startEmbeddedBroker({
    port: 0,
    log: captureLog().log,
    onMessage: (m) => {
      seen.push(new TextDecoder().decode(m.payload));
      return new Promise<boolean>((resolve) => pending.push(resolve));
    },
  });
  const device = await mqtt.connectAsync(broker.url, { clientId: "dev", reconnectPeriod: 0 });
  try {
    const acked: string[] = [];
    const sent = ["1", "2", "3"].map((v) =>
      device.publishAsync("sensors/a/v", v, { qos: 1 }).then(() => void acked.push(v))
    );
    await until(() => seen.length === 3, "the three messages handed over");
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(acked, [], "no PUBACK before the messages are taken");
    pending[0](true);
    await until(() => acked.length === 1, "the first PUBACK");
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(acked, ["1"], "only the taken message acknowledged");
    pending[1](true);
    pending[2](true);
    await Promise.all(sent);
    assert.deepEqual(acked, ["1", "2", "3"]);
    assert.equal(broker.stats.direct, 3, "each taken by the direct path");
    assert.equal(broker.stats.accepted, 3);
  } finally {
    await device.endAsync();
    await broker.close();
  }
});

Deno.test("the direct path closes the connection of a message not taken (false), without its PUBACK", async () => {
  let answer: boolean | Promise<boolean> = true;
  const broker = await startEmbeddedBroker({
    port: 0,
    log: captureLog().log,
    onMessage: () => answer,
  });
  for (const notTaken of [false, Promise.resolve(false)]) {
    const device = await mqtt.connectAsync(broker.url, { clientId: "dev", reconnectPeriod: 0 });
    try {
      answer = true;
      await device.publishAsync("sensors/a/v", "1", { qos: 1 });
      answer = notTaken;
      const closed = new Promise<void>((resolve) => device.once("close", () => resolve()));
      let acked = false;
      device.publish("sensors/a/v", "2", { qos: 1 }, (e) => acked ||= !e);
      await closed;
      assert.equal(acked, false, "no PUBACK for a message not taken");
    } finally {
      await device.endAsync(true);
    }
  }
  assert.equal(broker.stats.direct, 4);
  await broker.close();
});

Deno.test("a device that publishes without pause through the direct path keeps its connection past its keep-alive", async () => {
  const broker = await startEmbeddedBroker({ port: 0, log: captureLog().log });
  // MQTT.js sends no PINGREQ while it sends other packets: each PUBLISH must count as the
  // client's sign of life (aedes closes a client silent for 1.5 keep-alives: 1.5 s here)
  const device = await mqtt.connectAsync(broker.url, {
    clientId: "busy",
    keepalive: 1,
    reconnectPeriod: 0,
  });
  let closed = false;
  const close = new Promise<"closed">((resolve) => device.once("close", () => resolve("closed")));
  close.then(() => closed = true);
  try {
    const until = Date.now() + 3000;
    let n = 0;
    while (Date.now() < until && !closed) {
      const sent = device.publishAsync("sensors/a/v", String(n), { qos: 1 }).then(() => "acked");
      if (await Promise.race([sent, close]) === "acked") n++;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(closed, false, "the connection stayed open");
    assert.equal(broker.stats.direct, n, "every publish taken directly");
  } finally {
    await device.endAsync(true);
    await broker.close();
  }
});

Deno.test("a reading no client may read is acknowledged and not routed; one a reader may read is delivered", async () => {
  const seen: string[] = [];
  const hash = await hashPassword("dash-pw", { N: 1024 });
  const quiet = await startEmbeddedBroker({
    port: 0,
    log: captureLog().log,
    onMessage: (m) => seen.push(m.topic),
  });
  // the defaults: anonymous clients read forecastd/alerts/# only
  const device = await mqtt.connectAsync(quiet.url, { clientId: "dev", reconnectPeriod: 0 });
  const sub = await mqtt.connectAsync(quiet.url, { clientId: "sub", reconnectPeriod: 0 });
  try {
    const got: string[] = [];
    sub.on("message", (topic) => got.push(topic));
    await sub.subscribeAsync("#", { qos: 1 });
    for (let i = 0; i < 5; i++) await device.publishAsync("sensors/a/v", String(i), { qos: 1 });
    await device.publishAsync("sensors/a/v", "retained", { qos: 1, retain: true });
    assert.equal(seen.length, 6, "every reading taken");
    assert.deepEqual(quiet.stats, {
      accepted: 6,
      routed: 0,
      // the retained one aedes's way (publish_parser.ts, the direct path), the others directly
      direct: 5,
      refused: { too_large: 0, bad_topic: 0, not_authorized: 0 },
    });
    // the daemon's own publishes are routed as before
    await new Promise<void>((resolve, reject) =>
      quiet.publish("forecastd/alerts/a", "{}", { qos: 1 }, (e) => e ? reject(e) : resolve())
    );
    await until(() => got.length === 1, "the alert");
    const late = await mqtt.connectAsync(quiet.url, { clientId: "late", reconnectPeriod: 0 });
    const lateGot: string[] = [];
    late.on("message", (topic) => lateGot.push(topic));
    await late.subscribeAsync("sensors/#", { qos: 1 });
    await new Promise((r) => setTimeout(r, 100));
    await late.endAsync();
    assert.deepEqual(got, ["forecastd/alerts/a"], "no reading reached the subscriber of #");
    assert.deepEqual(lateGot, [], "no retained reading kept");
  } finally {
    await sub.endAsync();
    await device.endAsync();
    await quiet.close();
  }

  const open = await startEmbeddedBroker({
    port: 0,
    log: captureLog().log,
    users: [
      { username: "dev", password: hash, publish: null, read: null },
      { username: "dash", password: hash, publish: [], read: ["sensors/#"] },
    ],
  });
  const login = (user: string) => ({ username: user, password: "dash-pw", reconnectPeriod: 0 });
  const dev = await mqtt.connectAsync(open.url, { clientId: "dev", ...login("dev") });
  const dash = await mqtt.connectAsync(open.url, { clientId: "dash", ...login("dash") });
  try {
    const got: string[] = [];
    dash.on("message", (topic, payload) => got.push(`${topic} ${payload}`));
    await dash.subscribeAsync("#", { qos: 1 });
    await dev.publishAsync("sensors/a/v", "1", { qos: 1 });
    await dev.publishAsync("plant/b/v", "2", { qos: 1 });
    await until(() => got.length === 1, "the reading at dash");
    assert.deepEqual(got, ["sensors/a/v 1"]);
    assert.equal(open.stats.accepted, 2);
    assert.equal(open.stats.routed, 1, "plant/b/v: no client may read it");
    assert.equal(open.stats.direct, 1, "plant/b/v directly, sensors/a/v aedes's way to dash");
  } finally {
    await dash.endAsync();
    await dev.endAsync();
    await open.close();
  }
});

Deno.test("readableBy() routes a topic only when some client's read filters may match it", () => {
  const reserved = ["forecastd"];
  const alerts = ["forecastd/alerts/#"];
  const none = readableBy(alerts, [], reserved);
  assert.equal(none("sensors/a/v"), false);
  assert.equal(none("forecastd/alerts/a"), false, "clients cannot publish there");
  const users = [{ read: null }, { read: ["forecastd/status"] }];
  assert.equal(readableBy(alerts, users, reserved)("sensors/a/v"), false);
  const dash = readableBy(alerts, [...users, { read: ["sensors/+/v"] }], reserved);
  assert.equal(dash("sensors/a/v"), true);
  assert.equal(dash("sensors/a/w"), false);
  assert.equal(readableBy(["#"], [], reserved)("plant/x"), true, "a default read of #");
  assert.equal(readableBy(alerts, [{ read: ["+/alerts/#"] }], reserved)("x/alerts/a"), true);
  const ha = readableBy([...alerts, "homeassistant/device/+/config"], [], reserved);
  assert.equal(ha("sensors/a/v"), false);
  assert.equal(ha("homeassistant/device/a/config"), true);
  assert.equal(readableBy(["plant"], [], reserved)("plant"), true, "a filter of one level");
});

Deno.test("a publish to an empty level is acknowledged and dropped; a persistent-session subscriber of sensors/+ stays connected", async () => {
  const capture = captureLog();
  const refused: string[] = [];
  const seen: string[] = [];
  const broker = await startEmbeddedBroker({
    port: 0,
    log: capture.log,
    defaultRead: ["sensors/#"],
    onMessage: (m) => seen.push(m.topic),
    onRefused: (reason) => refused.push(reason),
  });
  // the reset of the issue: a clean: false client whose `+` filter meets an empty level
  const sub = await mqtt.connectAsync(broker.url, {
    clientId: "persistent",
    clean: false,
    reconnectPeriod: 0,
  });
  const device = await mqtt.connectAsync(broker.url, { clientId: "dev", reconnectPeriod: 0 });
  try {
    const got: string[] = [];
    let closes = 0;
    sub.on("close", () => closes++);
    sub.on("message", (topic) => got.push(topic));
    await sub.subscribeAsync(["sensors/+", "sensors/+/+"], { qos: 1 });
    for (const topic of ["sensors/", "sensors//v", "sensors/a/"]) {
      await device.publishAsync(topic, "1", { qos: 1 });
    }
    await device.publishAsync("sensors/a/v", "1", { qos: 1 });
    await until(() => got.length === 1, "the valid message");
    assert.deepEqual(got, ["sensors/a/v"]);
    assert.deepEqual(seen, ["sensors/a/v"]);
    assert.deepEqual(refused, ["bad_topic", "bad_topic", "bad_topic"]);
    assert.equal(closes, 0, "the subscriber was never disconnected");
    assert.ok(sub.connected && device.connected);
    const warned = capture.entries().filter((e) =>
      e.event === "broker.publish_refused" && e.level === "warn"
    );
    assert.equal(warned.length, 1, "said once per client and reason (then at debug)");
    assert.equal(warned[0].reason, "bad_topic");
    assert.match(String(warned[0].message), /empty level/);
  } finally {
    await device.endAsync();
    await sub.endAsync();
    await broker.close();
  }
});

Deno.test("a topic with U+0000 closes the sender's connection and no other", async () => {
  const refused: string[] = [];
  const broker = await startEmbeddedBroker({
    port: 0,
    log: captureLog().log,
    defaultRead: ["#"],
    onRefused: (reason) => refused.push(reason),
  });
  const sub = await mqtt.connectAsync(broker.url, { clientId: "sub", reconnectPeriod: 0 });
  const device = await mqtt.connectAsync(broker.url, { clientId: "dev", reconnectPeriod: 0 });
  try {
    const got: string[] = [];
    sub.on("message", (topic) => got.push(topic));
    await sub.subscribeAsync("#", { qos: 1 });
    const closed = new Promise<void>((r) => device.once("close", () => r()));
    device.publish("sensors/a\u0000b", "1", { qos: 1 });
    await closed;
    assert.deepEqual(refused, ["bad_topic"]);
    const other = await mqtt.connectAsync(broker.url, { clientId: "dev2", reconnectPeriod: 0 });
    await other.publishAsync("sensors/b/v", "1", { qos: 1 });
    await other.endAsync();
    await until(() => got.length === 1, "the next message");
    assert.deepEqual(got, ["sensors/b/v"]);
    assert.ok(sub.connected);
  } finally {
    device.end(true);
    await sub.endAsync();
    await broker.close();
  }
});

Deno.test("a payload over the limit is acknowledged, dropped and counted; a packet far over it closes the connection", async () => {
  const capture = captureLog();
  const refused: string[] = [];
  const seen: number[] = [];
  const broker = await startEmbeddedBroker({
    port: 0,
    log: capture.log,
    maxPayloadBytes: 1000,
    onMessage: (m) => seen.push(m.payload.length),
    onRefused: (reason) => refused.push(reason),
  });
  const device = await mqtt.connectAsync(broker.url, { clientId: "dev", reconnectPeriod: 0 });
  try {
    await device.publishAsync("sensors/a/v", "1".repeat(1000), { qos: 1 });
    await device.publishAsync("sensors/a/v", "1".repeat(1001), { qos: 1 });
    assert.deepEqual(seen, [1000]);
    assert.deepEqual(refused, ["too_large"]);
    assert.ok(device.connected);
    const warned = capture.entries().find((e) => e.event === "broker.publish_refused");
    assert.match(String(warned?.message), /at most 1000 bytes: it has 1001/);

    const closed = new Promise<void>((r) => device.once("close", () => r()));
    device.publish("sensors/a/v", "1".repeat(1000 + 65_536 + 100), { qos: 1 });
    await closed;
    assert.deepEqual(refused, ["too_large", "too_large"]);
    assert.ok(capture.entries().some((e) => e.event === "broker.packet_too_large"));
    assert.deepEqual(seen, [1000]);
  } finally {
    device.end(true);
    await broker.close();
  }
});

Deno.test("an MQTT 5 client is refused with CONNACK 1 and a log line saying what to do", async () => {
  const capture = captureLog();
  const broker = await startEmbeddedBroker({ port: 0, log: capture.log });
  try {
    const result = await tryConnect(broker.url, { clientId: "v5", protocolVersion: 5 });
    assert.ok(result instanceof Error, "refused");
    assert.match(result.message, /Unacceptable protocol version/i);
    await until(
      () => capture.entries().some((e) => e.event === "broker.protocol_refused"),
      "broker.protocol_refused",
    );
    const line = capture.entries().find((e) => e.event === "broker.protocol_refused")!;
    assert.equal(line.level, "warn");
    assert.match(String(line.message), /not MQTT 5: connect with protocol version 4/);
  } finally {
    await broker.close();
  }
});

Deno.test("with users configured: anonymous and wrong passwords are refused, a user publishes within its filters and reads what it may", async () => {
  const capture = captureLog();
  const seen: string[] = [];
  const refused: string[] = [];
  const hash = await hashPassword("kitchen-pw", { N: 1024 });
  const broker = await startEmbeddedBroker({
    port: 0,
    log: capture.log,
    users: [
      { username: "kitchen", password: hash, publish: ["sensors/kitchen/#"], read: null },
      { username: "dash", password: hash, publish: [], read: ["sensors/#"] },
    ],
    onMessage: (m) => seen.push(`${m.username} ${m.topic}`),
    onRefused: (reason) => refused.push(reason),
  });
  try {
    const anonymous = await tryConnect(broker.url, { clientId: "anon" });
    assert.ok(anonymous instanceof Error);
    assert.match(anonymous.message, /Not authorized/i);
    const wrong = await tryConnect(broker.url, {
      clientId: "bad",
      username: "kitchen",
      password: "nope",
    });
    assert.ok(wrong instanceof Error);
    assert.match(wrong.message, /Bad username or password/i);
    const nobody = await tryConnect(broker.url, {
      clientId: "ghost",
      username: "ghost",
      password: "kitchen-pw",
    });
    assert.ok(nobody instanceof Error, "an unknown user is refused like a wrong password");
    assert.match(nobody.message, /Bad username or password/i);
    const logged = JSON.stringify(capture.entries());
    assert.doesNotMatch(logged, /nope|kitchen-pw/, "no password in the log");

    const dash = await mqtt.connectAsync(broker.url, {
      clientId: "dash",
      username: "dash",
      password: "kitchen-pw",
      reconnectPeriod: 0,
    });
    const kitchen = await mqtt.connectAsync(broker.url, {
      clientId: "kitchen",
      username: "kitchen",
      password: "kitchen-pw",
      reconnectPeriod: 0,
    });
    try {
      const got: string[] = [];
      dash.on("message", (topic) => got.push(topic));
      await dash.subscribeAsync("#", { qos: 1 });
      const kitchenGot: string[] = [];
      kitchen.on("message", (topic) => kitchenGot.push(topic));
      await kitchen.subscribeAsync("#", { qos: 1 });
      await kitchen.publishAsync("sensors/hall/temperature", "1", { qos: 1 });
      await kitchen.publishAsync("sensors/kitchen/temperature", "2", { qos: 1 });
      await until(() => got.length === 1, "the kitchen's reading at dash");
      assert.deepEqual(got, ["sensors/kitchen/temperature"]);
      assert.deepEqual(seen, ["kitchen sensors/kitchen/temperature"]);
      assert.deepEqual(refused, ["not_authorized"]);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(kitchenGot, [], "kitchen reads the alerts only, not the readings");
    } finally {
      await kitchen.endAsync();
      await dash.endAsync();
    }
  } finally {
    await broker.close();
  }
});

Deno.test("isLoopback() knows 127.0.0.0/8, ::1 and their IPv4-mapped forms", () => {
  for (const a of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) {
    assert.ok(isLoopback(a), a);
  }
  for (const a of ["10.0.0.1", "192.168.1.5", "::ffff:10.0.0.1", "fe80::1", undefined]) {
    assert.ok(!isLoopback(a), String(a));
  }
});

Deno.test("with a certificate the broker speaks TLS (mqtts) and a client that trusts it publishes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forecastd-broker-tls-" });
  try {
    const made = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        `${dir}/key.pem`,
        "-out",
        `${dir}/cert.pem`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(made.success, new TextDecoder().decode(made.stderr));
    const cert = await Deno.readFile(`${dir}/cert.pem`);
    const key = await Deno.readFile(`${dir}/key.pem`);
    const seen: string[] = [];
    const broker = await startEmbeddedBroker({
      port: 0,
      log: captureLog().log,
      tls: { cert, key },
      onMessage: (m) => seen.push(m.topic),
    });
    try {
      assert.match(broker.url, /^mqtts:\/\/127\.0\.0\.1:\d+$/);
      const plain = await tryConnect(broker.url.replace("mqtts:", "mqtt:"), {
        clientId: "plain",
        connectTimeout: 1000,
      });
      assert.ok(plain instanceof Error, "a plain-TCP client is not served");
      const device = await mqtt.connectAsync(broker.url, {
        clientId: "tls-dev",
        reconnectPeriod: 0,
        ca: Buffer.from(cert),
      });
      await device.publishAsync("sensors/a/v", "1", { qos: 1 });
      await device.endAsync();
      assert.deepEqual(seen, ["sensors/a/v"]);
    } finally {
      await broker.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the embedded broker disconnects a subscriber that reads nothing once drainTimeoutMs passes, and says why", async () => {
  const { log, entries } = captureLog();
  const broker = await startEmbeddedBroker({
    port: 0,
    log,
    defaultRead: ["slow/#"],
    drainTimeoutMs: 300,
  });
  const dead = await mqtt.connectAsync(broker.url, {
    clientId: "dead",
    reconnectPeriod: 0,
    keepalive: 0,
  });
  const live = await mqtt.connectAsync(broker.url, { clientId: "live", reconnectPeriod: 0 });
  const device = await mqtt.connectAsync(broker.url, { clientId: "dev", reconnectPeriod: 0 });
  try {
    await dead.subscribeAsync("slow/#", { qos: 1 });
    let got = 0;
    live.on("message", () => got++);
    await live.subscribeAsync("slow/#", { qos: 1 });
    // the dead subscriber stops reading (and never sees its connection end): its socket fills up
    (dead.stream as unknown as { pause(): void }).pause();
    const payload = "x".repeat(100_000);
    for (let i = 0; i < 80; i++) await device.publishAsync("slow/x", payload, { qos: 1 });
    const dropOf = () => entries().find((e) => e.event === "broker.client_too_slow");
    await until(() => dropOf() !== undefined, "the drop", 10_000);
    const drop = dropOf()!;
    assert.equal(drop.level, "warn");
    assert.equal(drop.client, "dead");
    assert.match(String(drop.message), /read nothing for 300 ms/);
    assert.equal(entries().filter((e) => e.event === "broker.client_too_slow").length, 1);
    await until(() => got === 80, "every message at the live subscriber", 10_000);
  } finally {
    dead.end(true);
    await live.endAsync();
    await device.endAsync();
    await broker.close();
  }
});
