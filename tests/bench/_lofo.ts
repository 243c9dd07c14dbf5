/** bench/lofo.ts as the tests run it: the synthetic corpus, seed 1, in a directory of the test's. */

const LOFO = new URL("../../bench/lofo.ts", import.meta.url).pathname;

/** Runs bench/lofo.ts `--corpus=synthetic --seeds=1 --out=OUT` with `args`; its status and output. */
export async function runLofo(
  out: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write=/tmp",
      "--allow-run",
      "--allow-env",
      LOFO,
      "--corpus=synthetic",
      "--seeds=1",
      `--out=${out}`,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}
