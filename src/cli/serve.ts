/**
 * `forecastd serve` (the default command): the daemon. One function wires
 * it, in this order: config -> data directory lock -> open KV -> store ->
 * service -> sources (MQTT, webhooks, demo) and the MQTT channels (alerts,
 * forecastd's status, forecasts, Home Assistant discovery) -> app -> serve
 * -> signals; and shuts it down in the reverse order under a hard-exit timer.
 */
import { type Config, DEFAULT_CONFIG, formatConfig, kvIsRemote, kvPath } from "../config/mod.ts";
import { createLogger, print } from "../log.ts";
import { stdoutIsLog } from "./stdout_is_log.ts";
import { Store } from "../store/store.ts";
import { retryLocked } from "../shard/locked_kv_retry.ts";
import { makeService } from "./make_service.ts";
import { type Mqtt, MqttConfigError, startMqtt } from "../ingest/mqtt.ts";
import { hostPort } from "../ingest/host_port.ts";
import { createApp } from "../api/app.ts";
import { allowedHosts, isLoopback, isWildcard } from "../api/check_host.ts";
import { type HttpServer, startHttpServer } from "../api/http_server.ts";
import { warmHttp, warmPaths } from "../api/warm_http.ts";
import { ApiTokens } from "../auth/api_tokens.ts";
import { startWebhooks } from "../alerts/webhook.ts";
import { type MqttAlerts, startMqttAlerts } from "../alerts/mqtt.ts";
import { type MqttStatus, startMqttStatus, statusWill } from "../alerts/mqtt_status.ts";
import { type MqttForecasts, startMqttForecasts } from "../alerts/mqtt_forecasts.ts";
import {
  type HomeAssistantDiscovery,
  startHomeAssistantDiscovery,
} from "../alerts/homeassistant.ts";
import { logAlerts } from "../alerts/log_alerts.ts";
import { resolvesWithin } from "../async/resolves_within.ts";
import { lockDataDir } from "../data_dir.ts";
import { maskUrlPassword } from "../domain/mask_url_password.ts";
import { formatShard, ownsStream, parseShard, type ShardMap } from "../domain/shard_map.ts";
import { useKernels, wasmKernelsAvailable } from "../model/kernels.ts";
import { HELP } from "./help.ts";
import { loadConfig } from "./load_config.ts";
import { HTTP_SHUTDOWN_TIMEOUT_MS, startHardExit, waitForSignal } from "./shutdown.ts";
import { guardUnhandledRejections } from "./unhandled_rejections.ts";
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
  const log = createLogger({ level: cfg.logLevel, format: cfg.logFormat });
  // who may connect, before anything is opened: a refusal leaves nothing to undo
  const tokens = ApiTokens.fromSpecs(cfg.apiTokens);
  checkExposure(cfg, tokens);
  const tls = await readTls(cfg);
  const shard = shardMap(cfg);
  // the models' kernels, before the service makes or restores any network
  const kernels = cfg.kernels === "wasm" && !wasmKernelsAvailable() ? "ts" : cfg.kernels;
  useKernels(kernels);
  log.info("forecastd.starting", {
    version: VERSION,
    pid: Deno.pid,
    dataDir: cfg.dataDir,
    kernels,
    ...(cfg.kvUrl === null ? {} : { kv: maskUrlPassword(cfg.kvUrl) }),
    ...(shard === null ? {} : { shard: formatShard(shard), peers: shard.peers }),
  });
  if (kernels !== cfg.kernels) {
    log.warn("kernels.unavailable", {
      wanted: cfg.kernels,
      running: kernels,
      reason: "this runtime lacks WebAssembly SIMD",
    });
  }

  const lock = await lockDataDir(cfg.dataDir, "Cannot start forecastd").catch((e) => {
    throw e instanceof Deno.errors.NotCapable ? dataDirNotAllowed(cfg.dataDir, e) : e;
  });
  // from here on a signal stops the daemon gracefully (once it has started)
  const stopped = waitForSignal(log);
  // every shard worker holds a handle on this file too: writes wait out each other
  const kv = retryLocked(
    await Deno.openKv(kvPath(cfg)).catch((e) => {
      lock.release();
      throw cfg.kvUrl === null || e instanceof Deno.errors.NotCapable ? e : new UsageError(
        `Cannot start forecastd: the KV Connect server of --kv-url must open the database with ` +
          `the token of DENO_KV_ACCESS_TOKEN (${e instanceof Error ? e.message : e}): current ` +
          `value is ${maskUrlPassword(cfg.kvUrl)}`,
      );
    }),
  );
  let kvOpen = true;
  const store = new Store(kv, {
    alertRetention: {
      maxEvents: cfg.alertRetention.maxEvents,
      maxAgeMs: cfg.alertRetention.maxAgeDays * 86_400_000,
    },
  });
  // the lock says no other process writes this file: unfinished writes are a crash's (a
  // KV Connect database has no such lock: writes of another process are left to grow stale)
  const swept = await store.sweep(kvIsRemote(cfg) ? {} : { staleAfterMs: 0 });
  log.debug("store.swept", { ...swept });
  await store.pruneAlerts();
  const { service, local, workers } = await makeService(cfg, store, kvPath(cfg), log);
  // a rejected promise nobody handled is logged and counted; the daemon goes on
  const unguard = guardUnhandledRejections(log, () => service.counters.unhandledRejections++);
  await service.load();
  if (shard !== null) {
    warnOtherShards(log, shard, service.records.keys());
    warnSharedTopics(log, cfg, shard);
  }
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
      inflight: cfg.mqttInflight,
      username: cfg.mqttUsername,
      password: cfg.mqttPassword,
      caFile: cfg.mqttCa,
      certFile: cfg.mqttCert,
      keyFile: cfg.mqttKey,
      clientId: cfg.mqttClientId,
      ignoreTopicPrefix: cfg.alertTopicPrefix,
      owns: shard === null ? null : (id) => ownsStream(shard, id),
      // with forecasts on, the embedded broker's clients read them and the status, not only alerts
      readTopics: [
        ...(cfg.mqttForecasts || cfg.haDiscovery
          ? [`${cfg.forecastTopicPrefix}/#`, cfg.statusTopic]
          : []),
        ...(cfg.haDiscovery ? [`${cfg.haDiscoveryPrefix}/device/+/config`] : []),
      ],
      will: statusWill(cfg.statusTopic),
    });
  } catch (e) {
    await service.close();
    kv.close();
    lock.release();
    unguard();
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
  // forecastd's status, the forecasts and Home Assistant discovery, where the alerts go
  const client = mqtt.publisher;
  const status: MqttStatus | null = client
    ? startMqttStatus({ client: mqtt.source?.client ?? client, topic: cfg.statusTopic, log })
    : null;
  const forecasts: MqttForecasts | null = client && local && (cfg.mqttForecasts || cfg.haDiscovery)
    ? startMqttForecasts(local, {
      client,
      log,
      topicPrefix: cfg.forecastTopicPrefix,
      intervalSeconds: cfg.forecastPublishSeconds,
      crossings: cfg.forecastCrossings.map((r) => ({
        stream: r.stream,
        target: r.target,
        threshold: r.above ?? r.below!,
        direction: r.above !== null ? "above" as const : "below" as const,
      })),
    })
    : null;
  const homeAssistant: HomeAssistantDiscovery | null = client && cfg.haDiscovery
    ? startHomeAssistantDiscovery(service, {
      client,
      log,
      prefix: cfg.haDiscoveryPrefix,
      nodeId: cfg.haNodeId,
      forecastTopicPrefix: cfg.forecastTopicPrefix,
      statusTopic: cfg.statusTopic,
      version: VERSION,
    })
    : null;
  /** Stops the MQTT channels, saying "offline" last. */
  const closeChannels = async () => {
    homeAssistant?.close();
    forecasts?.close();
    mqttAlerts?.close();
    await status?.close();
  };
  const webhooks = startWebhooks(service, cfg.webhooks, log);
  const stopAlertLog = logAlerts(service, log);
  const shutdownSignal = new AbortController();
  const app = createApp({
    service,
    workers,
    log,
    version: VERSION,
    readiness: () => ({ kv: kvOpen, broker: mqtt.connected() }),
    signal: shutdownSignal.signal,
    tokens,
    allowedHosts: allowedHosts(cfg.host, cfg.allowedHosts),
    corsOrigins: cfg.corsOrigins,
    maxBodyBytes: cfg.maxBodyBytes,
    newStreamsPerMinute: cfg.newStreamsPerMinute,
    metrics: { horizons: cfg.metricsHorizons },
    ...(mqtt.source ? { mqttDuplicates: () => mqtt.source?.stats.duplicates ?? 0 } : {}),
    shard,
  });

  let server: HttpServer;
  try {
    server = await startHttpServer(app.fetch, {
      hostname: cfg.host,
      port: cfg.port,
      ...tls,
      maxMessageBytes: cfg.maxBodyBytes,
      log,
    });
  } catch (e) {
    await closeChannels();
    await mqtt.close();
    await webhooks.close();
    await service.close();
    kv.close();
    lock.release();
    unguard();
    if (e instanceof Deno.errors.AddrInUse) {
      throw new UsageError(
        `Cannot start forecastd: the HTTP port ${cfg.host}:${cfg.port} must be free: it is ` +
          `in use (pick another with --port, or 0 for any free port)`,
      );
    }
    throw e;
  }
  const demo = cfg.demo
    ? (await import("../ingest/demo_source.ts")).startDemoSource({
      sink: service,
      broker: mqtt.connection,
      subscribed: mqtt.ready,
      topics: cfg.mqttTopics,
      log,
    })
    : null;
  log.info("http.warmed", { ...await warmHttp(server, { paths: warmPaths(tokens.enabled) }) }); // its own first requests (warm_http.ts)
  // plain lines where the JSON log goes would break it (2>&1 | jq, journald): forecastd.ready has them
  const say = cfg.logFormat === "json" && stdoutIsLog() ? () => {} : print;
  printEndpoints(say, cfg, server, tokens, mqtt, demo, service.records.size);
  if (tokens.enabled) {
    log.info("http.auth", { tokens: tokens.describe() });
  } else {
    log.warn("http.unauthenticated", {
      host: cfg.host,
      message: isLoopback(cfg.host)
        ? "no API token is configured: the API is open to every user and program of this " +
          "machine, and listens on loopback only (forecastd token makes a token)"
        : "no API token is configured and --allow-unauthenticated is set: the API is open to " +
          "anyone who reaches its port",
    });
  }
  log.info("forecastd.ready", {
    http: `${server.secure ? "https" : "http"}://${
      hostPort(server.addr.hostname, server.addr.port)
    }/`,
    mqtt: mqtt.brokerUrl,
    streams: service.records.size,
    data: kvPath(cfg),
  });

  const signal = await stopped;
  const timeoutMs = Math.round(cfg.shutdownTimeout * 1000);
  // a cut final save says the streams it saved, and those it did not (they come back as
  // last saved, or empty: their records are in KV since they were created)
  const savedBefore = service.counters.checkpoints;
  const streamsSaved = () => service.counters.checkpoints - savedBefore;
  const clearHardExit = startHardExit(log, timeoutMs, () => ({
    streamsSaved: streamsSaved(),
    streamsCut: service.unsavedStreams,
  }));
  log.info("shutdown.started", { signal, timeoutMs, unsavedStreams: service.unsavedStreams });
  const t0 = performance.now();
  // 1. sources: no more readings in, no more alerts out over MQTT; MQTT stops acknowledging
  // before it closes (a message acknowledged was taken; one not taken is sent again)
  await demo?.close();
  await closeChannels();
  await mqtt.close();
  // 2. HTTP: no new connections; live alert streams end; requests in flight
  //    finish, each answered once its readings are taken
  shutdownSignal.abort();
  if (!await resolvesWithin(server.shutdown(), HTTP_SHUTDOWN_TIMEOUT_MS)) {
    log.warn("http.shutdown_timeout", { timeoutMs: HTTP_SHUTDOWN_TIMEOUT_MS });
  }
  await webhooks.close();
  stopAlertLog();
  // 3. the service refuses what still waits (unacknowledged), saves every
  //    stream (so every acknowledged reading), then the store closes
  const saved = await service.close();
  kvOpen = false;
  kv.close();
  lock.release();
  clearHardExit();
  unguard();
  const ms = Math.round(performance.now() - t0);
  log.info("shutdown.done", { ms, saved, streamsSaved: streamsSaved() });
  // a final save that failed three times is no clean shutdown
  return saved ? 0 : 1;
}

