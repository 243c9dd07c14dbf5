/**
 * forecastd: online forecasting and anomaly alerts for IoT gateways.
 *
 * Wiring only. `serve` (the default command): config -> data directory lock
 * -> open KV -> store -> service -> sources (MQTT, webhooks, demo) -> app ->
 * serve -> signals; shutdown in the reverse order under a hard-exit timer.
 * The other commands: export/import of a stream's model, the offline demo,
 * replay, version, help.
 */
import { parseArgs } from "node:util";
import { runDemo } from "./src/demo.ts";
import { runReplay } from "./src/replay/cli.ts";
import { CsvError } from "./src/replay/csv.ts";
import {
  type Config,
  ConfigError,
  formatConfig,
  formatOptionsHelp,
  kvPath,
  resolveConfig,
} from "./src/config.ts";
import { createLogger, type Logger, print } from "./src/log.ts";
import { Store } from "./src/store/store.ts";
import { Service } from "./src/service/service.ts";
import { type Mqtt, MqttConfigError, startMqtt } from "./src/ingest/mqtt.ts";
import { type DemoSource, startDemoSource } from "./src/ingest/demo_source.ts";
import { createApp } from "./src/api/app.ts";
import { startWebhooks } from "./src/alerts/webhook.ts";
import { DataDirBusyError, lockDataDir } from "./src/data_dir.ts";
import { decodeStreamFile, exportStream, importStream } from "./src/transfer/stream_file.ts";
import denoJson from "./deno.json" with { type: "json" };

const VERSION = denoJson.version;
/** Shutdown must finish within this, or the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 10_000;
/** Of which `server.shutdown()` may take this much (open SSE/WebSocket clients). */
const HTTP_SHUTDOWN_TIMEOUT_MS = 3_000;

const OPTIONS_HELP = formatOptionsHelp();

/** --help and --print-config, aligned with the options' help (whose second line is indented). */
function commandFlags(): string {
  const col = OPTIONS_HELP.split("\n")[1].search(/\S/);
  return [
    ["--help, -h", "print this help"],
    ["--print-config", "print the resolved configuration as JSON (secrets masked) and exit"],
  ].map(([flag, text]) => `  ${flag}`.padEnd(col) + text).join("\n");
}

const HELP = `forecastd ${VERSION}: online forecasting and anomaly alerts for IoT sensor streams

Usage:
  forecastd [serve] [options]           run the daemon (the default command)
  forecastd serve --demo [options]      the daemon with a simulated sensor: forecasts and an alert
                                        within a minute
  forecastd export STREAM [FILE] [options]
                                        write a stream's model (configuration and checkpoint, JSON)
                                        to FILE, or to stdout
  forecastd import STREAM FILE [--force] [options]
                                        read a model into the data directory as STREAM; the
                                        daemon must be stopped; --force replaces an existing stream
  forecastd demo [--readings N ...]     offline: learn a simulated sensor in the console
                                        (forecastd demo --help)
  forecastd replay FILE [options]       feed a CSV through the engine and score it
                                        (forecastd replay --help)
  forecastd version                     print the version
  forecastd help                        print this help

Options of serve, export and import. Each option is also an environment variable and a key of
the JSON file named by --config; a flag beats the variable, which beats the file:
${commandFlags()}
${OPTIONS_HELP}

Readings: publish to the MQTT broker (sensors/{stream}/{value} by default), or POST to
/v1/readings, or send over the WebSocket /v1/ingest/ws. Forecasts: GET
/v1/streams/{stream}/forecast. Alerts: /v1/alerts/events (SSE), /v1/alerts/ws, MQTT
forecastd/alerts/{stream}, webhooks. The HTTP API is described in docs/api.md.

SIGINT or SIGTERM stops the daemon: sources stop, requests finish, every changed model is
saved, Deno KV is closed; it exits within ${SHUTDOWN_TIMEOUT_MS / 1000} s in any case.
`;

const DEMO_HELP = `Usage: forecastd demo [options]

Offline: learns a simulated room-temperature sensor in the console and prints the live forecast
error (no daemon, no KV). For the daemon with a simulated sensor: forecastd serve --demo.

Options:
  --readings N   readings to simulate (default 6000, one per 5 minutes)
  --hidden H     LSTM hidden units (default 32)
  --window T     TBPTT window (default 32)
  --seed S       seed of the sensor and the model (default 1)
  --every N      print a line every N readings (default 1000)
`;

