/**
 * Every byte the stream engine allocates a reading, warm-up and compilers
 * included (not part of the test suite): runs `bench/engine_load.ts` (100
 * default streams by default: stream creation, 100 readings a stream of
 * warm-up, then `readings` more) as a child under V8's `--trace-gc-nvp` and
 * `--expose-gc`, and sums the `allocated` of V8's lines, from the isolate's
 * start to the collection engine_load forces at its end (so nothing is left
 * uncounted). `bytesPerReading` divides the sum by `readings` (the timed
 * readings, as issue 13's figure of 8.9 KB did); `bytesPerFedReading` by
 * every reading fed, the warm-up's included. With `--v8-flags=--no-turbofan`
 * every optimised function stays in V8's mid tier (Maglev), whose garbage
 * a normal run makes only until TurboFan takes over: a magnifier for it.
 *
 *   deno run --allow-run --allow-read bench/alloc_per_reading.ts [--streams=100] \
 *     [--readings=20000] [--preset=default] [--v8-flags=]
 *
 * One `RESULT {json}` line on stdout.
 */
import { exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";

/** The warm-up readings engine_load feeds each stream before its timed ones. */
const WARM_UP = 100;

/**
 * The bytes V8's `--trace-gc-nvp` lines in `out` say were allocated (the sum
 * of their `allocated`), and how many lines there were. Other output may
 * share the text, even cut into a line.
 */
export function sumAllocated(out: string): { bytes: number; collections: number } {
  let bytes = 0, collections = 0;
  for (const m of out.matchAll(/ ms: GC: \{[^\n]*?"allocated":(\d+)/g)) {
    bytes += Number(m[1]);
    collections++;
  }
  return { bytes, collections };
}

if (import.meta.main) {
  const f = exitOnFlagError(() =>
    parseFlags(Deno.args, {
      streams: integer(100),
      readings: integer(20000),
      preset: text("a preset name or a preset JSON file", "default"),
      "v8-flags": text("V8 flags of the engine's run", ""),
    }, "Cannot parse alloc_per_reading flags")
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--v8-flags=--trace-gc-nvp,--expose-gc${f["v8-flags"] ? "," + f["v8-flags"] : ""}`,
      "--allow-read",
      new URL("./engine_load.ts", import.meta.url).pathname,
      `--streams=${f.streams}`,
      `--readings=${f.readings}`,
      `--preset=${f.preset}`,
    ],
    stderr: "inherit",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const load = /RESULT (\{[^\n]*\})/.exec(stdout);
  if (!out.success || load === null) {
    console.error(`Cannot measure allocation: bench/engine_load.ts failed: status ${out.code}`);
    Deno.exit(1);
  }
  const { bytes, collections } = sumAllocated(stdout);
  const fed = f.readings + f.streams * WARM_UP;
  emitResult({
    bench: "alloc_per_reading",
    preset: f.preset,
    streams: f.streams,
    readings: f.readings,
    warmUpReadings: f.streams * WARM_UP,
    collections,
    allocatedBytes: bytes,
    bytesPerReading: Math.round(bytes / f.readings),
    bytesPerFedReading: Math.round(bytes / fed),
    cpuUsPerReading: JSON.parse(load[1]).cpuUsPerReading,
    v8Flags: f["v8-flags"],
  });
}
