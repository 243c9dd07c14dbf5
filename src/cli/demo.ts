/** `forecastd demo`: the offline demo, a simulated sensor learned in the console. */
import { runDemo } from "../demo.ts";
import { print } from "../log.ts";
import { parseCommandArgs } from "./args.ts";
import { UsageError } from "./usage_error.ts";

/** The command's help. */
export const DEMO_HELP = `Usage: forecastd demo [options]

Offline: learns a simulated room-temperature sensor in the console and prints the live forecast
error (no daemon, no KV). For the daemon with a simulated sensor: forecastd serve --demo.

Options:
  --readings N   readings to simulate (default 6000, one per 5 minutes)
  --hidden H     LSTM hidden units (default 32)
  --window T     TBPTT window (default 32)
  --seed S       seed of the sensor and the model (default 1)
  --every N      print a line every N readings (default 1000)
`;

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

/** Runs the offline demo; returns the exit status. */
export function demoCommand(args: string[]): number {
  const { values } = parseCommandArgs(
    "Cannot run demo",
    { args, options: DEMO_OPTIONS },
    DEMO_HELP,
  );
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