/** A failure a person can fix: printed without a stack, exit code 2. */
class UsageError extends Error {
  override name = "UsageError";
}

export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command.startsWith("-")) return await serve(args);
  switch (command) {
    case "serve":
      return await serve(rest);
    case "export":
      return await exportCommand(rest);
    case "import":
      return await importCommand(rest);
    case "demo":
      return offlineDemo(rest);
    // replay parses its own options
    case "replay":
      try {
        return await runReplay(rest, { dropPermissions: true });
      } catch (e) {
        // a bad option, file or row is the user's to fix: exit status 2
        if (e instanceof RangeError || e instanceof CsvError || e instanceof Deno.errors.NotFound) {
          throw new UsageError((e as Error).message);
        }
        throw e;
      }
    case "version":
      print(`forecastd ${VERSION} (deno ${Deno.version.deno})`);
      return 0;
    case "help":
      print(HELP);
      return 0;
    default:
      throw new UsageError(
        `Cannot run forecastd: the command must be one of serve, export, import, demo, replay, ` +
          `version, help: current value is ${JSON.stringify(command)} (forecastd help lists them)`,
      );
  }
}

/** The configuration from flags, FORECASTD_* variables and the --config file. */
function config(args: readonly string[]): Config {
  return resolveConfig({ args, env: Deno.env.toObject(), readFile: Deno.readTextFileSync });
}

// ---------------------------------------------------------------------------
// serve

async function serve(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    print(HELP);
    return 0;
  }
  const cfg = config(args);
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
  const service = new Service({ config: cfg, store, log });
  await service.load();
  service.start();

  let mqtt: Mqtt;
  try {
    mqtt = await startMqtt(service, cfg, log);
  } catch (e) {
    await service.close();
    kv.close();
    lock.release();
    if (e instanceof MqttConfigError) throw new UsageError(e.message);
    throw e;
  }
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
      service,
      broker: mqtt.connection,
      subscribed: mqtt.source?.ready,
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
  // 1. sources: no more readings in, no more alerts out over MQTT
  await demo?.close();
  await mqtt.close();
  // 2. HTTP: live alert streams end, requests in flight finish
  shutdownSignal.abort();
  await withTimeout(
    server.shutdown(),
    HTTP_SHUTDOWN_TIMEOUT_MS,
    () => log.warn("http.shutdown_timeout", { timeoutMs: HTTP_SHUTDOWN_TIMEOUT_MS }),
  );
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

/** Resolves with the first SIGINT/SIGTERM; a second one exits at once. */
function waitForSignal(log: Logger): Promise<Deno.Signal> {
  return new Promise((resolve) => {
    let received = false;
    const on = (signal: Deno.Signal) => () => {
      if (received) {
        log.warn("shutdown.forced", { signal });
        Deno.exit(130);
      }
      received = true;
      resolve(signal);
    };
    Deno.addSignalListener("SIGINT", on("SIGINT"));
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", on("SIGTERM"));
  });
}

async function withTimeout(p: Promise<void>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([
    p.then(() => false),
    new Promise<boolean>((r) => timer = setTimeout(() => r(true), ms)),
  ]).finally(() => clearTimeout(timer));
  if (timedOut) onTimeout();
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
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
    print(
      `  mqtt: ${mqtt.broker.url}  (embedded broker; publish readings to ` +
        `${cfg.mqttTopics.join(" or ")})`,
    );
  } else if (mqtt.brokerError) {
    print(`  mqtt: not running: ${mqtt.brokerError.message}`);
  } else {
    print(
      `  mqtt: ${mqtt.brokerUrl}  (external broker; readings from ${cfg.mqttTopics.join(", ")})`,
    );
  }
  print(`  alerts: ${http}/v1/alerts/events (SSE), MQTT ${cfg.alertTopicPrefix}/{stream}`);
  print(`  docs: README.md and docs/ (HTTP API: docs/api.md); --help for the options`);
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

// ---------------------------------------------------------------------------
// export / import

