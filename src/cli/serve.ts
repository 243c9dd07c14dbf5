/**
 * `forecastd serve` (the default command): the daemon. One function wires
 * it, in this order: config -> data directory lock -> open KV -> store ->
 * service -> sources (MQTT, webhooks, demo) -> app -> serve -> signals; and
 * shuts it down in the reverse order under a hard-exit timer.
 */
import { type Config, formatConfig, kvPath } from "../config/mod.ts";
import { createLogger, print } from "../log.ts";
import { Store } from "../store/store.ts";
import { Service } from "../service/service.ts";
import { type Mqtt, MqttConfigError, startMqtt } from "../ingest/mqtt.ts";
import { hostPort } from "../ingest/broker.ts";
import { type DemoSource, startDemoSource } from "../ingest/demo_source.ts";
import { createApp } from "../api/app.ts";
import { startWebhooks } from "../alerts/webhook.ts";
import { type MqttAlerts, startMqttAlerts } from "../alerts/mqtt.ts";
import { resolvesWithin } from "../async/resolves_within.ts";
import { lockDataDir } from "../data_dir.ts";
import { HELP } from "./help.ts";
import { loadConfig } from "./load_config.ts";
import { HTTP_SHUTDOWN_TIMEOUT_MS, SHUTDOWN_TIMEOUT_MS, waitForSignal } from "./shutdown.ts";
import { UsageError } from "./usage_error.ts";
import { VERSION } from "./version.ts";

/** Runs the daemon until a signal stops it; returns the exit status. */
export async function serve(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    print(HELP);
    return 0;
  }
  const cfg = loadConfig(args);
  if (args.includes("--print-config")) {
    print(formatConfig(cfg));
    return 0;
  }
  const log = createLogger({ level: cfg.logLevel });
  log.info("forecastd.starting", { version: VERSION, pid: Deno.pid, dataDir: cfg.dataDir });

  const lock = await lockDataDir(cfg.dataDir, "Cannot start forecastd");
  // from here on a signal stops the daemon gracefully (once it has started)
  const stopped = waitForSignal(log);
  const kv = await Deno.openKv(kvPath(cfg));
  let kvOpen = true;
  const store = new Store(kv, {
    alertRetention: {
      maxEvents: cfg.alertRetention.maxEvents,
      maxAgeMs: cfg.alertRetention.maxAgeDays * 86_400_000,
    },
  });
  // the lock says no other process writes this file: unfinished writes are a crash's
  const swept = await store.sweep({ staleAfterMs: 0 });
  log.debug("store.swept", { ...swept });
  await store.pruneAlerts();
  const service = new Service({
    store,
    log,
    options: {
      maxStreams: cfg.maxStreams,
      defaultPreset: cfg.defaultPreset,
      checkpointEvery: cfg.checkpointEvery,
      checkpointSeconds: cfg.checkpointSeconds,
    },
  });
  await service.load();
  service.start();

  let mqtt: Mqtt;
  try {
    if (cfg.brokerUsers !== null && cfg.brokerUsersFile !== null) {
      throw new MqttConfigError(
        "Cannot start the embedded MQTT broker: brokerUsers and brokerUsersFile must not both " +
          "be given: current value gives both",
      );
    }
    mqtt = await startMqtt({
      sink: service,
      log,
      dataDir: cfg.dataDir,
      topics: cfg.mqttTopics,
      url: cfg.mqttUrl,
      brokerHost: cfg.mqttHost ?? cfg.host,
      brokerPort: cfg.mqttPort,
      brokerUsers: cfg.brokerUsersFile !== null
        ? { path: cfg.brokerUsersFile }
        : cfg.brokerUsers !== null
        ? { text: cfg.brokerUsers, where: "brokerUsers" }
        : null,
      brokerCertFile: cfg.brokerCert,
      brokerKeyFile: cfg.brokerKey,
      maxPayloadBytes: cfg.mqttMaxPayload,
      username: cfg.mqttUsername,
      password: cfg.mqttPassword,
      caFile: cfg.mqttCa,
      certFile: cfg.mqttCert,
      keyFile: cfg.mqttKey,
      clientId: cfg.mqttClientId,
      ignoreTopicPrefix: cfg.alertTopicPrefix,
    });
  } catch (e) {
    await service.close();
    kv.close();
    lock.release();
    if (e instanceof MqttConfigError) throw new UsageError(e.message);
    throw e;
  }
  // alerts over MQTT: in-process on the embedded broker, else on the source's connection
  const mqttAlerts: MqttAlerts | null = mqtt.publisher
    ? startMqttAlerts(service, {
      client: mqtt.publisher,
      topicPrefix: cfg.alertTopicPrefix,
      log,
    })
    : null;
  const webhooks = startWebhooks(service, cfg.webhooks, log);
  const shutdownSignal = new AbortController();
  const app = createApp({
    service,
    log,
    version: VERSION,
    readiness: () => ({ kv: kvOpen, broker: mqtt.connected() }),
    signal: shutdownSignal.signal,
  });

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({ hostname: cfg.host, port: cfg.port, onListen: () => {} }, app.fetch);
  } catch (e) {
    mqttAlerts?.close();
    await mqtt.close();
    await webhooks.close();
    await service.close();
    kv.close();
    lock.release();
    if (e instanceof Deno.errors.AddrInUse) {
      throw new UsageError(
        `Cannot start forecastd: the HTTP port ${cfg.host}:${cfg.port} must be free: it is ` +
          `in use (pick another with --port, or 0 for any free port)`,
      );
    }
    throw e;
  }

  const demo: DemoSource | null = cfg.demo
    ? startDemoSource({
      sink: service,
      broker: mqtt.connection,
      subscribed: mqtt.ready,
      topics: cfg.mqttTopics,
      log,
    })
    : null;

  printEndpoints(cfg, server.addr, mqtt, demo, service.records.size);
  log.info("forecastd.ready", {
    http: `http://${hostPort(server.addr.hostname, server.addr.port)}/`,
    mqtt: mqtt.brokerUrl,
    streams: service.records.size,
  });

  const signal = await stopped;
  const hardExit = setTimeout(() => {
    log.error("shutdown.timeout", { timeoutMs: SHUTDOWN_TIMEOUT_MS });
    Deno.exit(1);
  }, SHUTDOWN_TIMEOUT_MS);
  log.info("shutdown.started", { signal });
  const t0 = performance.now();
  // 1. sources: no more readings in, no more alerts out over MQTT; the embedded
  // broker stops acknowledging before it closes (what it acknowledged is ingested)
  await demo?.close();
  mqttAlerts?.close();
  await mqtt.close();
  // 2. HTTP: live alert streams end, requests in flight finish
  shutdownSignal.abort();
  if (!await resolvesWithin(server.shutdown(), HTTP_SHUTDOWN_TIMEOUT_MS)) {
    log.warn("http.shutdown_timeout", { timeoutMs: HTTP_SHUTDOWN_TIMEOUT_MS });
  }
  await webhooks.close();
  // 3. final checkpoint, then the store
  await service.close();
  kvOpen = false;
  kv.close();
  lock.release();
  clearTimeout(hardExit);
  log.info("shutdown.done", { ms: Math.round(performance.now() - t0) });
  return 0;
}

