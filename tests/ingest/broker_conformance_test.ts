/**
 * The broker conformance suite (broker_conformance.ts) against the embedded
 * broker and against a real Mosquitto started by the test on 127.0.0.1 with
 * its own configuration file (skipped, saying why, when it is not
 * installed).
 */
import { captureLog } from "../../src/log.ts";
import { startMqtt } from "../../src/ingest/mqtt.ts";
import { findMosquitto, startMosquitto } from "../e2e/_daemon.ts";
import { brokerConformance } from "./broker_conformance.ts";

const TOPICS = ["sensors/{stream}/{value}", "sensors/{stream}"];

brokerConformance("embedded broker", async (service, maxPayloadBytes) => {
  const dataDir = await Deno.makeTempDir({ prefix: "forecastd-conformance-" });
  const mqtt = await startMqtt({
    sink: service,
    log: captureLog().log,
    dataDir,
    topics: TOPICS,
    brokerPort: 0,
    maxPayloadBytes,
    ignoreTopicPrefix: "forecastd/alerts",
  });
  return {
    url: mqtt.broker!.url,
    device: {},
    mqtt,
    restart: null,
    async close() {
      await mqtt.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
});

const mosquitto = await findMosquitto();
if (mosquitto === null) {
  console.warn(
    "tests/ingest/broker_conformance_test.ts: Mosquitto cases skipped: mosquitto is not " +
      "installed (apt-get install -y mosquitto)",
  );
}

brokerConformance("Mosquitto", async (service, maxPayloadBytes) => {
  const dir = await Deno.makeTempDir({ prefix: "forecastd-conformance-" });
  let broker = await startMosquitto(mosquitto!, dir);
  const mqtt = await startMqtt({
    sink: service,
    log: captureLog().log,
    dataDir: dir,
    topics: TOPICS,
    url: broker.url,
    maxPayloadBytes,
    ignoreTopicPrefix: "forecastd/alerts",
    reconnectMs: 200,
  });
  return {
    url: broker.url,
    device: {},
    mqtt,
    async restart() {
      await broker.stop();
      broker = await startMosquitto(mosquitto!, dir, broker.port);
    },
    async close() {
      await mqtt.close();
      await broker.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}, mosquitto === null);
