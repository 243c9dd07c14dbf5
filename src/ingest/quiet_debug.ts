/**
 * The `debug` package, as the MQTT packages load it, made free when it is
 * off. mqtt-packet (aedes's and MQTT.js's parser and writer) calls its
 * `debug` loggers at every step of every packet, some twenty times a
 * PUBLISH and its PUBACK: each call of `debug` builds its arguments' rest
 * array before it finds itself disabled, about a fifth of the bytes the main
 * thread allocated a reading (docs/scaling.md). The loggers are made when
 * those packages are first loaded (`require("debug")("mqtt-packet:parser")`),
 * so this module, imported before them, hands them loggers that do nothing.
 *
 * Unless `DEBUG` is set when forecastd starts: then the packages get the real
 * `debug` and print what it selects, as before. Without `DEBUG` nothing is
 * printed either way; the one difference is that `debug.enable()` called
 * later no longer turns their loggers on (forecastd never calls it).
 *
 * ```ts
 * import "./quiet_debug.ts"; // before the first import of aedes, mqtt or mqtt-packet
 * import { Aedes } from "aedes";
 * ```
 */
import Module from "node:module";

/** A logger of the `debug` package that is off and stays off. */
interface QuietLogger {
  (...args: unknown[]): void;
  namespace: string;
  enabled: boolean;
  extend(sub: string, delimiter?: string): QuietLogger;
  log: (...args: unknown[]) => void;
  destroy: () => boolean;
}

function ignore(): void {}

/** A disabled logger: calling it passes its arguments on the stack and allocates nothing. */
function quietLogger(namespace: string): QuietLogger {
  const logger = function debug() {} as unknown as QuietLogger;
  logger.namespace = namespace;
  logger.enabled = false;
  logger.extend = (sub, delimiter = ":") => quietLogger(`${namespace}${delimiter}${sub}`);
  logger.log = ignore;
  logger.destroy = () => false;
  return logger;
}

/** What `require("debug")` returns: the factory, with the package's switches, all off. */
const quietDebug = Object.assign((namespace: string) => quietLogger(namespace), {
  enable: ignore,
  disable: () => "",
  enabled: () => false,
  names: [] as RegExp[],
  skips: [] as RegExp[],
  formatters: {} as Record<string, unknown>,
  log: ignore,
  default: null as unknown,
  debug: null as unknown,
});
// the package names itself under both (`import debug from "debug"` and `require("debug").debug`)
quietDebug.default = quietDebug;
quietDebug.debug = quietDebug;

/** True when `DEBUG` names something to print (unreadable counts as unset, as for `debug`). */
function debugWanted(): boolean {
  try {
    return (Deno.env.get("DEBUG") ?? "") !== "";
  } catch {
    return false;
  }
}

/** Set once the hook is in: a second copy of this module (another URL) adds no second one. */
const QUIET = Symbol.for("forecastd.quietDebug");
type Load = (request: string, ...rest: unknown[]) => unknown;
const loader = Module as unknown as { _load: Load; [QUIET]?: true };

if (!loader[QUIET] && !debugWanted()) {
  const load = loader._load;
  loader._load = function (this: unknown, request: string, ...rest: unknown[]) {
    return request === "debug" ? quietDebug : load.call(this, request, ...rest);
  };
  loader[QUIET] = true;
}
