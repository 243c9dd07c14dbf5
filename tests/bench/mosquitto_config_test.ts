/**
 * bench/mosquitto_config.ts: the benches' Mosquitto sends a subscriber as
 * many unacknowledged messages as the daemon's window takes, the window
 * given (bench/broker_cost.ts --inflight) or named by FORECASTD_MQTT_INFLIGHT
 * (what bench/scale.ts's daemon reads), and the default's otherwise.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import mqttPacket from "mqtt-packet";
import { RawPublisher } from "../../bench/raw_mqtt.ts";
import { mosquittoConfig } from "../../bench/mosquitto_config.ts";
import { DEFAULT_INFLIGHT } from "../../src/ingest/ack_window.ts";
import { eventually, findMosquitto, startMosquitto } from "../e2e/_daemon.ts";

const exe = await findMosquitto();

/**
 * How many of `n` QoS 1 messages a Mosquitto started with `config` sends a
 * QoS 1 subscriber that never acknowledges one.
 */
async function sentUnacknowledged(config: string[], n: number): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "forecastd-mosquitto-config-" });
  const mosquitto = await startMosquitto(exe!, dir, undefined, { extraConfig: config });
  const port = Number(new URL(mosquitto.url).port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const pub = await RawPublisher.connect(mosquitto.url, "publisher");
  try {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let publishes = 0;
    let subscribed = false;
    parser.on("packet", (p) => {
      if (p.cmd === "suback") subscribed = true;
      if (p.cmd === "publish") publishes++;
    });
    const reading = (async () => {
      const buf = new Uint8Array(65_536);
      for (;;) {
        const k = await conn.read(buf).catch(() => null);
        if (k === null) return;
        parser.parse(Buffer.from(buf.subarray(0, k)));
      }
    })();
    const send = (packet: Record<string, unknown>) =>
      conn.write(mqttPacket.generate(packet as unknown as mqttPacket.Packet));
    await send({
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clean: true,
      clientId: "holder",
      keepalive: 60,
    });
    await send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "sensors/#", qos: 1 }] });
    await eventually(() => subscribed || undefined, "the SUBACK");
    await pub.publish(
      Array.from({ length: n }, (_, i) => ({ topic: `sensors/s${i}/v`, payload: `{"v":${i}}` })),
    );
    // every message is with Mosquitto: what it sent by now, it sends no more of until acknowledged
    await eventually(() => publishes > 0 || undefined, "a PUBLISH");
    await new Promise((r) => setTimeout(r, 300));
    conn.close();
    await reading;
    return publishes;
  } finally {
    await pub.close();
    await mosquitto.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the benches' Mosquitto sends as many unacknowledged messages as the window given", {
  ignore: exe === null,
}, async () => {
  assert.equal(await sentUnacknowledged(mosquittoConfig(30), 100), 30);
});

Deno.test(
  "the benches' Mosquitto window follows FORECASTD_MQTT_INFLIGHT, the daemon's default without",
  {
    ignore: exe === null,
  },
  async () => {
    const config = async (env: Record<string, string>) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `import { MOSQUITTO_CONFIG } from "${
            new URL("../../bench/mosquitto_config.ts", import.meta.url).href
          }";` +
          "console.log(JSON.stringify(MOSQUITTO_CONFIG));",
        ],
        env,
        clearEnv: true,
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      return JSON.parse(new TextDecoder().decode(out.stdout)) as string[];
    };
    assert.equal(
      await sentUnacknowledged(await config({ FORECASTD_MQTT_INFLIGHT: "40" }), 100),
      40,
    );
    assert.ok(
      (await config({})).includes(`max_inflight_messages ${DEFAULT_INFLIGHT}`),
      "the daemon's default window",
    );
  },
);

Deno.test("a window the daemon would refuse is refused here too, saying which", () => {
  for (const bad of [-1, 1.5, 65_536, Number.NaN]) {
    assert.throws(() => mosquittoConfig(bad), /window must be an integer from 1 to 65535/);
  }
  assert.deepEqual(mosquittoConfig(0), mosquittoConfig(DEFAULT_INFLIGHT));
});
