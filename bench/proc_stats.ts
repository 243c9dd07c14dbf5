/**
 * What the benches read of a process and of the machine from /proc: CPU
 * seconds per thread role and the load average (the machine is shared, so
 * every figure is printed beside it). Linux only.
 */

/**
 * CPU seconds (utime + stime) of each thread of process `pid`, summed by
 * role: "main" (the thread whose id is the pid: sources, broker, API),
 * "workers" (threads named `worker-*`: the Deno Workers, the shard workers),
 * "other" (the runtime's own threads: garbage collection, compilation, I/O).
 */
export function threadCpu(pid: number): { main: number; workers: number; other: number } {
  const out = { main: 0, workers: 0, other: 0 };
  // Deno reads /proc/<pid>/task only with --allow-all: through the shell
  const cmd = new Deno.Command("sh", {
    args: ["-c", `cat /proc/${pid}/task/*/stat`],
    stderr: "null",
  });
  for (const line of new TextDecoder().decode(cmd.outputSync().stdout).split("\n")) {
    const close = line.lastIndexOf(")");
    if (close < 0) continue;
    const tid = line.slice(0, line.indexOf(" "));
    const comm = line.slice(line.indexOf("(") + 1, close);
    const x = line.slice(close + 2).split(" ");
    const sec = (Number(x[11]) + Number(x[12])) / 100;
    if (tid === String(pid)) out.main += sec;
    else if (comm.startsWith("worker-")) out.workers += sec;
    else out.other += sec;
  }
  return out;
}

/**
 * CPU seconds (utime + stime) of this process, all threads (Deno asks for
 * every permission to read /proc/self: through `cat`).
 */
export function ownCpu(): number {
  const out = new Deno.Command("cat", { args: [`/proc/${Deno.pid}/stat`] }).outputSync();
  const s = new TextDecoder().decode(out.stdout);
  const x = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return (Number(x[11]) + Number(x[12])) / 100;
}

/** The machine's 1-minute load average (others' jobs run here too). */
export function loadavg(): number {
  const out = new Deno.Command("cat", { args: ["/proc/loadavg"] }).outputSync();
  return Number(new TextDecoder().decode(out.stdout).split(" ")[0]);
}
