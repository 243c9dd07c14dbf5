/** The configuration of a command, from its flags and the process's environment and files. */
import { type Config, resolveConfig } from "../config/mod.ts";

/** The configuration from `args`, FORECASTD_* variables and the --config file. */
export function loadConfig(args: readonly string[]): Config {
  return resolveConfig({ args, env: Deno.env.toObject(), readFile: Deno.readTextFileSync });
}
