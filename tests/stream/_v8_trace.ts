/**
 * Runs a Deno script in a child process with V8 flags that trace what its
 * compilers do (`--trace-deopt`, `--trace-generalization`) and hands back
 * the lines of its stdout, where V8 writes the trace. The test fails, naming
 * the script and its exit code, when the child does. Imported by
 * tests/stream/state_osr_test.ts and tests/stream/double_fields_test.ts.
 */
import assert from "node:assert/strict";

/** What to run besides the script: its permissions (before it) and its arguments (after). */
export interface V8TraceRun {
  /** Deno's permission flags for the child (`--allow-read`). Default: none. */
  permissions?: string[];
  /** The script's own arguments. Default: none. */
  args?: string[];
}

/** The stdout lines of `deno run --v8-flags=<v8Flags> <script>` (its stderr is dropped). */
export async function v8Trace(
  v8Flags: string,
  script: URL,
  { permissions = [], args = [] }: V8TraceRun = {},
): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", `--v8-flags=${v8Flags}`, ...permissions, script.pathname, ...args],
    stdout: "piped",
    stderr: "null",
  }).output();
  const name = script.pathname.split("/").at(-1);
  assert.ok(out.success, `${name} exit code ${out.code}`);
  return new TextDecoder().decode(out.stdout).split("\n");
}