/** The friendly start-up lines, one per endpoint (tests read the http: and mqtt: lines). */
function printEndpoints(
  cfg: Config,
  addr: Deno.NetAddr,
  mqtt: Mqtt,
  demo: DemoSource | null,
  streams: number,
): void {
  const http = `http://${hostPort(addr.hostname, addr.port)}`;
  const wildcard = addr.hostname === "0.0.0.0" || addr.hostname === "::";
  print(`forecastd ${VERSION} is running`);
  print(
    `  http: ${http}/${wildcard ? " (every interface)" : ""}  ` +
      `try: curl ${http}/v1/streams`,
  );
  if (mqtt.broker) {
    const b = mqtt.broker;
    print(
      `  mqtt: ${b.listenUrl}${b.wildcard ? ` (every interface; here ${b.url})` : ""}  ` +
        `(embedded broker; publish readings to ${cfg.mqttTopics.join(" or ")})`,
    );
  } else if (mqtt.brokerError) {
    print(`  mqtt: not running: ${mqtt.brokerError.message}`);
  } else {
    print(
      `  mqtt: ${mqtt.brokerUrl}  (external broker; readings from ${cfg.mqttTopics.join(", ")})`,
    );
  }
  print(`  alerts: ${http}/v1/alerts/events (SSE), MQTT ${cfg.alertTopicPrefix}/{stream}`);
  print(
    "  docs: README.md and docs/; options: forecastd --help " +
      "(from a source checkout: deno task start --help)",
  );
  print(`  data: ${kvPath(cfg)} (${streams} stream${streams === 1 ? "" : "s"} restored)`);
  if (demo) {
    print(
      `  demo: stream "${demo.stream}" ${
        demo.topic ? `on ${demo.topic}` : "(fed directly)"
      }, a reading per second of simulated 5-minute data; watch ` +
        `curl ${http}/v1/streams/${demo.stream}/forecast and curl -N ${http}/v1/alerts/events`,
    );
  }
}