/** The instance's shard of --shard and --peer, or null when it owns every stream. */
function shardMap(cfg: Config): ShardMap | null {
  const parsed = cfg.shard === null ? null : parseShard(cfg.shard);
  return parsed === null ? null : { ...parsed, peers: cfg.peers };
}

/**
 * Says once when the store holds streams of other shards (the shard count or
 * index changed): they are kept and learned here, but the API sends their
 * calls to their owner and the sources drop their readings.
 */
function warnOtherShards(
  log: ReturnType<typeof createLogger>,
  shard: ShardMap,
  ids: Iterable<string>,
): void {
  const others = [...ids].filter((id) => !ownsStream(shard, id));
  if (others.length === 0) return;
  log.warn("shard.other_streams", {
    shard: formatShard(shard),
    streams: others.length,
    first: others.slice(0, 5),
    hint: "these stored streams belong to other shards: move them with forecastd export " +
      "and import (docs/clustering.md), or delete them",
  });
}

/**
 * Says once when instances of several shards on one external broker would
 * share a per-instance topic: the retained status (each one's "offline"
 * would hide the others' "online") and Home Assistant's device ids.
 */
function warnSharedTopics(
  log: ReturnType<typeof createLogger>,
  cfg: Config,
  shard: ShardMap,
): void {
  if (cfg.mqttUrl === null || shard.count === 1) return;
  const shared = [
    ...(cfg.statusTopic === DEFAULT_CONFIG.statusTopic ? ["--status-topic"] : []),
    ...(cfg.haDiscovery && cfg.haNodeId === DEFAULT_CONFIG.haNodeId ? ["--ha-node-id"] : []),
  ];
  if (shared.length === 0) return;
  log.warn("shard.shared_topics", {
    shard: formatShard(shard),
    options: shared,
    hint: "every shard on this broker uses the default of these options: give each instance " +
      "its own (e.g. --status-topic forecastd/status/shard-" + shard.index +
      "), docs/clustering.md",
  });
}

