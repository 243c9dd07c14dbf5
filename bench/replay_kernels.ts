/**
 * `deno task replay` with the kernels chosen: the same replay (src/replay/cli.ts)
 * after useKernels(), so that one file can be scored with the WebAssembly and
 * the TypeScript kernels (src/model/kernels.ts) and the results compared.
 *
 *   deno run --allow-read --allow-write --allow-env bench/replay_kernels.ts \
 *     --kernels=wasm|ts FILE [replay options]
 *
 * The first argument must be --kernels; a bad one, or a bad replay option,
 * file or row, ends the run with status 2.
 */
import { runReplay } from "../src/replay/cli.ts";
import { CsvError } from "../src/replay/csv.ts";
import { useKernels } from "../src/model/kernels.ts";
import { exitOnFlagError, oneOf, parseFlags } from "./args.ts";

const [first = "", ...rest] = Deno.args;
const { kernels } = exitOnFlagError(() =>
  parseFlags(
    [first],
    { kernels: oneOf(["wasm", "ts"] as const) },
    "Cannot parse replay_kernels flags",
  )
);
useKernels(kernels);
try {
  Deno.exit(await runReplay(rest, { dropPermissions: true }));
} catch (e) {
  // as main.ts: a bad option, file or row is the user's to fix, exit status 2
  if (e instanceof RangeError || e instanceof CsvError || e instanceof Deno.errors.NotFound) {
    console.error(e.message);
    Deno.exit(2);
  }
  throw e;
}
