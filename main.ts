/**
 * forecastd: online LSTM forecasting for IoT gateways.
 *
 * Wiring only: parse the command line, run the subcommand.
 */
import { parseArgs } from "node:util";
import { runDemo } from "./src/demo.ts";
import { runReplay } from "./src/replay/cli.ts";
import denoJson from "./deno.json" with { type: "json" };

const HELP = `forecastd ${denoJson.version}: online LSTM forecasting for IoT gateways

Usage:
  forecastd [demo] [options]   learn a simulated sensor online and print the live forecast error
  forecastd replay FILE [opts] feed a CSV through the engine reading by reading and score it
                               (forecastd replay --help lists the options)
  forecastd version            print the version
  forecastd help               print this help

Demo options:
  --readings N   readings to simulate (default 6000, one per 5 minutes)
  --hidden H     LSTM hidden units (default 32)
  --window T     TBPTT window (default 32)
  --seed S       seed of the sensor and the model (default 1)
  --every N      print a line every N readings (default 1000)
`;

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot run demo: --${name} must be a positive integer: current value is "${value}"`,
    );
  }
  return n;
}

export async function main(args: string[]): Promise<number> {
  // replay parses its own options (the demo's parser below is strict and would refuse them)
  if (args[0] === "replay") return await runReplay(args.slice(1), { dropPermissions: true });
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      readings: { type: "string" },
      hidden: { type: "string" },
      window: { type: "string" },
      seed: { type: "string" },
      every: { type: "string" },
    },
  });
  const command = positionals[0] ?? "demo";
  if (values.help || command === "help") {
    console.log(HELP);
    return 0;
  }
  switch (command) {
    case "version":
      console.log(`forecastd ${denoJson.version} (deno ${Deno.version.deno})`);
      return 0;
    case "demo":
      runDemo({
        readings: positiveInt("readings", values.readings, 6000),
        hidden: positiveInt("hidden", values.hidden, 32),
        window: positiveInt("window", values.window, 32),
        seed: positiveInt("seed", values.seed, 1),
        every: positiveInt("every", values.every, 1000),
      }, (line) => console.log(line));
      return 0;
    default:
      console.error(`Cannot run forecastd: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    Deno.exit(2);
  }
}