/**
 * Refuses to serve the API without a token on an address other than
 * loopback, unless --allow-unauthenticated says so.
 */
function checkExposure(cfg: Config, tokens: ApiTokens): void {
  if (tokens.enabled || isLoopback(cfg.host) || cfg.allowUnauthenticated) return;
  throw new UsageError(
    `Cannot start forecastd: the HTTP API must have an API token to listen on ${
      JSON.stringify(cfg.host)
    }${isWildcard(cfg.host) ? " (every interface)" : ""}, or anyone who reaches the port could ` +
      "read and change every stream: current value is no token. Make one with forecastd token " +
      "and pass its hash with --api-token (or FORECASTD_API_TOKENS), listen on 127.0.0.1, or " +
      "accept the risk with --allow-unauthenticated",
  );
}

/**
 * The data directory lies outside what Deno lets the process write (a
 * `deno run` or a binary with other paths): the commands that allow it.
 */
function dataDirNotAllowed(dir: string, e: Error): UsageError {
  const flags = `--allow-read=${dir} --allow-write=${dir} --allow-sys=getPriority,setPriority`;
  return new UsageError(
    `Cannot start forecastd: Deno must be allowed to read and write the data directory ` +
      `(${e.message}): current value is ${JSON.stringify(dir)}. deno task start --data-dir ` +
      `${dir} grants it; with deno run, allow it:\n  deno run --v8-flags=--optimize-for-size ` +
      `--allow-net --allow-env ${flags} main.ts serve --data-dir ${dir}`,
  );
}

