/**
 * A neighbour for bench/worker_pairing.ts (not part of the test suite): one
 * thread busy until killed, of one kind:
 *
 * - `alu`: a chain of dependent multiply-adds (bench/cpu_probe.ts's
 *   `aluChain`): the core busy, no memory traffic (a few registers);
 * - `mem`: reads and writes every element of a 256 MiB array in turn: the
 *   memory bandwidth the host shares, and every cache level flushed;
 * - `llc`: reads of a 24 MiB array 4,099 elements apart (bench/cpu_probe.ts's
 *   `strideReads`): the last-level cache held, little bandwidth.
 *
 *   deno run bench/burner.ts --kind=alu|mem|llc
 *
 * Prints `BURNING` once its array is made, then nothing.
 */
import { exitOnFlagError, oneOf, parseFlags } from "./args.ts";
import { aluChain, strideReads } from "./cpu_probe.ts";

const f = exitOnFlagError(() =>
  parseFlags(
    Deno.args,
    { kind: oneOf(["alu", "mem", "llc"] as const, "alu") },
    "Cannot parse burner flags",
  )
);

let sink = 0;
if (f.kind === "alu") {
  console.log("BURNING");
  for (;;) sink += aluChain(1_000_000);
} else if (f.kind === "mem") {
  const a = new Float64Array(32 << 20);
  console.log("BURNING");
  for (;;) {
    for (let i = 0; i < a.length; i++) a[i] += 1;
    sink += a[sink & 1023];
  }
} else {
  const a = new Float64Array(3 << 20).map((_, i) => i % 7);
  console.log("BURNING");
  for (;;) sink += strideReads(a, 1_000_000);
}
