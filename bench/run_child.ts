/**
 * A bench that measures a window in a fresh process of its own runs itself
 * again as its child: the same script and arguments with `--child=true`,
 * V8's flags and the permissions it names; the child's stdout is what the
 * parent reads (its stderr goes to the parent's).
 *
 * ```ts
 * const text = await runChild(import.meta.url, ["--trace-opt"], ["--allow-run=sh"], "the window");
 * ```
 */

/**
 * Runs `script` (a file: URL) again with this process's arguments and
 * `--child=true`, under `v8Flags` (empty ones left out; none: no flag) and
 * `permissions` (besides reading, writing /tmp, the environment and KV);
 * its stdout as text. Throws, naming `what`, when it fails.
 */
export async function runChild(
  script: string,
  v8Flags: readonly string[],
  permissions: readonly string[],
  what: string,
): Promise<string> {
  const flags = v8Flags.filter((x) => x !== "").join(",");
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...(flags === "" ? [] : [`--v8-flags=${flags}`]),
      "--allow-read",
      "--allow-write=/tmp",
      "--allow-env",
      ...permissions,
      "--unstable-kv",
      new URL(script).pathname,
      ...Deno.args,
      "--child=true",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`Cannot run ${what}: exit code ${out.code}`);
  return new TextDecoder().decode(out.stdout);
}
