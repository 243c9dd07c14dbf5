/**
 * What the benches read of a process and of the machine from /proc: CPU
 * seconds per thread role and the load average (the machine is shared, so
 * every figure is printed beside it). Linux only.
 */

/** CPU seconds of a process's threads: by role, and by thread name. */
export interface ThreadCpu {
  /** The thread whose id is the pid: sources, broker, API. */
  main: number;
  /** Threads named `worker-*`: the Deno Workers, the shard workers. */
  workers: number;
  /** The runtime's own threads: garbage collection, compilation, I/O, KV. */
  other: number;
  /**
   * Every thread's seconds summed by its name (`/proc/<pid>/task/<tid>/comm`,
   * at most 15 characters) with a trailing number made `#` (`worker-#`,
   * `tokio-runtime-w`, `V8 DefaultWorke`, ...); the main thread as `main`.
   */
  byName: Record<string, number>;
  /**
   * Every thread's seconds by its own name, the number kept (`worker-1`,
   * `worker-2`: each shard worker apart); threads of one name summed, the
   * main thread as `main`.
   */
  byThread: Record<string, number>;
}

/**
 * CPU seconds (utime + stime) of each thread of process `pid`, summed by
 * role (`main`, `workers`, `other`) and by thread name (`byName`).
 */
export function threadCpu(pid: number): ThreadCpu {
  return parseThreadCpu(pid, taskStats(pid).outputSync().stdout);
}

/**
 * threadCpu() without blocking the caller's event loop while `cat` runs (a
 * bench that publishes from the same thread samples with it every second).
 */
export async function threadCpuAsync(pid: number): Promise<ThreadCpu> {
  return parseThreadCpu(pid, (await taskStats(pid).output()).stdout);
}

/** Every thread's /proc stat line: Deno reads /proc/<pid>/task only with --allow-all, so the shell. */
function taskStats(pid: number): Deno.Command {
  return new Deno.Command("sh", { args: ["-c", `cat /proc/${pid}/task/*/stat`], stderr: "null" });
}

function parseThreadCpu(pid: number, stat: Uint8Array): ThreadCpu {
  const out: ThreadCpu = { main: 0, workers: 0, other: 0, byName: {}, byThread: {} };
  for (const line of new TextDecoder().decode(stat).split("\n")) {
    const close = line.lastIndexOf(")");
    if (close < 0) continue;
    const tid = line.slice(0, line.indexOf(" "));
    const comm = line.slice(line.indexOf("(") + 1, close);
    const x = line.slice(close + 2).split(" ");
    const sec = (Number(x[11]) + Number(x[12])) / 100;
    const name = tid === String(pid) ? "main" : comm.replace(/\d+$/, "#");
    out.byName[name] = (out.byName[name] ?? 0) + sec;
    const own = tid === String(pid) ? "main" : comm;
    out.byThread[own] = (out.byThread[own] ?? 0) + sec;
    if (tid === String(pid)) out.main += sec;
    else if (comm.startsWith("worker-")) out.workers += sec;
    else out.other += sec;
  }
  return out;
}

/**
 * `byName` of `after` less that of `before` (threads may have started
 * between them), each in µs per `per` (readings), the largest first, those
 * under 0.5 µs left out.
 */
export function byNamePer(
  before: ThreadCpu,
  after: ThreadCpu,
  per: number,
): Record<string, number> {
  const rows = Object.entries(after.byName)
    .map(([k, v]) => [k, Math.round((v - (before.byName[k] ?? 0)) / per * 1e6)] as const)
    .filter(([, us]) => us > 0)
    .sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(rows);
}

/**
 * CPU seconds (utime + stime) of this process, all threads (Deno asks for
 * every permission to read /proc/self: through `cat`).
 */
export function ownCpu(): number {
  return processCpu(Deno.pid);
}

/** CPU seconds (utime + stime) of process `pid`, all threads. */
export function processCpu(pid: number): number {
  const out = new Deno.Command("cat", { args: [`/proc/${pid}/stat`] }).outputSync();
  const s = new TextDecoder().decode(out.stdout);
  const x = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return (Number(x[11]) + Number(x[12])) / 100;
}

/** The machine's 1-minute load average (others' jobs run here too). */
export function loadavg(): number {
  const out = new Deno.Command("cat", { args: ["/proc/loadavg"] }).outputSync();
  return Number(new TextDecoder().decode(out.stdout).split(" ")[0]);
}
