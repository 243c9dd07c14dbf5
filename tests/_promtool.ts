/**
 * Prometheus' own tools in tests, when installed (Debian: `apt-get install
 * -y prometheus`, which brings promtool and prometheus): whether a program
 * is there, and promtool run on a text given on its stdin.
 */

/** True when `program --version` runs. */
export async function installed(program: string): Promise<boolean> {
  try {
    await new Deno.Command(program, { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Runs `promtool ...args` with `stdin`; its exit code and what it printed (stdout, stderr). */
export async function promtool(
  args: string[],
  stdin = "",
): Promise<{ code: number; out: string }> {
  const child = new Deno.Command("promtool", {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
}