/** Leading arguments that are not options (at most `max`), and the rest. */
function splitPositionals(args: string[], max: number): [string[], string[]] {
  let n = 0;
  while (n < max && n < args.length && !args[n].startsWith("-")) n++;
  return [args.slice(0, n), args.slice(n)];
}

async function exportCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    print(HELP);
    return 0;
  }
  const [[id, file], rest] = splitPositionals(args, 2);
  if (id === undefined) {
    throw new UsageError(
      "Cannot export: the command must name a stream: forecastd export STREAM [FILE] [options]",
    );
  }
  const cfg = config(rest);
  const path = kvPath(cfg);
  try {
    await Deno.stat(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new UsageError(
      `Cannot export stream ${JSON.stringify(id)}: the data directory must hold a KV file: ` +
        `${path} does not exist (is --data-dir right?)`,
    );
  }
  const kv = await Deno.openKv(path);
  let text: string;
  try {
    text = await exportStream(new Store(kv), id, VERSION, path);
  } catch (e) {
    throw new UsageError((e as Error).message);
  } finally {
    kv.close();
  }
  if (file === undefined || file === "-") print(text.trimEnd());
  else {
    await Deno.writeTextFile(file, text);
    console.error(`forecastd: exported stream "${id}" from ${path} to ${file}`);
  }
  return 0;
}

async function importCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    print(HELP);
    return 0;
  }
  const [[id, file], rest] = splitPositionals(args, 2);
  if (id === undefined || file === undefined) {
    throw new UsageError(
      "Cannot import: the command must name a stream and a file: " +
        "forecastd import STREAM FILE [--force] [options]",
    );
  }
  const force = rest.includes("--force");
  const cfg = config(rest.filter((a) => a !== "--force"));
  let text: string;
  try {
    text = file === "-"
      ? await new Response(Deno.stdin.readable).text()
      : await Deno.readTextFile(file);
  } catch (e) {
    throw new UsageError(
      `Cannot import ${file}: the file must be readable: ${(e as Error).message}`,
    );
  }
  let decoded;
  try {
    decoded = await decodeStreamFile(text, file);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let lock;
  try {
    lock = await lockDataDir(cfg.dataDir, `Cannot import stream ${JSON.stringify(id)}`);
  } catch (e) {
    if (e instanceof DataDirBusyError) throw new UsageError(e.message);
    throw e;
  }
  const path = kvPath(cfg);
  const kv = await Deno.openKv(path);
  try {
    const r = await importStream(new Store(kv), id, decoded, cfg, { force, where: path });
    console.error(
      `forecastd: imported stream "${r.stream}" (${r.bytes} bytes of model, exported from ` +
        `"${decoded.stream}" by forecastd ${decoded.forecastd} at ${decoded.exportedAt}) into ` +
        `${path}${r.replaced ? ", replacing the stream there" : ""}`,
    );
  } catch (e) {
    throw new UsageError((e as Error).message);
  } finally {
    kv.close();
    lock.release();
  }
  return 0;
}

// ---------------------------------------------------------------------------
// the offline demo

const DEMO_OPTIONS = {
  help: { type: "boolean", short: "h" },
  readings: { type: "string" },
  hidden: { type: "string" },
  window: { type: "string" },
  seed: { type: "string" },
  every: { type: "string" },
} as const;

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(
      `Cannot run demo: --${name} must be a positive integer: current value is "${value}"`,
    );
  }
  return n;
}

function offlineDemo(args: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({ args, options: DEMO_OPTIONS }));
  } catch (e) {
    throw new UsageError(`Cannot run demo: ${(e as Error).message}\n\n${DEMO_HELP}`);
  }
  if (values.help) {
    print(DEMO_HELP);
    return 0;
  }
  runDemo({
    readings: positiveInt("readings", values.readings, 6000),
    hidden: positiveInt("hidden", values.hidden, 32),
    window: positiveInt("window", values.window, 32),
    seed: positiveInt("seed", values.seed, 1),
    every: positiveInt("every", values.every, 1000),
  }, print);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError || e instanceof DataDirBusyError) {
      console.error(e.message);
      Deno.exit(2);
    }
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      console.error(`Cannot run forecastd: ${e.message}`);
      Deno.exit(2);
    }
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    Deno.exit(1);
  }
}
