/**
 * The benchmark's command-line flags, resolved to a config with no undefined
 * fields.
 *
 *   --H=32,64,128     hidden sizes to run (default 32,64,128)
 *   --dtype=f32|f64   float type of the whole run (default f32); run each in
 *                     its own process so V8's type feedback stays monomorphic
 *   --loops=false     skip the typed-array loop reference (default true)
 */

/** The resolved benchmark settings. */
export interface BenchConfig {
  hidden: number[];
  dtype: "f32" | "f64";
  loops: boolean;
}

/** Parses `--key=value` flags; throws naming the flag and its value when one is bad. */
export function parseBenchArgs(argv: readonly string[]): BenchConfig {
  const config: BenchConfig = { hidden: [32, 64, 128], dtype: "f32", loops: true };
  for (const arg of argv) {
    const m = /^--([^=]+)=(.*)$/.exec(arg);
    if (!m) {
      throw new RangeError(
        `Cannot parse benchmark flags: each must look like --name=value: current value is "${arg}"`,
      );
    }
    const [, name, value] = m;
    if (name === "H") {
      config.hidden = value.split(",").map((s) => Number(s));
      for (const H of config.hidden) {
        if (!Number.isInteger(H) || H < 1 || H > 4096) {
          throw new RangeError(
            `Cannot parse benchmark flags: --H must list integers from 1 to 4096: current value is "${value}"`,
          );
        }
      }
    } else if (name === "dtype") {
      if (value !== "f32" && value !== "f64") {
        throw new RangeError(
          `Cannot parse benchmark flags: --dtype must be f32 or f64: current value is "${value}"`,
        );
      }
      config.dtype = value;
    } else if (name === "loops") {
      if (value !== "true" && value !== "false") {
        throw new RangeError(
          `Cannot parse benchmark flags: --loops must be true or false: current value is "${value}"`,
        );
      }
      config.loops = value === "true";
    } else {
      throw new RangeError(
        `Cannot parse benchmark flags: the flag must be one of --H, --dtype, --loops: current value is "--${name}"`,
      );
    }
  }
  return config;
}