/** The certificate and key of --tls-cert and --tls-key, read once at start. */
async function readTls(cfg: Config): Promise<{ cert?: string; key?: string }> {
  if (cfg.tlsCert === null || cfg.tlsKey === null) return {};
  const read = async (flag: string, path: string) => {
    try {
      const text = await Deno.readTextFile(path);
      if (!text.includes("-----BEGIN ")) throw new Error("it holds no PEM block");
      return text;
    } catch (e) {
      throw new UsageError(
        `Cannot start forecastd: ${flag} must name a readable PEM file (${
          e instanceof Error ? e.message : String(e)
        }): current value is ${JSON.stringify(path)}`,
      );
    }
  };
  return { cert: await read("--tls-cert", cfg.tlsCert), key: await read("--tls-key", cfg.tlsKey) };
}

/**
 * The friendly start-up lines, one per endpoint (tests read the http: and
 * mqtt: lines), each written with `print` (stdout's, or none).
 */
function printEndpoints(
  print: (line: string) => void,
  cfg: Config,
  server: HttpServer,
  tokens: ApiTokens,
  mqtt: Mqtt,
  demo: import("../ingest/demo_source.ts").DemoSource | null,
  streams: number,
): void {
  const { addr } = server;
  const http = `${server.secure ? "https" : "http"}://${hostPort(addr.hostname, addr.port)}`;
  const wildcard = isWildcard(addr.hostname);
  const auth = tokens.enabled ? ' -H "Authorization: Bearer $TOKEN"' : "";
  print(`forecastd ${VERSION} is running`);
  print(
    `  http: ${http}/${wildcard ? " (every interface)" : ""}  ` +
      `try: curl${auth} ${http}/v1/streams`,
  );
  print(
    tokens.enabled
      ? `  auth: API tokens (${tokens.describe()}); /healthz and /readyz are open`
      : isLoopback(cfg.host)
      ? "  auth: none: loopback only, open to every user of this machine " +
        "(forecastd token makes a token)"
      : "  auth: none (--allow-unauthenticated): open to anyone who reaches the port",
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
  print(
    `  data: ${maskUrlPassword(kvPath(cfg))} (${streams} stream${
      streams === 1 ? "" : "s"
    } restored)`,
  );
  const shard = shardMap(cfg);
  if (shard !== null) {
    print(
      `  shard: ${formatShard(shard)}${
        shard.peers.length > 0 ? ` of ${shard.peers.join(", ")}` : ""
      } (other streams' calls are redirected there; docs/clustering.md)`,
    );
  }
  if (demo) {
    print(
      `  demo: stream "${demo.stream}" ${
        demo.topic ? `on ${demo.topic}` : "(fed directly)"
      }, a reading per second of simulated 5-minute data; watch ` +
        `curl ${http}/v1/streams/${demo.stream}/forecast and curl -N ${http}/v1/alerts/events`,
    );
  }
}
